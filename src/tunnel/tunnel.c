/* Tunnel forwarding: UDP datagrams <-> link frames. See tunnel.h. */
#include "tunnel/tunnel.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "link/impair.h"
#include "link/record.h"
#include "net/csum.h"
#include "net/segment.h"
#include "net/vnet.h"

_Static_assert(VXLAN_MAX_FRAME <= LINK_MAX_FRAME, "an inner frame fits a link slot");
_Static_assert(VXLAN_MAX_FRAME == VNET_MAX_PLAIN(MV_MTU_DEFAULT),
	       "a tunnel is a receiver of the default MTU");
_Static_assert(TUN_BUF > VXLAN_MAX_PAYLOAD, "an over-long datagram is seen, not cut to size");
_Static_assert(MV_NODES_MAX - 1 <= 64, "links are bits of a uint64_t");

void tun_init(struct tunnel *t)
{
	unsigned i;

	for (i = 0; i < TUN_RX_MSGS; i++) {
		t->in_iov[i].iov_base = t->in_buf[i];
		t->in_iov[i].iov_len = sizeof(t->in_buf[i]);
	}
	for (i = 0; i < TUN_BATCH; i++)
		t->out_iov[i].iov_base = t->out_buf[i];
	t->nout = 0;
	t->gso = false;
	t->gso_below = VXLAN_MAX_PAYLOAD + 1;
}

unsigned tun_offloads(struct tunnel *t, bool gro)
{
	int on = 1, off = 0;
	unsigned got = 0;

	if (setsockopt(t->fd, SOL_UDP, UDP_GRO, gro ? &on : &off, sizeof(on)) == 0 && gro)
		got |= 1;
	/* Probing with 0 (no segmentation by default) tells whether the
	 * kernel knows UDP_SEGMENT (4.18); the size goes per message. */
	if (setsockopt(t->fd, SOL_UDP, UDP_SEGMENT, &off, sizeof(off)) == 0) {
		t->gso = true;
		got |= 2;
	}
	return got;
}

size_t tun_gro_seg(size_t n, int gso)
{
	return gso > 0 && (size_t)gso < n ? (size_t)gso : n;
}

bool tun_is_local(const struct tunnel *t, const uint8_t mac[6])
{
	unsigned i;

	for (i = 0; i < t->nlocal; i++)
		if (memcmp(mac, t->local[i], 6) == 0)
			return true;
	return false;
}

static enum drop_reason drop(struct tunnel *t, struct link *l, enum drop_reason why)
{
	STAT_ADD(t->st->drop[why], 1);
	if (l && l->st)
		STAT_ADD(l->st->drop[why], 1);
	return why;
}

/* Whether a frame from the network is ARP or IPv4 (after one VLAN tag at
 * most) whose sender is one of this system's VMs' addresses: a remote
 * cannot be a VM here, and VXLAN authenticates nothing (RFC 7348: the
 * remote check is by UDP source address, which can be forged), so such a
 * frame could only poison the VMs' neighbour caches. */
static bool claims_local_ip(const struct tunnel *t, const uint8_t *f, size_t len)
{
	size_t off = 12;
	uint16_t type;
	uint32_t ip;
	unsigned i;

	if (!t->nlocal_ip || len < 14)
		return false;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x8100 && len >= 18) {
		type = (uint16_t)(f[16] << 8 | f[17]);
		off = 16;
	}
	off += 2;
	if (type == 0x0806 && len >= off + 18)
		memcpy(&ip, f + off + 14, 4);	/* ARP: the sender's protocol address */
	else if (type == 0x0800 && len >= off + 20)
		memcpy(&ip, f + off + 12, 4);	/* IPv4: the source */
	else
		return false;
	for (i = 0; i < t->nlocal_ip; i++)
		if (ip == t->local_ip[i])
			return true;
	return false;
}

/* Which links a frame from the network goes to: DROP_NONE and *mask,
 * or the drop reason. */
static enum drop_reason route_in(const struct tunnel *t, const uint8_t *eth, uint64_t *mask)
{
	unsigned i;

