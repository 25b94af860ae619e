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

bool link_rec_next(struct link *l, struct link_rec *r, uint32_t max_plain)
{
	struct vq_chain c;
	const uint8_t *rec;

	if (vq_pop(&l->rxq, &c) <= 0)
		return false;
	r->head = c.head;
	/* One device-readable descriptor per frame. */
	if (c.nin || c.nout != 1 || c.out_len < LINK_META_LEN + LINK_MIN_FRAME ||
	    c.out_len > LINK_META_LEN + LINK_MAX_FRAME) {
		STAT_ADD(l->st->errors, 1);
		r->why = DROP_MALFORMED;
		return true;
	}
	rec = c.seg[0].p;
	r->frame = rec + LINK_META_LEN;
	r->len = c.out_len - LINK_META_LEN;
	memcpy(&r->h, rec, sizeof(r->h));
	r->plain = !r->h.flags && !r->h.gso_type;
	r->checked = r->h.gso_type ? (r->len < VNET_PEEK ? r->len : VNET_PEEK) : LINK_REC_ADDRS;
	memcpy(r->peek, r->frame, r->checked);
	if (r->plain) {
		r->why = r->len > max_plain ? DROP_MALFORMED : DROP_NONE;
		memset(&r->m, 0, sizeof(r->m));
	} else {
		r->why = vnet_check(&r->h, r->peek, r->len, VNET_CAP_ALL, max_plain, &r->m) < 0 ? DROP_MALFORMED
											    : DROP_NONE;
	}
	return true;
}
