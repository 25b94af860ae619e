/* Fuzz target: the guest TX path with arbitrary virtio-net headers and
 * frames, from a guest that negotiated some offloads, across a link to a
 * receiver that negotiated others (so frames pass as is, are completed or
 * segmented). Input: a byte of sender caps, a byte of receiver caps (bit
 * 4: MRG_RXBUF), a byte of MTU choice, the 12-byte header, the frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../guest_model.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct link la, lb;
	static struct guest a, b;
	static int ready;
	static const unsigned mtus[4] = { 1500, 9000, 68, 4000 };
	uint8_t *p;
	uint32_t len;
	int i;

	if (size < 3 + NET_HDR_LEN || size - 3 - NET_HDR_LEN > 70000)
		return 0;
	if (!ready) {
		if (guest_pair_init(&a, &b, &la, &lb, mac_a, mac_b) < 0)
			abort();
		ready = 1;
	}
	a.net.tx_caps = data[0] & VNET_CAP_ALL;
	b.net.rx_caps = data[1] & VNET_CAP_ALL;
	b.net.mrg_rxbuf = data[1] & 16;
	a.net.mtu = b.net.mtu = mtus[data[2] & 3];
	len = size - 3 - NET_HDR_LEN;
	/* The frame's addresses are A's to B most of the time. */
	p = guest_ptr(&a, guest_buf(&a, 1, a.tx_avail % GM_QN));
	if (a.tx_avail % GM_QN > GM_QN - 40)	/* room for a 64 KiB frame */
		a.tx_avail += GM_QN - a.tx_avail % GM_QN;
	p = guest_ptr(&a, guest_buf(&a, 1, a.tx_avail % GM_QN));
	memcpy(p, data + 3, NET_HDR_LEN + len);
	if (len >= 12 && !(data[2] & 4)) {
		memcpy(p + NET_HDR_LEN, mac_b, 6);
		memcpy(p + NET_HDR_LEN + 6, mac_a, 6);
	}
	{
		unsigned d = a.tx_avail % GM_QN;

		a.tx.desc[d] = (struct vring_desc){ guest_buf(&a, 1, d), NET_HDR_LEN + len, 0, 0 };
		a.tx.avail->ring[d] = d;
		a.tx_avail++;
		__atomic_store_n(&a.tx.avail->idx, a.tx_avail, __ATOMIC_RELEASE);
	}
	net_tx(&a.net);
	for (i = 0; i < 8; i++) {
		guest_post_rx(&b, 64);
		net_rx(&b.net);
		while (guest_recv(&b, &p))
			;
	}
	if (a.tx.err || b.rx.err || la.txq.err || lb.rxq.err)
		abort();
	return 0;
}
