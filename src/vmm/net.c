/* Guest <-> link forwarding. See net.h. */
#include "vmm/net.h"

#include <string.h>

#include "link/impair.h"
#include "link/record.h"
#include "net/segment.h"

_Static_assert(NET_MAX_FRAME <= CAP_FRAME_MAX && NET_MIN_FRAME >= CAP_FRAME_MIN,
	       "every frame of the default MTU fits a capture record whole");
_Static_assert(NET_ETH_ADDRS == LINK_REC_ADDRS, "a link record's checked addresses are ours");

/* Whether a virtio-net header asks for no offload: the common case. */
static bool hdr_plain(const struct vnet_hdr *h)
{
	return !h->flags && !h->gso_type;
}

/* A piece of a frame being delivered: the frame is the pieces in order. */
struct piece {
	const uint8_t *p;
	uint32_t len;
};

/* l NULL: a frame of the guest's before it had a link; a wire's NIC has
 * one, whose counters are the NIC's. */
static void drop(struct net *n, struct link *l, enum drop_reason why)
{
	if (!l && n->wire && n->nlinks)
		l = &n->links[0];
	STAT_ADD(n->st->drop[why], 1);
	if (l && l->st)
		STAT_ADD(l->st->drop[why], 1);
}

static uint32_t max_plain(const struct net *n)
{
	return VNET_MAX_PLAIN(n->mtu ? n->mtu : MV_MTU_DEFAULT);
}

enum drop_reason net_route(const struct net *n, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
			   uint64_t *mask)
{
	uint64_t tunnels = 0;
	unsigned i;

	*mask = 0;
	if (n->wire) {	/* a cable: any source, any destination, VLAN tags and all */
		*mask = n->nlinks ? 1 : 0;
		return n->nlinks ? DROP_NONE : DROP_NO_LINK;
	}
	if (memcmp(src, n->mac, ETH_ALEN) != 0)
		return DROP_SPOOFED;
	if (dst[0] & 1) {		/* broadcast and multicast: every peer */
		if (!n->nlinks)
			return DROP_NO_LINK;
		*mask = (n->nlinks >= 64) ? ~0ull : (1ull << n->nlinks) - 1;
		return DROP_NONE;
	}
	for (i = 0; i < n->nlinks; i++) {
		if (n->links[i].tunnel) {
			tunnels |= 1ull << i;
		} else if (memcmp(dst, n->links[i].peer_mac, ETH_ALEN) == 0) {
			*mask = 1ull << i;
			return DROP_NONE;
		}
	}
	/* Not a local peer: out through the tunnels, if any (no learning:
	 * each tunnel has one remote, so there is nothing to choose). */
	*mask = tunnels;
	return tunnels ? DROP_NONE : DROP_NO_LINK;
}

/* Capture records hold CAP_FRAME_MAX bytes: larger (TSO, jumbo) frames
 * are recorded cut to that. */
static uint32_t cap_len(uint32_t len)
{
	return len < CAP_FRAME_MAX ? len : CAP_FRAME_MAX;
}

/* Records a frame of len bytes at off in chain c, with the addresses we
 * read (and checked) over its first NET_ETH_ADDRS bytes. */
static void capture_chain(struct net *n, unsigned stream, unsigned dir, const struct vq_chain *c,
			  size_t off, uint32_t len, const uint8_t eth[NET_ETH_ADDRS])
{
	uint8_t *p = capw_begin(n->capw, stream, dir, cap_len(len));

	vq_chain_read(c, off, p, cap_len(len));
	memcpy(p, eth, NET_ETH_ADDRS);
	capw_commit(n->capw, stream);
}

static void capture_pieces(struct net *n, const struct piece *pc, unsigned np, uint32_t len)
{
	uint32_t left = cap_len(len);
	uint8_t *p = capw_begin(n->capw, CAP_STREAM_GUEST, CAP_DIR_IN, left);
	unsigned i;

	for (i = 0; i < np && left; i++) {
		uint32_t k = pc[i].len < left ? pc[i].len : left;

		memcpy(p, pc[i].p, k);
		p += k;
		left -= k;
	}
	capw_commit(n->capw, CAP_STREAM_GUEST);
}

