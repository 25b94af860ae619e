/* The link record (docs/link-format.md): what one frame on a link looks
 * like, owned here on both sides. A record is one device-readable
 * descriptor: LINK_META_LEN bytes of offload metadata (a virtio-net
 * header, the rest zero; all zero for a plain frame), then the frame of
 * LINK_MIN_FRAME..LINK_MAX_FRAME bytes.
 *
 * One writer (link_rec_put) and one reader (link_rec_next) serve every
 * node kind; where a frame goes once read (the lookup, netmap VALE's
 * word) stays in the kind: vmm/net.c, tunnel/tunnel.c. */
#ifndef MULTIVM_LINK_RECORD_H
#define MULTIVM_LINK_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/stats.h"
#include "link/link.h"
#include "net/vnet.h"

#define LINK_REC_ADDRS	12	/* destination and source MAC: always copied */

/* A record read off a link. The frame stays in the peer's memory, which
 * it may rewrite meanwhile: what was checked is in h, m and peek, private
 * copies, and whoever copies the frame on writes peek's checked bytes
 * over it. */
struct link_rec {
	uint16_t head;			/* the descriptor, for link_rec_end */
	enum drop_reason why;		/* DROP_NONE, or DROP_MALFORMED */
	bool plain;			/* no offload metadata */
	struct vnet_hdr h;		/* the metadata as the peer wrote it */
	struct vnet_meta m;		/* checked; all zero for a plain frame */
	const uint8_t *frame;		/* len bytes in the peer's memory */
	uint32_t len;
	uint32_t checked;		/* bytes of peek copied: the addresses, or
					 * for a TSO frame all its headers */
	uint8_t peek[VNET_PEEK];
};

/* Writer: the metadata for a frame (m NULL or all zero: plain) at slot
 * (from link_tx_slot). Returns where the frame's bytes go. */
uint8_t *link_rec_put(uint8_t *slot, const struct vnet_meta *m);

/* Reader: takes the next record the peer put on l into r. Returns false
 * when there is none. Else r->why says whether it checked out as a frame
 * a receiver taking every offload may get, plain frames of at most
 * max_plain bytes: DROP_MALFORMED if not (a descriptor of another shape
 * is also counted in l's errors). Each record taken is ended with
 * link_rec_end, or given back with link_rec_keep (to be taken again).
 * Inline: it is on every frame's path, and the compiler keeps r's fields
 * in registers where the caller lets it. */
static inline bool link_rec_next(struct link *l, struct link_rec *r, uint32_t max_plain)
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
	if (r->plain) {
		r->checked = LINK_REC_ADDRS;
		memcpy(r->peek, r->frame, LINK_REC_ADDRS);
		r->why = r->len > max_plain ? DROP_MALFORMED : DROP_NONE;
		memset(&r->m, 0, sizeof(r->m));
		return true;
	}
	r->checked = r->h.gso_type ? (r->len < VNET_PEEK ? r->len : VNET_PEEK) : LINK_REC_ADDRS;
	memcpy(r->peek, r->frame, r->checked);
	r->why = vnet_check(&r->h, r->peek, r->len, VNET_CAP_ALL, max_plain, &r->m) < 0 ? DROP_MALFORMED : DROP_NONE;
	return true;
}

static inline void link_rec_end(struct link *l, const struct link_rec *r)
{
	vq_push(&l->rxq, r->head, 0);
}

static inline void link_rec_keep(struct link *l)
{
	vq_unpop(&l->rxq);
}

#endif
