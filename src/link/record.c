/* The link record: one writer, one reader. See record.h. */
#include "link/record.h"

#include <string.h>

_Static_assert(LINK_META_LEN >= VNET_HDR_LEN && LINK_META_LEN % 16 == 0 && LINK_MAX_FRAME == VNET_MAX_GSO_FRAME &&
	       LINK_MIN_FRAME == VNET_MIN_FRAME, "a link carries what a guest may send, 16-byte aligned");
_Static_assert(LINK_REC_ADDRS <= LINK_MIN_FRAME && LINK_REC_ADDRS <= VNET_PEEK, "the addresses are in every frame");

uint8_t *link_rec_put(uint8_t *slot, const struct vnet_meta *m)
{
	if (m && (m->flags || m->gso_type)) {
		vnet_hdr_of(m, (struct vnet_hdr *)slot);
		memset(slot + VNET_HDR_LEN, 0, LINK_META_LEN - VNET_HDR_LEN);
	} else {
		memset(slot, 0, LINK_META_LEN);
	}
	return slot + LINK_META_LEN;
}