/* A frame for one link only (a full peer must not hold back a broadcast
 * to the others) takes its slot before anything is counted: if that link
 * is up but full, and has not stalled (net_tx_expire), the frame waits in
 * the guest's TX ring instead of being dropped. Returns the link's index
 * with *slot set (NULL: full, count the drop), -1 to wait, or the number
 * of links for a frame to several. */
static int single_slot(struct net *n, uint64_t mask, uint32_t len, uint8_t **slot)
{
	unsigned i;
	struct link *l;

	if (!mask || (mask & (mask - 1)))
		return n->nlinks;
	i = __builtin_ctzll(mask);
	l = &n->links[i];
	*slot = link_tx_slot(l, len);
	if (!*slot && l->shm && !vq_error(&l->txq) && !l->tx_stalled) {
		n->tx_wait = i + 1;
		return -1;
	}
	return i;
}

/* One guest TX chain. Its virtio-net header is read once and checked
 * against what the guest negotiated; the Ethernet addresses (and, for a
 * TSO frame, all its headers) are read once into peek[] and written over
 * each copy, so what was checked is what is sent even if the guest
 * rewrites its buffer meanwhile. cap: streams to record. Returns -1 when
 * the frame is for a full link and waits (nothing counted, nothing sent:
 * the caller gives the chain back), else 0. */
static int tx_one(struct net *n, const struct vq_chain *c, uint64_t *dirty, uint32_t cap)
{
	uint8_t peek[VNET_PEEK], *first = NULL;
	struct vnet_hdr h;
	struct vnet_meta m;
	uint32_t len, checked;
	uint64_t mask;
	unsigned i;
	int single = -1;
	enum drop_reason why;

	if (c->out_len < NET_HDR_LEN + NET_MIN_FRAME || c->out_len - NET_HDR_LEN > VNET_MAX_GSO_FRAME) {
		STAT_ADD(n->st->guest_tx_frames, 1);
		drop(n, NULL, DROP_MALFORMED);
		return 0;
	}
	len = c->out_len - NET_HDR_LEN;
	vq_chain_read(c, 0, &h, sizeof(h));
	/* Only a TSO frame's headers are parsed; others need the addresses. */
	checked = h.gso_type ? (len < VNET_PEEK ? len : VNET_PEEK) : NET_ETH_ADDRS;
	vq_chain_read(c, NET_HDR_LEN, peek, checked);
	if (hdr_plain(&h)) {	/* no offload: only the length to check */
		why = len > max_plain(n) ? DROP_MALFORMED : DROP_NONE;
		memset(&m, 0, sizeof(m));
	} else {
		why = vnet_check(&h, peek, len, n->tx_caps, max_plain(n), &m) < 0 ? DROP_MALFORMED : DROP_NONE;
	}
	if (why == DROP_NONE && (why = net_route(n, peek, peek + ETH_ALEN, &mask)) == DROP_NONE &&
	    (single = single_slot(n, mask, len, &first)) < 0)
		return -1;
	STAT_ADD(n->st->guest_tx_frames, 1);
	STAT_ADD(n->st->guest_tx_bytes, len);
	if (why == DROP_MALFORMED) {
		drop(n, NULL, why);
		return 0;
	}
	if (!hdr_plain(&h)) {
		STAT_ADD(n->st->tx_offload_frames, 1);
		if (m.gso_type)
			checked = m.hdrs_len;
	}
	if (cap & CAP_BIT(CAP_STREAM_GUEST))
		capture_chain(n, CAP_STREAM_GUEST, CAP_DIR_OUT, c, NET_HDR_LEN, len, peek);
	if (why != DROP_NONE) {
		drop(n, NULL, why);
		return 0;
	}
	for (i = 0; i < n->nlinks; i++) {
		struct link *l = &n->links[i];
		uint8_t *slot;

		if (!(mask & (1ull << i)))
			continue;
		slot = (int)i == single ? first : link_tx_slot(l, len);
		if (!slot) {
			drop(n, l, !l->shm || vq_error(&l->txq) ? DROP_LINK_DOWN : DROP_QUEUE_FULL);
			continue;
		}
		slot = link_rec_put(slot, &m);
		vq_chain_read(c, NET_HDR_LEN, slot, len);
		memcpy(slot, peek, checked);
		if (CAP_LINK_WANTED(cap, n->link_base + i))
			capw_frame(n->capw, CAP_STREAM_LINK(n->link_base + i), 0, slot, cap_len(len));
		link_tx_commit(l, len);
		STAT_ADD(l->st->tx_frames, 1);
		STAT_ADD(l->st->tx_bytes, len);
		if (m.gso_type)
			STAT_ADD(n->st->tx_tso_frames, 1);
		*dirty |= 1ull << i;
	}
	return 0;
}

