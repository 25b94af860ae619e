/* Guest <-> link forwarding. See net.h. */
#include "vmm/net.h"

#include <string.h>

_Static_assert(NET_MAX_FRAME <= CAP_FRAME_MAX && NET_MIN_FRAME >= CAP_FRAME_MIN,
	       "every frame fits a capture record whole");

static void drop(struct net *n, struct link *l, enum drop_reason why)
{
	STAT_ADD(n->st->drop[why], 1);
	if (l && l->st)
		STAT_ADD(l->st->drop[why], 1);
}

enum drop_reason net_route(const struct net *n, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
			   uint32_t *mask)
{
	unsigned i;

	*mask = 0;
	if (memcmp(src, n->mac, ETH_ALEN) != 0)
		return DROP_SPOOFED;
	if (dst[0] & 1) {		/* broadcast and multicast: every peer */
		if (!n->nlinks)
			return DROP_NO_LINK;
		*mask = (n->nlinks >= 32) ? ~0u : (1u << n->nlinks) - 1;
		return DROP_NONE;
	}
	for (i = 0; i < n->nlinks; i++) {
		if (memcmp(dst, n->links[i].peer_mac, ETH_ALEN) == 0) {
			*mask = 1u << i;
			return DROP_NONE;
		}
	}
	return DROP_NO_LINK;
}

/* Records a frame of len bytes at off in chain c, with the addresses we
 * read (and checked) over its first NET_ETH_ADDRS bytes. */
static void capture_chain(struct net *n, unsigned stream, unsigned dir, const struct vq_chain *c,
			  size_t off, uint32_t len, const uint8_t eth[NET_ETH_ADDRS])
{
	uint8_t *p = capw_begin(&n->cap, stream, dir, len);

	vq_chain_read(c, off, p, len);
	memcpy(p, eth, NET_ETH_ADDRS);
	capw_commit(&n->cap, stream);
}

/* One guest TX chain. The Ethernet addresses are read once into eth[] and
 * written over each copy, so what was checked is what is sent even if the
 * guest rewrites its buffer meanwhile. cap: streams to record. */
static void tx_one(struct net *n, const struct vq_chain *c, uint32_t *dirty, uint32_t cap)
{
	uint8_t hdr[NET_HDR_LEN], eth[NET_ETH_ADDRS];
	uint32_t len, mask;
	unsigned i;
	enum drop_reason why;

	STAT_ADD(n->st->guest_tx_frames, 1);
	if (c->out_len < NET_HDR_LEN + NET_MIN_FRAME || c->out_len - NET_HDR_LEN > NET_MAX_FRAME) {
		drop(n, NULL, DROP_MALFORMED);
		return;
	}
	len = c->out_len - NET_HDR_LEN;
	STAT_ADD(n->st->guest_tx_bytes, len);
	vq_chain_read(c, 0, hdr, sizeof(hdr));
	/* No offloads were negotiated: flags and gso_type must be zero. */
	if (hdr[0] || hdr[1]) {
		drop(n, NULL, DROP_MALFORMED);
		return;
	}
	vq_chain_read(c, NET_HDR_LEN, eth, sizeof(eth));
	if (cap & CAP_BIT(CAP_STREAM_GUEST))
		capture_chain(n, CAP_STREAM_GUEST, CAP_DIR_OUT, c, NET_HDR_LEN, len, eth);
	why = net_route(n, eth, eth + ETH_ALEN, &mask);
	if (why != DROP_NONE) {
		drop(n, NULL, why);
		return;
	}
	for (i = 0; i < n->nlinks; i++) {
		struct link *l = &n->links[i];
		uint8_t *slot;

		if (!(mask & (1u << i)))
			continue;
		slot = link_tx_slot(l);
		if (!slot) {
			drop(n, l, !l->shm || vq_error(&l->txq) ? DROP_LINK_DOWN : DROP_QUEUE_FULL);
			continue;
		}
		vq_chain_read(c, NET_HDR_LEN, slot, len);
		memcpy(slot, eth, sizeof(eth));
		if (cap & CAP_BIT(CAP_STREAM_LINK(i)))
			capw_frame(&n->cap, CAP_STREAM_LINK(i), 0, slot, len);
		link_tx_commit(l, len);
		STAT_ADD(l->st->tx_frames, 1);
		STAT_ADD(l->st->tx_bytes, len);
		*dirty |= 1u << i;
	}
}

bool net_tx(struct net *n)
{
	struct vq_chain c;
	uint32_t dirty = 0, cap;
	unsigned i, done = 0;
	bool more = false;

	if (!n->txq)
		return false;
	cap = capw_batch(&n->cap);
	while (done < NET_BATCH) {
		int r = vq_pop(n->txq, &c);

		if (r <= 0)
			break;
		if (n->tx_discard) {	/* vhost-user: a disabled TX ring is drained */
			STAT_ADD(n->st->guest_tx_frames, 1);
			drop(n, NULL, DROP_DISABLED);
		} else {
			tx_one(n, &c, &dirty, cap);
		}
		vq_push(n->txq, c.head, 0);
		done++;
	}
	for (i = 0; i < n->nlinks; i++)
		if (dirty & (1u << i))
			link_tx_flush(&n->links[i]);
	if (done && vq_flush(n->txq))
		n->tx_call = true;
	if (done == NET_BATCH)
		more = true;
	else if (vq_enable_notify(n->txq))
		more = true;
	return more;
}