	*mask = 0;
	if (t->wire) {	/* a cable's end: everything to its one link */
		*mask = t->nlinks ? 1 : 0;
		return t->nlinks ? DROP_NONE : DROP_NO_LINK;
	}
	if ((eth[6] & 1) || tun_is_local(t, eth + 6))
		return DROP_SPOOFED;
	for (i = 0; i < t->nlinks; i++)
		if ((eth[0] & 1) || memcmp(eth, t->links[i].peer_mac, 6) == 0)
			*mask |= 1ull << i;
	return *mask ? DROP_NONE : DROP_NO_LINK;
}

enum drop_reason tun_datagram(struct tunnel *t, const uint8_t *p, size_t n, const struct sockaddr_in *from,
		 bool trunc, uint64_t *dirty)
{
	const uint8_t *frame;
	size_t len;
	uint64_t mask;
	unsigned i;
	enum drop_reason why;
	uint8_t hb_flags;
	bool remote;
	int sent = 0;

	/* The source port is not checked: Linux and others pick it per flow
	 * (RFC 7348, section 5). */
	remote = from->sin_family == AF_INET && from->sin_addr.s_addr == t->remote.s_addr;
	why = remote && !trunc ? vxlan_decap(p, n, t->vni, &frame, &len) : DROP_NONE;
	if (remote && !trunc && why == DROP_NONE && vxlan_hb_parse(frame, len, &hb_flags)) {
		t->hb_heard = link_imp_now();	/* the remote is alive: for us, not traffic */
		return DROP_NONE;
	}
	STAT_ADD(t->st->guest_tx_frames, 1);
	STAT_ADD(t->st->guest_tx_bytes, n);
	if (!remote)
		return drop(t, NULL, DROP_NOT_REMOTE);
	if (trunc)
		return drop(t, NULL, DROP_BAD_LENGTH);
	if (why != DROP_NONE)
		return drop(t, NULL, why);
	why = !t->wire && claims_local_ip(t, frame, len) ? DROP_SPOOFED : route_in(t, frame, &mask);
	if (why != DROP_NONE)
		return drop(t, NULL, why);
	for (i = 0; i < t->nlinks; i++) {
		struct link *l = &t->links[i];
		uint8_t *slot;

		if (!(mask & (1ull << i)))
			continue;
		slot = link_tx_slot(l, len);
		if (!slot) {
			drop(t, l, !l->shm || vq_error(&l->txq) ? DROP_LINK_DOWN : DROP_QUEUE_FULL);
			continue;
		}
		memcpy(link_rec_put(slot, NULL), frame, len);	/* plain: no offload metadata */
		link_tx_commit(l, len);
		STAT_ADD(l->st->tx_frames, 1);
		STAT_ADD(l->st->tx_bytes, len);
		*dirty |= 1ull << i;
		sent = 1;
	}
	return sent ? DROP_NONE : DROP_QUEUE_FULL;	/* counted per link above */
}

/* Shows link l up or down as the remote's liveness says, unless it is
 * down for its own reasons (never attached, a stopped queue). */
static void show_link(struct link *l, bool up)
{
	if (l->shm && !vq_error(&l->txq) && !vq_error(&l->rxq))
		STAT_SET(l->st->up, up);
}

int tun_liveness(struct tunnel *t, uint64_t now)
{
	bool gone = t->hb_heard && now - t->hb_heard >= VXLAN_HB_DEAD_MS * 1000000ull;
	unsigned i;

	if (gone != t->remote_gone) {
		t->remote_gone = gone;
		if (gone)
			STAT_ADD(t->st->remote_down, 1);
		for (i = 0; i < t->nlinks; i++)
			show_link(&t->links[i], !gone);
	}
	if (now >= t->hb_next && t->fd >= 0) {	/* one datagram a beat: no batch to wait for */
		uint8_t d[VXLAN_HDR_LEN + VXLAN_HB_LEN];
		struct iovec iov = { d, sizeof(d) };
		struct mmsghdr m = { .msg_hdr = { .msg_name = &t->dest, .msg_namelen = sizeof(t->dest),
						  .msg_iov = &iov, .msg_iovlen = 1 } };

		vxlan_encap(d, t->vni);
		vxlan_hb_build(d + VXLAN_HDR_LEN, t->hb_heard && !gone ? VXLAN_HB_HEARS : 0, t->hb_seq++);
		sendmmsg(t->fd, &m, 1, MSG_DONTWAIT);	/* a lost one is what liveness is for */
		t->hb_next = now + VXLAN_HB_MS * 1000000ull;
	}
	/* Wake at the heartbeat, or when a silent remote is to be declared
	 * gone, whichever is first: gone is seen at VXLAN_HB_DEAD_MS, not
	 * up to a heartbeat later. */
	if (t->hb_heard && !gone && t->hb_heard + VXLAN_HB_DEAD_MS * 1000000ull < t->hb_next)
		return (int)((t->hb_heard + VXLAN_HB_DEAD_MS * 1000000ull - now + 999999) / 1000000);
	return (int)((t->hb_next - now + 999999) / 1000000);
}