bool net_tx(struct net *n)
{
	struct vq_chain c;
	uint64_t dirty = 0;
	uint32_t cap;
	unsigned i, done = 0;

	n->tx_wait = 0;
	if (!n->txq)
		return false;
	vq_disable_notify(n->txq);	/* no kicks while we poll */
	if (!n->capw)
		n->capw = &n->cap;
	cap = capw_batch(n->capw);
	if (n->wire)	/* stream 0 is eth0's; a wire's frames are its link's */
		cap &= ~CAP_BIT(CAP_STREAM_GUEST);
	while (done < NET_BATCH) {
		int r = vq_pop(n->txq, &c);

		if (r <= 0)
			break;
		if (n->tx_discard) {	/* vhost-user: a disabled TX ring is drained */
			STAT_ADD(n->st->guest_tx_frames, 1);
			drop(n, NULL, DROP_DISABLED);
		} else if (tx_one(n, &c, &dirty, cap) < 0) {
			vq_unpop(n->txq);	/* the guest keeps it until the link has room */
			break;
		}
		vq_push(n->txq, c.head, 0);
		done++;
	}
	for (i = 0; i < n->nlinks; i++)
		if (dirty & (1ull << i))
			link_tx_flush(&n->links[i]);
	n->moved += done;
	n->tx_moved = n->tx_moved || done;
	if (done && vq_flush(n->txq))
		n->tx_call = true;
	return done == NET_BATCH;
}

/* Writes a stream of bytes across the RX chains of one frame. */
struct sink {
	struct vq_chain *c;
	unsigned i;
	uint32_t off;
};

static void sink_write(struct sink *s, const void *src, uint32_t len)
{
	const uint8_t *p = src;

	while (len) {
		uint32_t room = s->c[s->i].in_len - s->off, k;

		if (!room) {
			s->i++;
			s->off = 0;
			continue;
		}
		k = len < room ? len : room;
		vq_chain_write(&s->c[s->i], s->off, p, k);
		s->off += k;
		p += k;
		len -= k;
	}
}

/* An impaired link corrupts this frame (impair.h): its last byte goes to
 * the guest with one bit flipped, after every checksum was completed, so
 * the guest's check catches it. Once per frame (the first segment). */
static void flip_last(struct net *n, struct link *l, struct sink *s, uint8_t b)
{
	b ^= 0x01;
	sink_write(s, &b, 1);
	n->corrupt = false;
	STAT_ADD(l->st->rx_corrupted, 1);
}

/* Delivers one frame (the pieces, len bytes) with virtio-net header h to
 * the guest: into one RX buffer, or with MRG_RXBUF as many as it takes.
 * Returns 0 when delivered, 1 when dropped (counted: the guest's buffers
 * cannot hold it), -1 when the guest has no buffers now (nothing taken). */
