/* A guest's virtio-net driver side, played by tests and benchmarks: RX and
 * TX split rings in a block of "guest memory", one 2 KiB buffer per
 * descriptor, and a struct net (the VMM's forwarding state) wired to them
 * and to one link. Header-only: each user includes it once. */
#ifndef MULTIVM_GUEST_MODEL_H
#define MULTIVM_GUEST_MODEL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/link.h"
#include "vmm/net.h"

#define GM_QN	256
#define GM_GPA	0x100000ULL
#define GM_BUF	2048

struct guest {
	uint8_t *mem;
	size_t size, ring_bytes;
	struct memmap map;
	struct virtq rx, tx;		/* the device view, used by net */
	uint16_t rx_avail, tx_avail;	/* driver's next avail index */
	uint16_t rx_seen;		/* used entries of RX consumed */
	struct vm_stats st;
	struct net net;
};

static inline void guest_init(struct guest *g, const uint8_t mac[6], struct link *links, unsigned nlinks)
{
	size_t ao, uo;
	struct mem_region r = { .gpa = GM_GPA };
	unsigned i;

	memset(g, 0, sizeof(*g));
	g->ring_bytes = (vq_ring_size(GM_QN, &ao, &uo) + 4095) & ~(size_t)4095;
	g->size = 2 * g->ring_bytes + 2 * GM_QN * GM_BUF;
	g->mem = aligned_alloc(4096, g->size);
	memset(g->mem, 0, g->size);
	r.size = g->size;
	r.host = g->mem;
	memmap_add(&g->map, &r);
	vq_init(&g->rx, GM_QN, g->mem, g->mem + ao, g->mem + uo, &g->map, true, false);
	vq_init(&g->tx, GM_QN, g->mem + g->ring_bytes, g->mem + g->ring_bytes + ao,
		g->mem + g->ring_bytes + uo, &g->map, true, false);
	memcpy(g->net.mac, mac, 6);
	g->net.rxq = &g->rx;
	g->net.txq = &g->tx;
	g->net.links = links;
	g->net.nlinks = nlinks;
	g->net.st = &g->st;
	for (i = 0; i < nlinks; i++)
		links[i].st = &g->st.link[i];
}

static inline uint64_t guest_buf(const struct guest *g, int tx, unsigned i)
{
	return GM_GPA + 2 * g->ring_bytes + ((size_t)tx * GM_QN + i) * GM_BUF;
}

static inline uint8_t *guest_ptr(const struct guest *g, uint64_t gpa)
{
	return g->mem + (gpa - GM_GPA);
}

/* Makes n RX buffers available (fewer if the ring is full). */
static inline void guest_post_rx(struct guest *g, unsigned n)
{
	uint16_t used = __atomic_load_n(&g->rx.used->idx, __ATOMIC_ACQUIRE);

	while (n-- && (uint16_t)(g->rx_avail - used) < GM_QN) {
		unsigned i = g->rx_avail % GM_QN;

		g->rx.desc[i] = (struct vring_desc){ guest_buf(g, 0, i), GM_BUF, VRING_DESC_F_WRITE, 0 };
		g->rx.avail->ring[i] = i;
		g->rx_avail++;
	}
	__atomic_store_n(&g->rx.avail->idx, g->rx_avail, __ATOMIC_RELEASE);
}

/* Queues one frame (12-byte zero header + frame) for TX. */
static inline void guest_send(struct guest *g, const void *frame, uint32_t len)
{
	unsigned i = g->tx_avail % GM_QN;
	uint8_t *p = guest_ptr(g, guest_buf(g, 1, i));

	memset(p, 0, NET_HDR_LEN);
	memcpy(p + NET_HDR_LEN, frame, len);
	g->tx.desc[i] = (struct vring_desc){ guest_buf(g, 1, i), NET_HDR_LEN + len, 0, 0 };
	g->tx.avail->ring[i] = i;
	g->tx_avail++;
	__atomic_store_n(&g->tx.avail->idx, g->tx_avail, __ATOMIC_RELEASE);
}