void tun_flush_links(struct tunnel *t, uint64_t dirty)
{
	unsigned i;

	for (i = 0; i < t->nlinks; i++)
		if (dirty & (1ull << i))
			link_tx_flush(&t->links[i]);
}

/* The GRO segment size a received message's control data gives, or 0. */
static int gro_size(struct msghdr *h)
{
	struct cmsghdr *c;
	int v;

	if (h->msg_flags & MSG_CTRUNC)
		return 0;	/* unknown: the message is taken as one datagram */
	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v;
		}
	return 0;
}

bool tun_net_rx(struct tunnel *t)
{
	uint64_t dirty = 0;
	int i, n;

	for (i = 0; i < TUN_RX_MSGS; i++) {
		struct msghdr *h = &t->in_msg[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = &t->in_from[i];
		h->msg_namelen = sizeof(t->in_from[i]);
		h->msg_iov = &t->in_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = t->in_ctl[i].b;
		h->msg_controllen = sizeof(t->in_ctl[i].b);
	}
	n = recvmmsg(t->fd, t->in_msg, TUN_RX_MSGS, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return false;	/* EAGAIN: drained; errors: epoll says when to retry */
	for (i = 0; i < n; i++) {
		struct msghdr *h = &t->in_msg[i].msg_hdr;
		struct sockaddr_in none = { .sin_family = AF_UNSPEC };
		const struct sockaddr_in *from = h->msg_namelen >= sizeof(struct sockaddr_in) ? &t->in_from[i] : &none;
		size_t len = t->in_msg[i].msg_len < TUN_RX_BUF ? t->in_msg[i].msg_len : TUN_RX_BUF;
		bool trunc = h->msg_flags & MSG_TRUNC;
		size_t seg = trunc ? len : tun_gro_seg(len, gro_size(h)), off = 0;

		/* GRO joins datagrams of one flow: each is checked on its own. */
		do {
			size_t k = len - off < seg ? len - off : seg;

			tun_datagram(t, t->in_buf[i] + off, k, from, trunc, &dirty);
			off += k;
		} while (off < len);
	}
	tun_flush_links(t, dirty);
	t->moved += n;
	return n == TUN_RX_MSGS;
}

/* Groups datagrams first.. into messages: with GSO a run of equal sizes
 * (the last may be shorter, as UDP_SEGMENT allows) becomes one message.
 * Returns the number of messages. */
static unsigned build_msgs(struct tunnel *t, unsigned first)
{
	unsigned m = 0, i = first;

	while (i < t->nout) {
		struct msghdr *h = &t->out_msg[m].msg_hdr;
		size_t size = t->out_iov[i].iov_len, total = size;
		unsigned k = 1;

		if (t->gso && size < t->gso_below)
			while (i + k < t->nout && k < TUN_GSO_SEGS) {
				size_t next = t->out_iov[i + k].iov_len;

				if (next > size || total + next > TUN_GSO_BYTES)
					break;
				total += next;
				k++;
				if (next < size)
					break;	/* a shorter one ends the run */
			}
		memset(h, 0, sizeof(*h));
		h->msg_name = &t->dest;
		h->msg_namelen = sizeof(t->dest);
		h->msg_iov = &t->out_iov[i];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *c = &t->out_ctl[m].h;
			uint16_t v = size;

			h->msg_control = t->out_ctl[m].b;
			h->msg_controllen = CMSG_SPACE(sizeof(v));
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(v));
			memcpy(CMSG_DATA(c), &v, sizeof(v));
		}
		t->out_first[m] = i;
		t->out_count[m++] = k;
		i += k;
	}
	return m;
}