static int rx_put(struct net *n, struct link *l, struct vnet_hdr *h, const struct piece *pc,
		  unsigned np, uint32_t len, uint32_t cap)
{
	uint32_t need = NET_HDR_LEN + len, have = 0;
	unsigned k = 0, i, max = n->mrg_rxbuf ? NET_RX_MAX_BUFS : 1;
	struct sink s = { .c = n->rxc };

	while (have < need && k < max) {
		if (vq_pop(n->rxq, &n->rxc[k]) <= 0) {
			if (k && k == vq_size(n->rxq) && vq_error(n->rxq) == VQ_OK)
				break;	/* its whole ring is not enough: never will be */
			n->rx_want = k + 1;	/* all the guest has posted is not enough */
			while (k--)
				vq_unpop(n->rxq);
			return -1;
		}
		have += n->rxc[k++].in_len;
	}
	if (have < need) {	/* the guest posted buffers too small */
		for (i = 0; i < k; i++)
			vq_push(n->rxq, n->rxc[i].head, 0);
		drop(n, l, DROP_MALFORMED);
		return 1;
	}
	h->num_buffers = k;
	sink_write(&s, h, NET_HDR_LEN);
	for (i = 0; i < np; i++) {
		uint32_t last = n->corrupt && i == np - 1 && pc[i].len;	/* an impaired link's bit flip */

		sink_write(&s, pc[i].p, pc[i].len - last);
		if (last)
			flip_last(n, l, &s, pc[i].p[pc[i].len - 1]);
	}
	for (i = 0; i < k; i++)
		vq_push(n->rxq, n->rxc[i].head, i == s.i ? s.off : n->rxc[i].in_len);
	STAT_ADD(n->st->guest_rx_frames, 1);
	STAT_ADD(n->st->guest_rx_bytes, len);
	if (cap & CAP_BIT(CAP_STREAM_GUEST))
		capture_pieces(n, pc, np, len);
	return 0;
}

/* A checked TSO frame for a guest that cannot take it: MTU-sized TCP
 * segments, from *done on (a guest out of buffers resumes there later).
 * Returns as rx_put(). */
static int rx_segment(struct net *n, struct link *l, const struct vnet_meta *m, const uint8_t *hdrs,
		      const uint8_t *frame, uint32_t *done, uint32_t cap)
{
	bool partial = (n->rx_caps & VNET_CAP_CSUM) && !n->corrupt;
	uint8_t out[VNET_PEEK];
	struct vnet_hdr h;
	struct piece pc[2];
	uint32_t poff, plen;

	if (m->hdrs_len + (uint32_t)m->gso_size > max_plain(n)) {	/* segments too large for the MTU */
		drop(n, l, DROP_MALFORMED);
		return 1;
	}
	for (; *done < m->nsegs; (*done)++) {
		int rc;

		seg_build(m, hdrs, frame, *done, partial, out, &poff, &plen);
		memset(&h, 0, sizeof(h));
		if (partial) {
			h.flags = VNET_F_NEEDS_CSUM;
			h.csum_start = m->l4_off;
			h.csum_offset = 16;
		}
		pc[0] = (struct piece){ out, m->hdrs_len };
		pc[1] = (struct piece){ frame + poff, plen };
		rc = rx_put(n, l, &h, pc, 2, m->hdrs_len + plen, cap);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 1;	/* the rest would not fit either */
		STAT_ADD(n->st->seg_segments, 1);
	}
	STAT_ADD(n->st->seg_frames, 1);
	return 0;
}

/* A plain frame (no offload) into one RX buffer, as it came: the common
 * case, kept short. Returns as rx_put(); 2: the first buffer is too small
 * for it with MRG_RXBUF (nothing taken: the caller spreads it). */