/* Queues one frame after the given virtio-net header, in one descriptor
 * that may run over the following TX buffers (a TSO frame): send it
 * before queueing more. */
static inline void guest_send_hdr(struct guest *g, const void *hdr, const void *frame, uint32_t len)
{
	unsigned i = g->tx_avail % GM_QN;
	uint8_t *p = guest_ptr(g, guest_buf(g, 1, i));

	memcpy(p, hdr, NET_HDR_LEN);
	memcpy(p + NET_HDR_LEN, frame, len);
	g->tx.desc[i] = (struct vring_desc){ guest_buf(g, 1, i), NET_HDR_LEN + len, 0, 0 };
	g->tx.avail->ring[i] = i;
	g->tx_avail++;
	__atomic_store_n(&g->tx.avail->idx, g->tx_avail, __ATOMIC_RELEASE);
}

/* Next received frame, reassembled from its num_buffers RX buffers
 * (MRG_RXBUF) into out (header included): returns its length or 0. */
static inline uint32_t guest_recv_merged(struct guest *g, uint8_t *out, uint32_t max)
{
	struct vring_used_elem *e;
	uint32_t have = 0, n, k;

	for (k = 0, n = 1; k < n; k++) {
		if (__atomic_load_n(&g->rx.used->idx, __ATOMIC_ACQUIRE) == g->rx_seen)
			return 0;
		e = &g->rx.used->ring[g->rx_seen++ % GM_QN];
		if (have + e->len > max)
			return 0;
		memcpy(out + have, guest_ptr(g, g->rx.desc[e->id].addr), e->len);
		have += e->len;
		if (k == 0)
			n = out[10] | out[11] << 8;
	}
	return have;
}

/* Next received frame: returns its length (with header) or 0. */
static inline uint32_t guest_recv(struct guest *g, uint8_t **data)
{
	struct vring_used_elem *e;

	if (__atomic_load_n(&g->rx.used->idx, __ATOMIC_ACQUIRE) == g->rx_seen)
		return 0;
	e = &g->rx.used->ring[g->rx_seen++ % GM_QN];
	*data = guest_ptr(g, g->rx.desc[e->id].addr);
	return e->len;
}

/* A link between two ends in this process; each end owns dup'd fds. */
static inline int link_pair(struct link *a, struct link *b, unsigned qsize,
			    const uint8_t mac_a[6], const uint8_t mac_b[6])
{
	struct link_res r;
	int rc = link_create(&r, qsize, "vm0", "vm1");

	if (rc < 0)
		return rc;
	rc = link_attach(a, dup(r.memfd), 0, qsize, dup(r.kick[1]), dup(r.kick[0]), "vm1");
	if (!rc)
		rc = link_attach(b, dup(r.memfd), 1, qsize, dup(r.kick[0]), dup(r.kick[1]), "vm0");
	memcpy(a->peer_mac, mac_b, 6);
	memcpy(b->peer_mac, mac_a, 6);
	link_res_close(&r);
	return rc;
}

/* Guests a and b joined by one link (a's end la, b's end lb), each guest
 * with that one link: the set-up every two-VM test and fuzzer starts from. */
static inline int guest_pair_init(struct guest *a, struct guest *b, struct link *la, struct link *lb,
				  const uint8_t mac_a[6], const uint8_t mac_b[6])
{
	int rc = link_pair(la, lb, 64, mac_a, mac_b);

	if (rc < 0)
		return rc;
	guest_init(a, mac_a, la, 1);
	guest_init(b, mac_b, lb, 1);
	return 0;
}

static inline void guest_pair_free(struct guest *a, struct guest *b, struct link *la, struct link *lb)
{
	link_detach(la);
	link_detach(lb);
	free(a->mem);
	free(b->mem);
}

#endif