static void count_sent(struct tunnel *t, unsigned first, unsigned n)
{
	unsigned i;

	for (i = first; i < first + n; i++) {
		struct link *l = &t->links[t->out_link[i]];
		size_t len = t->out_iov[i].iov_len - VXLAN_HDR_LEN;

		STAT_ADD(l->st->rx_frames, 1);
		STAT_ADD(l->st->rx_bytes, len);
		STAT_ADD(t->st->guest_rx_frames, 1);
		STAT_ADD(t->st->guest_rx_bytes, len);
	}
}

/* Sends the batch; what the kernel refuses is counted by reason. */
static void send_batch(struct tunnel *t)
{
	unsigned nmsg = build_msgs(t, 0), off = 0, i;

	while (off < nmsg) {
		int r = t->fd >= 0 ? sendmmsg(t->fd, t->out_msg + off, nmsg - off, MSG_DONTWAIT) : -1;
		unsigned first = t->out_first[off], n = t->out_count[off];

		if (r > 0) {
			for (i = off; i < off + (unsigned)r; i++)
				count_sent(t, t->out_first[i], t->out_count[i]);
			off += r;
			continue;
		}
		if (n > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE)) {
			/* GSO refused at this size (path MTU, device): send
			 * the rest again, this size and larger one by one. */
			t->gso_below = t->out_iov[first].iov_len;
			if (++t->gso_refused >= 16)
				t->gso = false;	/* it keeps refusing: stop asking */
			nmsg = build_msgs(t, first);
			off = 0;
			continue;
		}
		/* The first unsent message failed: count it, go on. */
		for (i = first; i < first + n; i++)
			drop(t, &t->links[t->out_link[i]],
			     (errno == EAGAIN || errno == ENOBUFS) && t->fd >= 0 ? DROP_QUEUE_FULL : DROP_SEND_ERROR);
		off++;
	}
	t->nout = 0;
}

/* Where a record a linked VM put on the link goes (link_rec_next checked
 * it as a VMM receiver does, for one of the default MTU that takes no
 * offloads: r->m, r->peek): DROP_NONE to the remote. */
static enum drop_reason check_out(struct tunnel *t, struct link *l, const struct link_rec *r)
{
	if (r->why != DROP_NONE)
		return r->why;
	if (r->m.gso_type && (uint32_t)r->m.hdrs_len + r->m.gso_size > VXLAN_MAX_FRAME)
		return DROP_MALFORMED;	/* its segments would not fit a datagram */
	if (t->wire)	/* a cable: any MAC */
		return DROP_NONE;
	if (memcmp(r->peek + 6, l->peer_mac, 6) != 0)
		return DROP_SPOOFED;
	if (!(r->peek[0] & 1) && tun_is_local(t, r->peek))
		return DROP_NO_LINK;	/* a VM of this system is not behind the tunnel */
	return DROP_NONE;
}

/* The next datagram buffer of the batch (sending a full batch first). */
static uint8_t *out_next(struct tunnel *t)
{
	if (t->nout == TUN_BATCH)
		send_batch(t);
	vxlan_encap(t->out_buf[t->nout], t->vni);
	return t->out_buf[t->nout] + VXLAN_HDR_LEN;
}

static void out_commit(struct tunnel *t, unsigned li, uint32_t len)
{
	if (t->corrupt) {	/* an impaired link's bit flip, checksums complete: the last byte */
		uint8_t *b = t->out_buf[t->nout] + VXLAN_HDR_LEN;

		b[len - 1] ^= 0x01;
		t->corrupt = false;
		STAT_ADD(t->links[li].st->rx_corrupted, 1);
	}
	t->out_iov[t->nout].iov_len = VXLAN_HDR_LEN + len;
	t->out_link[t->nout] = li;
	t->nout++;
}

/* A checked record (frame of len bytes) as datagrams: a plain frame as it
 * is, a partial checksum completed, a TSO frame cut into gso_size TCP
 * segments with complete checksums (src/net/segment.c): the network gets
 * what a receiver without offloads would. Headers and addresses come from
 * peek, the checked copy; a peer rewriting the payload meanwhile only
 * spoils its own checksums. */