static int rx_put_plain(struct net *n, struct link *l, const uint8_t *frame, uint32_t len,
			const uint8_t eth[NET_ETH_ADDRS], uint32_t cap)
{
	static const struct vnet_hdr one = { .num_buffers = 1 };
	struct vq_chain *gc = &n->rxc[0];

	if (vq_pop(n->rxq, gc) <= 0) {
		n->rx_want = 1;
		return -1;
	}
	if (gc->in_len < NET_HDR_LEN + len) {
		if (n->mrg_rxbuf) {
			vq_unpop(n->rxq);
			return 2;
		}
		vq_push(n->rxq, gc->head, 0);	/* the guest posted a buffer too small */
		drop(n, l, DROP_MALFORMED);
		return 1;
	}
	vq_chain_write(gc, 0, &one, NET_HDR_LEN);
	vq_chain_write(gc, NET_HDR_LEN, eth, NET_ETH_ADDRS);	/* the addresses we checked */
	vq_chain_write(gc, NET_HDR_LEN + NET_ETH_ADDRS, frame + NET_ETH_ADDRS, len - NET_ETH_ADDRS);
	if (n->corrupt) {	/* an impaired link's bit flip, on the last byte */
		uint8_t b = frame[len - 1] ^ 0x01;

		vq_chain_write(gc, NET_HDR_LEN + len - 1, &b, 1);
		n->corrupt = false;
		STAT_ADD(l->st->rx_corrupted, 1);
	}
	vq_push(n->rxq, gc->head, NET_HDR_LEN + len);
	STAT_ADD(n->st->guest_rx_frames, 1);
	STAT_ADD(n->st->guest_rx_bytes, len);
	if (cap & CAP_BIT(CAP_STREAM_GUEST))
		capture_pieces(n, (const struct piece[]){ { eth, NET_ETH_ADDRS }, { frame + NET_ETH_ADDRS, len - NET_ETH_ADDRS } },
			       2, len);
	return 0;
}

/* A frame out of a tunnel comes from a remote VM: its source may be
 * neither a group address nor a VM this VMM knows to be local (its own,
 * its peers'). The tunnel process checks against every VM of the system
 * too; this VMM does not trust it for that. */
static bool tunnel_source_ok(const struct net *n, const uint8_t src[ETH_ALEN])
{
	unsigned i;

	if ((src[0] & 1) || memcmp(src, n->mac, ETH_ALEN) == 0)
		return false;
	for (i = 0; i < n->nlinks; i++)
		if (!n->links[i].tunnel && memcmp(src, n->links[i].peer_mac, ETH_ALEN) == 0)
			return false;
	return true;
}

/* One record the peer put on the link (link_rec_next checked its shape,
 * metadata and headers as a guest's would be): its addresses against the
 * peer's and ours, then delivered as the guest can take it. Returns 0
 * done (delivered or dropped), -1 guest full. */
static int rx_frame(struct net *n, struct link *l, unsigned li, const struct link_rec *r, uint32_t cap)
{
	const uint8_t *frame = r->frame, *peek = r->peek;
	const struct vnet_meta *m = &r->m;
	uint32_t len = r->len;
	uint8_t csum[2];
	struct vnet_hdr h;
	struct piece pc[4];
	unsigned missing, np = 0;
	int rc;

	if (r->why != DROP_NONE) {
		drop(n, l, r->why);
		return 0;
	}
	if (n->wire)	/* a cable: whatever the other end sent */
		;
	else if (l->tunnel ? !tunnel_source_ok(n, peek + ETH_ALEN)
			   : memcmp(peek + ETH_ALEN, l->peer_mac, ETH_ALEN) != 0) {
		drop(n, l, DROP_SPOOFED);
		return 0;
	} else if (!(peek[0] & 1) && memcmp(peek, n->mac, ETH_ALEN) != 0) {
		drop(n, l, DROP_NO_LINK);
		return 0;
	}
	if (r->plain && (rc = rx_put_plain(n, l, frame, len, peek, cap)) != 2)
		goto done;
	/* A frame to corrupt goes as to a guest without offloads: its
	 * checksums complete, so the guest's check sees the flipped bit. */
	missing = vnet_missing(m, n->corrupt ? 0 : n->rx_caps);
	if (missing & (VNET_CAP_TSO4 | VNET_CAP_TSO6 | VNET_CAP_ECN))
		rc = rx_segment(n, l, m, peek, frame, &n->seg_done[li], cap);
	else {
		pc[np++] = (struct piece){ peek, NET_ETH_ADDRS };	/* the addresses we checked */
		if (missing & VNET_CAP_CSUM) {	/* complete the checksum here */
			uint32_t at = (uint32_t)m->csum_start + m->csum_offset;
			uint16_t c = seg_csum_complete(frame, m->csum_start, len);

			csum[0] = c >> 8;
			csum[1] = c & 0xff;
			pc[np++] = (struct piece){ frame + NET_ETH_ADDRS, at - NET_ETH_ADDRS };
			pc[np++] = (struct piece){ csum, 2 };
			pc[np++] = (struct piece){ frame + at + 2, len - at - 2 };
			memset(&h, 0, sizeof(h));
		} else {
			pc[np++] = (struct piece){ frame + NET_ETH_ADDRS, len - NET_ETH_ADDRS };
			vnet_hdr_of(m, &h);
		}
		rc = rx_put(n, l, &h, pc, np, len, cap);
		if (rc == 0 && (missing & VNET_CAP_CSUM))
			STAT_ADD(n->st->csum_completed, 1);
		else if (rc == 0 && m->gso_type)
			STAT_ADD(n->st->rx_tso_frames, 1);
	}
done:
	if (rc < 0)
		return -1;
	n->seg_done[li] = 0;
	if (rc == 0) {
		STAT_ADD(l->st->rx_frames, 1);
		STAT_ADD(l->st->rx_bytes, len);
	}
	return 0;
}

