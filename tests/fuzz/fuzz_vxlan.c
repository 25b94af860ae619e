/* Fuzz target: the tunnel (src/tunnel/) on both of its hostile inputs.
 * Byte 0 bit 2 clear: the decapsulation path with a datagram of any
 * content and length from any source: header, VNI, length, source checks
 * and routing onto two real links, whose far ends are drained after each
 * input; bit 0 picks the sender (the configured remote or another
 * address), bit 1 the truncation flag; the rest is the UDP payload.
 * Bit 2 set: the rest is a link record from VM a (16 bytes of offload
 * metadata, then the frame), checked, segmented or checksummed and
 * encapsulated by the tunnel (no socket: sends fail and are counted). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../guest_model.h"
#include "tunnel/tunnel.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };
static const uint8_t mac_t[6] = { 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct link vm[2], tl[2];
	static struct vm_stats st;
	static struct tunnel t;
	static int ready;
	struct sockaddr_in from = { .sin_family = AF_INET };
	uint64_t dirty = 0;
	unsigned i;

	if (!ready) {
		if (link_pair(&vm[0], &tl[0], 64, mac_a, mac_t) < 0 || link_pair(&vm[1], &tl[1], 64, mac_b, mac_t) < 0)
			abort();
		tun_init(&t);
		t.fd = -1;
		t.vni = 0x2a;
		t.remote.s_addr = htonl(0x0a090002);
		t.st = &st;
		t.links = tl;
		t.nlinks = 2;
		memcpy(t.local[0], mac_a, 6);
		memcpy(t.local[1], mac_b, 6);
		t.nlocal = 2;
		for (i = 0; i < 2; i++)
			tl[i].st = vm[i].st = &st.link[i];
		ready = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 4) {
		size_t n = size - 1;
		uint8_t *slot;

		if (n < LINK_META_LEN + LINK_MIN_FRAME || n > LINK_META_LEN + LINK_MAX_FRAME)
			return 0;
		slot = link_tx_slot(&vm[0], n - LINK_META_LEN);
		if (!slot)
			abort();	/* drained after every input: never full */
		memcpy(slot, data + 1, n);
		link_tx_commit(&vm[0], n - LINK_META_LEN);
		link_tx_flush(&vm[0]);
		tun_links_rx(&t);
		if (vq_error(&tl[0].rxq))
			abort();
		return 0;
	}
	from.sin_addr.s_addr = (data[0] & 1) ? htonl(0x0a090003) : t.remote.s_addr;
	tun_datagram(&t, data + 1, size - 1, &from, data[0] & 2, &dirty);
	tun_flush_links(&t, dirty);
	/* The VMs take what arrived: what the tunnel wrote must check. */
	for (i = 0; i < 2; i++) {
		struct vq_chain c;

		static const uint8_t plain[LINK_META_LEN];

		while (vq_pop(&vm[i].rxq, &c) > 0) {
			const uint8_t *f = c.seg[0].p + LINK_META_LEN;

			/* One record: no offload metadata, a frame of 14..1518. */
			if (c.nout != 1 || c.out_len < LINK_META_LEN + 14 || c.out_len > LINK_META_LEN + 1518 ||
			    memcmp(c.seg[0].p, plain, LINK_META_LEN) || (f[6] & 1) || !memcmp(f + 6, mac_a, 6) ||
			    !memcmp(f + 6, mac_b, 6))
				abort();
			vq_push(&vm[i].rxq, c.head, 0);
		}
		vq_flush(&vm[i].rxq);
		if (vq_error(&vm[i].rxq))
			abort();
	}
	return 0;
}