static void encap_out(struct tunnel *t, unsigned li, const struct vnet_meta *m, const uint8_t *peek,
		      const uint8_t *frame, uint32_t len)
{
	uint32_t i, poff, plen;
	uint8_t *b;

	if (m->gso_type) {
		for (i = 0; i < m->nsegs; i++) {
			b = out_next(t);
			seg_build(m, peek, frame, i, false, b, &poff, &plen);
			memcpy(b + m->hdrs_len, frame + poff, plen);
			out_commit(t, li, m->hdrs_len + plen);
		}
		return;
	}
	b = out_next(t);
	memcpy(b, frame, len);
	memcpy(b, peek, LINK_REC_ADDRS);	/* the addresses we checked */
	if (m->flags & VNET_F_NEEDS_CSUM)	/* over our copy: what is summed is what is sent */
		csum_store(b + m->csum_start + m->csum_offset, seg_csum_complete(b, m->csum_start, len));
	out_commit(t, li, len);
}

/* Drains one link into the outgoing batch. Returns frames taken. */
static unsigned drain_link(struct tunnel *t, unsigned li)
{
	struct link *l = &t->links[li];
	struct link_rec r;
	unsigned done = 0;
	uint64_t now = 0;

	if (l->imp.on)	/* a plain link: nothing more than this test */
		link_imp_stamp(l, now = link_imp_now());
	while (done < TUN_BATCH && link_rec_next(l, &r, VXLAN_MAX_FRAME)) {
		enum drop_reason why = check_out(t, l, &r);
		unsigned fate = IMP_PASS;

		if (l->imp.on && why == DROP_NONE) {	/* link/impair.h */
			fate = link_imp_judge(l, r.len, now);
			if (fate == IMP_WAIT) {
				link_rec_keep(l);
				if (!t->imp_wake || l->imp.wake_ns < t->imp_wake)
					t->imp_wake = l->imp.wake_ns;
				break;
			}
			if ((fate & IMP_VERDICT) != IMP_PASS) {
				why = (fate & IMP_VERDICT) == IMP_DOWN ? DROP_LINK_DOWN : DROP_IMPAIRED;
				if (why == DROP_LINK_DOWN)
					STAT_ADD(l->st->rx_link_down, 1);
				else
					STAT_ADD(l->st->rx_impaired, 1);
				STAT_ADD(t->st->drop[why], 1);
				done++;
				link_rec_end(l, &r);
				continue;
			}
		}
		done++;
		if (why != DROP_NONE) {
			drop(t, l, why);
		} else {
			t->corrupt = fate & IMP_CORRUPT;
			encap_out(t, li, &r.m, r.peek, r.frame, r.len);
			t->corrupt = false;
			if (fate & IMP_DUP) {
				encap_out(t, li, &r.m, r.peek, r.frame, r.len);
				STAT_ADD(l->st->rx_duplicated, 1);
			}
		}
		link_rec_end(l, &r);
	}
	if (done) {
		link_rx_flush(l);
		if (l->imp.on)
			link_imp_held(l);
	}
	return done;
}

bool tun_links_rx(struct tunnel *t)
{
	bool more = false;
	unsigned k;

	if (!t->nlinks)
		return false;
	t->imp_wake = 0;
	for (k = 0; k < t->nlinks; k++) {
		unsigned li = (t->rx_next + k) % t->nlinks;
		struct link *l = &t->links[li];

		if (!l->shm || vq_error(&l->rxq))
			continue;
		unsigned done = drain_link(t, li);

		t->moved += done;
		/* Frames held until due are no work before then (the loop's
		 * deadline says when): only a new one is, to be stamped. */
		if (done == TUN_BATCH ||
		    (l->imp.on && l->imp.wake_ns ? vq_want_avail(&l->rxq, (uint16_t)(l->imp.seen - l->rxq.last_avail) + 1)
						 : link_rx_rearm(l)))
			more = true;
	}
	if (t->nout)
		send_batch(t);
	t->rx_next = (t->rx_next + 1) % t->nlinks;
	return more;
}