/* Drains one link into the guest. Returns chains taken from the link;
 * sets *guest_full when the guest ran out of buffers. */
/* What an impaired link's verdict (link/impair.h) does to a due frame r
 * before delivery: 0 deliver (n->corrupt set for a corrupted one), 1
 * dropped and counted. */
static int impaired(struct net *n, struct link *l, unsigned fate)
{
	enum drop_reason why = (fate & IMP_VERDICT) == IMP_DOWN ? DROP_LINK_DOWN : DROP_IMPAIRED;

	if ((fate & IMP_VERDICT) == IMP_PASS) {
		n->corrupt = fate & IMP_CORRUPT;
		return 0;
	}
	STAT_ADD(n->st->drop[why], 1);
	if (why == DROP_LINK_DOWN)
		STAT_ADD(l->st->rx_link_down, 1);
	else
		STAT_ADD(l->st->rx_impaired, 1);
	return 1;
}

static unsigned rx_link(struct net *n, unsigned li, bool *guest_full, uint32_t cap)
{
	struct link *l = &n->links[li];
	struct link_rec r;
	unsigned done = 0;
	uint64_t now = 0;

	if (l->imp.on)	/* a plain link: nothing more than this test */
		link_imp_stamp(l, now = link_imp_now());
	while (done < NET_BATCH && link_rec_next(l, &r, max_plain(n))) {
		unsigned fate = IMP_PASS;

		if (l->imp.on && r.why == DROP_NONE) {
			fate = link_imp_judge(l, r.len, now);
			if (fate == IMP_WAIT) {	/* not due: it waits on the link */
				link_rec_keep(l);
				if (!n->imp_wake || l->imp.wake_ns < n->imp_wake)
					n->imp_wake = l->imp.wake_ns;
				break;
			}
		}
		done++;
		if (impaired(n, l, fate)) {
			link_rec_end(l, &r);
			continue;
		}
		if (rx_frame(n, l, li, &r, cap) < 0) {
			link_rec_keep(l);	/* keep it on the link for later */
			if (l->imp.on)
				l->imp.head_valid = true;	/* its fate stays drawn */
			n->corrupt = false;
			done--;
			*guest_full = true;
			break;
		}
		if ((fate & IMP_DUP) && rx_frame(n, l, li, &r, cap) == 0)	/* a second copy, if there is room */
			STAT_ADD(l->st->rx_duplicated, 1);
		n->seg_done[li] = 0;
		n->corrupt = false;
		link_rec_end(l, &r);
	}
	if (done) {
		link_rx_flush(l);
		if (l->imp.on)
			link_imp_held(l);
	}
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
	vq_disable_notify(n->rxq);	/* buffers are asked for only when we run out */
	if (!n->capw)
		n->capw = &n->cap;
	cap = capw_batch(n->capw);
	if (n->wire)	/* stream 0 is eth0's; a wire's frames are its link's */
		cap &= ~CAP_BIT(CAP_STREAM_GUEST);
	before = vq_used_count(n->rxq);
	n->imp_wake = 0;
	for (k = 0; k < n->nlinks && !full; k++) {
		unsigned li = (n->rx_next + k) % n->nlinks;
		struct link *l = &n->links[li];
		unsigned done;

		if (!l->shm || vq_error(&l->rxq))
			continue;
		done = rx_link(n, li, &full, cap);
		n->moved += done;
		if (done == NET_BATCH)
			more = true;
	}
	n->rx_next = (n->rx_next + 1) % n->nlinks;
	n->rx_full = full;
	if (vq_used_count(n->rxq) != before && vq_flush(n->rxq))
		n->rx_call = true;
	return more && !full;
}

