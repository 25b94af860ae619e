/* Forwarding benchmark: the real per-frame path, guest A's TX ring ->
 * net_tx -> link -> net_rx -> guest B's RX ring, in one process with the
 * guests' driver side played by this program. Reports frames/s and ns
 * per frame for several frame sizes. Usage: bench_fwd [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link/link.h"
#include "vmm/net.h"

#define QN	256
#define GPA	0x100000ULL
#define BUF	2048

struct guest {
	uint8_t *mem;		/* [GPA, GPA + size) */
	size_t size;
	struct memmap map;
	struct virtq rx, tx;	/* device view, used by net */
	uint16_t rx_avail, tx_avail, rx_used_seen, tx_used_seen;
	struct vm_stats st;
	struct net net;
};

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

/* Layout: rx ring, tx ring, then QN rx buffers, then QN tx buffers. */
static void guest_init(struct guest *g, const uint8_t mac[6], struct link *l)
{
	size_t ao, uo, rs = (vq_ring_size(QN, &ao, &uo) + 4095) & ~4095UL;
	struct mem_region r = { .gpa = GPA };

	g->size = 2 * rs + 2 * QN * BUF;
	g->mem = aligned_alloc(4096, g->size);
	memset(g->mem, 0, g->size);
	r.size = g->size;
	r.host = g->mem;
	memmap_add(&g->map, &r);
	vq_init(&g->rx, QN, g->mem, g->mem + ao, g->mem + uo, &g->map, true, false);
	vq_init(&g->tx, QN, g->mem + rs, g->mem + rs + ao, g->mem + rs + uo, &g->map, true, false);
	memcpy(g->net.mac, mac, 6);
	g->net.rxq = &g->rx;
	g->net.txq = &g->tx;
	g->net.links = l;
	g->net.nlinks = 1;
	g->net.st = &g->st;
	l->st = &g->st.link[0];
}

static uint64_t buf_gpa(const struct guest *g, int tx, unsigned i)
{
	size_t rs = (vq_ring_size(QN, NULL, NULL) + 4095) & ~4095UL;

	return GPA + 2 * rs + ((size_t)tx * QN + i) * BUF;
}

static void post_rx(struct guest *g)
{
	while ((uint16_t)(g->rx_avail - g->rx_used_seen) < QN) {
		unsigned i = g->rx_avail % QN;
		struct vring_desc *d = &g->rx.desc[i];

		d->addr = buf_gpa(g, 0, i);
		d->len = BUF;
		d->flags = VRING_DESC_F_WRITE;
		g->rx.avail->ring[i] = i;
		g->rx_avail++;
	}
	__atomic_store_n(&g->rx.avail->idx, g->rx_avail, __ATOMIC_RELEASE);
	g->rx_used_seen = __atomic_load_n(&g->rx.used->idx, __ATOMIC_ACQUIRE);
}

static unsigned post_tx(struct guest *g, unsigned n, uint32_t len)
{
	unsigned k;

	g->tx_used_seen = __atomic_load_n(&g->tx.used->idx, __ATOMIC_ACQUIRE);
	for (k = 0; k < n && (uint16_t)(g->tx_avail - g->tx_used_seen) < QN; k++) {
		unsigned i = g->tx_avail % QN;
		struct vring_desc *d = &g->tx.desc[i];
		uint8_t *p = g->mem + (buf_gpa(g, 1, i) - GPA);

		memset(p, 0, NET_HDR_LEN);
		memcpy(p + NET_HDR_LEN, mac_b, 6);
		memcpy(p + NET_HDR_LEN + 6, mac_a, 6);
		d->addr = buf_gpa(g, 1, i);
		d->len = NET_HDR_LEN + len;
		d->flags = 0;
		g->tx.avail->ring[i] = i;
		g->tx_avail++;
	}
	__atomic_store_n(&g->tx.avail->idx, g->tx_avail, __ATOMIC_RELEASE);
	return k;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(uint32_t len, double secs)
{
	static struct guest a, b;
	struct link la = { 0 }, lb = { 0 };
	struct link_res r;
	double t0, t;
	uint64_t frames = 0;

	if (link_create(&r, QN, "vm0", "vm1") < 0 ||
	    link_attach(&la, dup(r.memfd), 0, QN, dup(r.kick[1]), dup(r.kick[0]), "vm0", "vm1") < 0 ||
	    link_attach(&lb, dup(r.memfd), 1, QN, dup(r.kick[0]), dup(r.kick[1]), "vm1", "vm0") < 0) {
		fprintf(stderr, "bench: cannot set up the link\n");
		return 1;
	}
	memcpy(la.peer_mac, mac_b, 6);
	memcpy(lb.peer_mac, mac_a, 6);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	guest_init(&a, mac_a, &la);
	guest_init(&b, mac_b, &lb);
	t0 = now();
	do {
		int i;

		for (i = 0; i < 64; i++) {
			post_rx(&b);
			post_tx(&a, NET_BATCH, len);
			net_tx(&a.net);
			net_rx(&b.net);
			link_rx_ack(&lb);
		}
		t = now();
	} while (t - t0 < secs);
	frames = b.st.guest_rx_frames;
	printf("bench_fwd: frame=%4u B  %8.3f Mframes/s  %6.1f ns/frame  %7.2f Gbit/s  drops=%llu\n",
	       len, frames / (t - t0) / 1e6, (t - t0) * 1e9 / frames, frames * len * 8 / (t - t0) / 1e9,
	       (unsigned long long)(a.st.drop[DROP_QUEUE_FULL] + a.st.drop[DROP_MALFORMED]));
	link_detach(&la);
	link_detach(&lb);
	link_res_close(&r);
	free(a.mem);
	free(b.mem);
	return frames ? 0 : 1;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	static const uint32_t sizes[] = { 64, 512, 1514 };
	unsigned i;
	int rc = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		rc |= run(sizes[i], secs);
	return rc;
}