/* Checks a frame the peer put on the link. Returns DROP_NONE if it may be
 * delivered (eth[] holds its addresses), else the drop reason. */
static enum drop_reason rx_check(struct net *n, struct link *l, const struct vq_chain *lc,
				 uint8_t eth[NET_ETH_ADDRS])
{
	/* One device-readable descriptor per frame (docs/link-format.md). */
	if (lc->nin || lc->nout != 1 || lc->out_len < NET_MIN_FRAME || lc->out_len > NET_MAX_FRAME) {
		STAT_ADD(l->st->errors, 1);
		return DROP_MALFORMED;
	}
	vq_chain_read(lc, 0, eth, NET_ETH_ADDRS);
	if (memcmp(eth + ETH_ALEN, l->peer_mac, ETH_ALEN) != 0)
		return DROP_SPOOFED;
	if (!(eth[0] & 1) && memcmp(eth, n->mac, ETH_ALEN) != 0)
		return DROP_NO_LINK;
	return DROP_NONE;
}

static void rx_deliver(struct net *n, struct link *l, const struct vq_chain *lc,
		       const struct vq_chain *gc, const uint8_t eth[NET_ETH_ADDRS], uint32_t cap)
{
	uint8_t hdr[NET_HDR_LEN] = { [NET_HDR_NUM_BUFFERS] = 1 };	/* one buffer (le16) */
	uint32_t len = lc->out_len;
	size_t off = NET_HDR_LEN;
	unsigned i;

	if (gc->in_len < NET_HDR_LEN + len) {	/* guest posted a buffer too small */
		drop(n, l, DROP_MALFORMED);
		vq_push(n->rxq, gc->head, 0);
		return;
	}
	vq_chain_write(gc, 0, hdr, sizeof(hdr));
	for (i = 0; i < lc->nout; i++) {
		vq_chain_write(gc, off, lc->seg[i].p, lc->seg[i].len);
		off += lc->seg[i].len;
	}
	vq_chain_write(gc, NET_HDR_LEN, eth, NET_ETH_ADDRS);	/* the addresses we checked */
	vq_push(n->rxq, gc->head, NET_HDR_LEN + len);
	STAT_ADD(l->st->rx_frames, 1);
	STAT_ADD(l->st->rx_bytes, len);
	STAT_ADD(n->st->guest_rx_frames, 1);
	STAT_ADD(n->st->guest_rx_bytes, len);
	if (cap & CAP_BIT(CAP_STREAM_GUEST))
		capture_chain(n, CAP_STREAM_GUEST, CAP_DIR_IN, lc, 0, len, eth);
}

/* Drains one link into the guest. Returns chains taken from the link;
 * sets *guest_full when the guest ran out of buffers. */
static unsigned rx_link(struct net *n, struct link *l, bool *guest_full, uint32_t cap)
{
	struct vq_chain lc, gc;
	uint8_t eth[NET_ETH_ADDRS];
	unsigned done = 0;

	while (done < NET_BATCH) {
		enum drop_reason why;
		int r = vq_pop(&l->rxq, &lc);

		if (r <= 0)
			break;
		done++;
		why = rx_check(n, l, &lc, eth);
		if (why != DROP_NONE) {
			drop(n, l, why);
			vq_push(&l->rxq, lc.head, 0);
			continue;
		}
		r = vq_pop(n->rxq, &gc);
		if (r <= 0) {
			vq_unpop(&l->rxq);	/* keep it on the link for later */
			done--;
			*guest_full = true;
			break;
		}
		rx_deliver(n, l, &lc, &gc, eth, cap);
		vq_push(&l->rxq, lc.head, 0);
	}
	if (done)
		vq_flush(&l->rxq);	/* links have no used-buffer doorbell */
	return done;
}

bool net_rx(struct net *n)
{
	uint16_t before;
	bool more = false, full = false;
	uint32_t cap;
	unsigned k;

	if (!n->rxq || !n->nlinks)
		return false;
	cap = capw_batch(&n->cap);
	before = vq_used_count(n->rxq);
	for (k = 0; k < n->nlinks && !full; k++) {
		struct link *l = &n->links[(n->rx_next + k) % n->nlinks];
		unsigned done;

		if (!l->shm || vq_error(&l->rxq))
			continue;
		done = rx_link(n, l, &full, cap);
		if (full)
			break;
		if (done == NET_BATCH || link_rx_rearm(l))
			more = true;
	}
	n->rx_next = (n->rx_next + 1) % n->nlinks;
	if (full && vq_enable_notify(n->rxq))
		more = true;	/* buffers arrived while we looked */
	if (vq_used_count(n->rxq) != before && vq_flush(n->rxq))
		n->rx_call = true;
	return more;
}