/* The debt of link l, drained at 1/NET_WAIT_LEAK of the time since it was
 * last brought up to date, waiting or not: a link that waits all the time
 * in short episodes owes nothing. */
static void leak(struct link *l, uint64_t now)
{
	uint64_t drain = (now - l->wait_debt_at) / NET_WAIT_LEAK;

	l->wait_debt = l->wait_debt > drain ? l->wait_debt - drain : 0;
	l->wait_debt_at = now - (now - l->wait_debt_at) % NET_WAIT_LEAK;	/* keep the remainder */
}

/* The wait that began at n->wait_from on n->wait_link ended (the frame
 * went, or the link stalled): its part beyond NET_WAIT_FREE (all of it on
 * a link that is a queue) is the link's debt, all of it its counter. */
static void wait_end(struct net *n, uint64_t now)
{
	struct link *l = &n->links[n->wait_link - 1];
	uint64_t took = now - n->wait_from, free = link_tx_queue(l) ? 0 : NET_WAIT_FREE;

	leak(l, now);
	if (took > free)
		l->wait_debt += took - free;
	if (l->st)
		STAT_ADD(l->st->tx_wait_ms, took);
	n->wait_link = 0;
}

int net_tx_bound(struct net *n, uint64_t now, bool *more)
{
	struct link *l;
	uint64_t owed;
	bool moved = n->tx_moved;

	n->tx_moved = false;
	/* A wait ends when the guest's TX moved (its frame went: the next
	 * one waits anew) or it waits on another link now. On a link that is
	 * a queue (its peer holds frames until due) it goes on while frames
	 * trickle out: once that queue is full, the excess is dropped. */
	if (n->wait_link && (n->wait_link != n->tx_wait || (moved && !link_tx_queue(&n->links[n->wait_link - 1]))))
		wait_end(n, now);
	if (!n->tx_wait)
		return -1;
	l = &n->links[n->tx_wait - 1];
	if (!n->wait_link) {	/* a new wait on this link */
		n->wait_link = n->tx_wait;
		n->wait_from = now;
	}
	leak(l, now);
	owed = l->wait_debt + (now - n->wait_from);
	if (owed < NET_WAIT_MS)
		return (int)(NET_WAIT_MS - owed);
	wait_end(n, now);
	net_tx_expire(n);
	*more = true;
	return -1;
}

void net_tx_expire(struct net *n)
{
	if (n->tx_wait)
		n->links[n->tx_wait - 1].tx_stalled = true;
	n->tx_wait = 0;
}

bool net_arm(struct net *n)
{
	bool more = false;
	unsigned i;

	/* A frame waiting for room: the peer rings when it has taken some;
	 * kicks from the guest could not help until then. */
	if (n->tx_wait ? link_tx_want_room(&n->links[n->tx_wait - 1]) : n->txq && vq_enable_notify(n->txq))
		more = true;
	if (!n->rxq || !n->nlinks)
		return more;
	/* The guest's buffers, not the links, are what we wait for: enough of
	 * them for the frame that did not fit (a 64 KiB frame takes many), or
	 * we would spin on the few already posted. */
	if (n->rx_full)
		return vq_want_avail(n->rxq, n->rx_want) || more;
	for (i = 0; i < n->nlinks; i++) {
		struct link *l = &n->links[i];

		if (!l->shm || vq_error(&l->rxq))
			continue;
		/* Frames held until they are due are no work before then (the
		 * timer says when): only a new one is, to be stamped on time. */
		if (l->imp.on && l->imp.wake_ns ? vq_want_avail(&l->rxq, (uint16_t)(l->imp.seen - l->rxq.last_avail) + 1)
						 : link_rx_rearm(l))
			more = true;
	}
	return more;
}
