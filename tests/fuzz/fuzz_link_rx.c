/* Fuzz target: the receiving end of a link when the peer VMM writes
 * anything at all into its direction (ring indices, descriptors, frames
 * and their offload metadata), delivered into a well-behaved guest's RX
 * queue that takes all offloads, some or none, and has posted enough
 * buffers or maybe too few. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../guest_model.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct link la, lb;
	static struct guest b;
	static int ready;
	uint8_t *dir;
	size_t len;
	int i;

	if (!ready) {
		if (link_pair(&la, &lb, 64, mac_a, mac_b) < 0)
			abort();
		guest_init(&b, mac_b, &lb, 1);
		ready = 1;
	}
	/* A fresh view each time: the peer's direction is what the input says. */
	dir = (uint8_t *)la.txq.desc;
	len = la.tx_area + 64 * LINK_AREA_PER_ENTRY - dir;
	memset(dir, 0, len);
	memcpy(dir, data, size < len ? size : len);
	vq_init(&lb.rxq, 64, lb.rxq.desc, lb.rxq.avail, lb.rxq.used, &lb.rx_mem, true, false);
	for (i = 0; i < 4; i++) {
		uint8_t *p;

		/* Receivers that take every offload, some or none. */
		b.net.rx_caps = (unsigned[]){ 0, VNET_CAP_CSUM, VNET_CAP_ALL, VNET_CAP_ALL }[i];
		b.net.mrg_rxbuf = i == 2;
		/* With MRG_RXBUF, maybe too few buffers for a large frame: the
		 * VMM then asks for as many as it needs (net_arm). */
		guest_post_rx(&b, i == 2 && size ? 1u + data[size - 1] % 24 : 64);
		net_rx(&b.net);
		net_arm(&b.net);
		while (guest_recv(&b, &p))
			;
	}
	return 0;
}
