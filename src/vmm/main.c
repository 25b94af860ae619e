/* The VMM process: one per VM. Serves each of the guest's virtio-net
 * NICs over vhost-user (eth0, the segment's, and one per wire end) and
 * forwards their frames over the VM's links. */
#include "vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/fdio.h"
#include "common/handoff.h"
#include "common/log.h"
#include "common/stats.h"
#include "common/vusock.h"
#include "link/link.h"
#include "node/node.h"
#include "vmm/net.h"
#include "vmm/peercred.h"
#include "vmm/vhost_user.h"

#define ACCEPT_PAUSE_MS 200	/* out of fds: how long the listening socket is not watched */


/* One guest NIC: its vhost-user socket and session, and its forwarding
 * (a segment's, or a wire's to its one link). */
struct nic {
	struct node *node;		/* the VMM's: name, stats, links, loop */
	const char *pfx;		/* in log lines: "" for eth0, "eth1: " */
	char sock_path[NODE_SOCKET_MAX];
	int listen_fd;
	struct vu_dev vu;
	int kick_reg[VU_NRINGS];	/* kick fds currently in the loop */
	bool ring_err_logged[VU_NRINGS];
	struct net net;
	uint64_t features_logged;	/* the frontend's features we last logged */
	bool tx_more, rx_more;		/* work flagged for the next pass */
	/* Its session's counters: eth0's are the VM's own fields, a wire
	 * NIC's its struct nic_stats. */
	uint64_t *c_connects, *c_disconnects, *c_bad_messages, *c_vq_errors;
	uint32_t *c_connected, *c_accept_errors;
	uint64_t listen_paused;		/* ms: accept4 ran out of fds; look again then */
	char name[MV_IFNAME_MAX + 2];
	char ifname[MV_IFNAME_MAX];	/* a wire NIC's; "" for eth0 */
	bool on;			/* a NIC in this slot (a wire NIC dropped at run time leaves none) */
};

struct vmm {
	struct nic nic[1 + MV_NICS_MAX];	/* 0: eth0; a wire NIC handed over takes a free slot */
	unsigned nnics;			/* slots up to the last one on */
	uint8_t link_nic[MV_NODE_LINKS_MAX];	/* the NIC of each link */
	uint64_t moved;			/* all NICs' chains moved: the loop's measure */
	uint64_t moved_gone;		/* of those, by NICs dropped at run time (it only grows) */
	struct peer_rule peer;		/* who may be a frontend (every NIC's) */
};

static struct vmm the_vmm;

/* The capture ring, mapped now: inside the sandbox nothing can be opened.
 * Without it the VM forwards as ever; only capture is unavailable. */
/* The capture ring is a file in the state directory that root could
 * truncate under our mapping; a write there would then raise SIGBUS. The
 * handler puts private memory over the ring instead (mmap, allowed in the
 * sandbox): the capture is lost, forwarding goes on. A SIGBUS anywhere
 * else still ends the process (SA_RESETHAND: the default action next). */
static uint8_t *cap_map;
static volatile sig_atomic_t cap_lost;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;

	if (cap_map && a >= cap_map && a < cap_map + CAP_FILE_SIZE &&
	    mmap(cap_map, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    MAP_FAILED) {
		cap_lost = 1;
		cap_map = NULL;
	}
}

/* Names the ring's streams after the links, as they now are (at start,
 * and again when links are handed over or dropped at run time). A
 * segment link's stream is named after the peer, a wire's after its NIC
 * with a ':' before (no VM name has one): a NIC has one link. */
static void name_streams(struct nic *v)
{
	static char wire_names[CAP_LINKS][MV_IFNAME_MAX + 1];
	const char *peers[MV_NODE_LINKS_MAX];
	unsigned i;

	if (!cap_map)
		return;
	for (i = 0; i < v->node->nlinks && i < CAP_LINKS; i++) {
		const char *nic = v->node->links[i].st->nic;

		if (nic[0])
			snprintf(wire_names[i], sizeof(wire_names[i]), ":%s", nic);
		peers[i] = nic[0] ? wire_names[i] : v->node->links[i].peer;
	}
	capw_attach(&v->net.cap, cap_map, CAP_FILE_SIZE, v->node->name, peers, i);
}

static void map_capture(struct nic *v, int fd)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_RESETHAND };
	uint64_t size;
	void *p;

	if (fd_size(fd, &size) < 0 || size < CAP_FILE_SIZE) {
		log_warn("capture fd %d: not a capture file; no capture", fd);
		close(fd);
		return;
	}
	p = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("cannot map the capture file: %s; no capture", strerror(errno));
		return;
	}
	cap_map = p;
	sigaction(SIGBUS, &sa, NULL);
	name_streams(v);
}

/* The socket (common/vusock.h), when we drop to a user handed to the
 * frontend's (--frontend: this VM's QEMU, which reconnects here after a
 * VMM restart; not the VMM's own uid, which QEMU must not share). With
 * --group-connect (guest = external) it is opened to the group, for a
 * frontend we do not start (libvirt's QEMU, a member of that group). */
static int listen_on(const struct node_args *a, const char *path)
{
	return vusock_listen(path, a->drop, the_vmm.peer.uid, the_vmm.peer.gid, a->vmm.group_connect);
}

/* The vhost-user layer is about to close a kick fd. Closing does not take
 * it out of epoll (the frontend still holds the same eventfd), so do it
 * now, while the fd still names it. */
static void retire_kick(void *ctx, int fd)
{
	struct nic *v = ctx;
	int i;

	loop_del(&v->node->loop, fd);
	for (i = 0; i < VU_NRINGS; i++)
		if (v->kick_reg[i] == fd)
			v->kick_reg[i] = -1;
}

static int on_kick(void *ctx, uint32_t ring)
{
	struct nic *v = ctx;

	if (ring == VU_TX)
		v->tx_more = true;
	else
		v->rx_more = true;
	return 0;
}

/* Watches the kick fds that vhost-user messages gave us. */
static void sync_kicks(struct nic *v)
{
	int i;

	for (i = 0; i < VU_NRINGS; i++) {
		int fd = v->vu.ring[i].kick_fd;

		if (v->kick_reg[i] < 0 && fd >= 0 && loop_add(&v->node->loop, fd, true, on_kick, v, i) == 0)
			v->kick_reg[i] = fd;
		if (!v->vu.ring[i].started)
			v->ring_err_logged[i] = false;
	}
}

static void end_session(struct nic *v, int rc)
{
	if (rc < 0) {
		log_warn("%svhost-user: %s; closing the connection", v->pfx, v->vu.err);
		STAT_ADD(*v->c_bad_messages, 1);
	} else {
		log_info("%svhost-user frontend disconnected", v->pfx);
	}
	loop_del(&v->node->loop, v->vu.fd);
	vu_reset(&v->vu);
	v->features_logged = 0;
	STAT_ADD(*v->c_disconnects, 1);
	STAT_SET(*v->c_connected, 0);
}

/* A message (or the end) on the frontend's connection. */
static int on_conn(void *ctx, uint32_t arg)
{
	struct nic *v = ctx;
	int rc = vu_receive(&v->vu);

	if (rc != 0)
		end_session(v, rc);
	sync_kicks(v);
	v->rx_more = v->tx_more = true;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int on_listen(void *ctx, uint32_t arg)
{
	struct nic *v = ctx;
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	uid_t peer;

	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)) {
		/* The connection stays queued and the socket readable: watching
		 * it now would spin. Stop for a while (bound_wait resumes). */
		if (!*v->c_accept_errors)
			log_warn("%svhost-user: cannot accept a frontend: %s; trying again every %d ms", v->pfx,
				 strerror(errno), ACCEPT_PAUSE_MS);
		STAT_SET(*v->c_accept_errors, *v->c_accept_errors + 1);
		loop_del(&v->node->loop, v->listen_fd);
		v->listen_paused = now_ms() + ACCEPT_PAUSE_MS;
		return 0;
	}
	if (fd < 0)
		return 0;
	if (!peer_allowed(fd, &the_vmm.peer, &peer)) {	/* the socket's mode let it through: not its QEMU */
		STAT_ADD(v->node->st->vu_peer_refused, 1);
		log_warn("%svhost-user: refusing a frontend of uid %d: only uid %u%s may connect", v->pfx, (int)peer,
			 (unsigned)the_vmm.peer.uid, the_vmm.peer.group ? " or its group's members" : "");
		close(fd);
		return 0;
	}
	if (v->vu.fd >= 0) {	/* one frontend at a time */
		log_warn("%svhost-user: refusing a second frontend", v->pfx);
		close(fd);
		return 0;
	}
	vu_attach(&v->vu, fd);
	if (loop_add(&v->node->loop, fd, false, on_conn, v, 0) < 0) {
		vu_reset(&v->vu);
		return 0;
	}
	STAT_ADD(*v->c_connects, 1);
	STAT_SET(*v->c_connected, 1);
	log_info("%svhost-user frontend connected", v->pfx);
	return 0;
}

/* Frames on a link, or room on a link a frame waits for: work for the
 * link's NIC. */
static int on_link(void *ctx, uint32_t i)
{
	struct vmm *m = ctx;
	struct nic *v = &m->nic[m->link_nic[i % MV_NODE_LINKS_MAX]];

	v->rx_more = true;
	v->tx_more = v->tx_more || v->net.tx_wait;
	return 0;
}

static void notify_guest(struct nic *v, int ring, bool *owed)
{
	uint64_t one = 1;
	int fd = v->vu.ring[ring].call_fd;

	if (*owed && fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_debug("call eventfd write: %s", strerror(errno));
	*owed = false;
}

/* Reports each stopped queue once, at the edge. */
static void check_errors(struct nic *v)
{
	unsigned i;

	for (i = 0; i < VU_NRINGS; i++) {
		struct vu_ring *r = &v->vu.ring[i];

		if (vq_error(&r->vq) && !v->ring_err_logged[i]) {
			log_warn("%sguest %s queue stopped: %s", v->pfx, i == VU_RX ? "RX" : "TX",
				 vq_strerror(vq_error(&r->vq)));
			v->ring_err_logged[i] = true;
			STAT_ADD(*v->c_vq_errors, 1);
			vu_ring_fail(&v->vu, i);
		}
	}
}

/* Offloads as VNET_CAP_* from features: checksum first (TSO and ECN
 * require it, VIRTIO 1.x 5.1.3.1), then TSO (ECN requires it). */
static unsigned caps_of(uint64_t f, int csum, int tso4, int tso6, int ecn)
{
	unsigned c = 0;

	if (!(f & (1ULL << csum)))
		return 0;
	c |= VNET_CAP_CSUM;
	if (f & (1ULL << tso4))
		c |= VNET_CAP_TSO4;
	if (f & (1ULL << tso6))
		c |= VNET_CAP_TSO6;
	if ((c & (VNET_CAP_TSO4 | VNET_CAP_TSO6)) && (f & (1ULL << ecn)))
		c |= VNET_CAP_ECN;
	return c;
}

/* RX runs only while enabled. TX runs while started: the spec wants a
 * started but disabled TX ring processed and its frames discarded. */
static void bind_rings(struct nic *v)
{
	uint64_t f = v->vu.features;

	v->net.tx_caps = caps_of(f, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
				 VIRTIO_NET_F_HOST_ECN);
	v->net.rx_caps = caps_of(f, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
				 VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN);
	v->net.mrg_rxbuf = f & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	if (f && f != v->features_logged) {	/* each time a frontend negotiates */
		v->features_logged = f;
		log_info("%sfrontend features 0x%llx: sends%s%s%s%s, takes%s%s%s%s%s", v->pfx, (unsigned long long)f,
			 v->net.tx_caps & VNET_CAP_CSUM ? " csum" : " plain",
			 v->net.tx_caps & VNET_CAP_TSO4 ? " tso4" : "", v->net.tx_caps & VNET_CAP_TSO6 ? " tso6" : "",
			 v->net.tx_caps & VNET_CAP_ECN ? " ecn" : "",
			 v->net.rx_caps & VNET_CAP_CSUM ? " csum" : " plain",
			 v->net.rx_caps & VNET_CAP_TSO4 ? " tso4" : "", v->net.rx_caps & VNET_CAP_TSO6 ? " tso6" : "",
			 v->net.rx_caps & VNET_CAP_ECN ? " ecn" : "", v->net.mrg_rxbuf ? " mrg_rxbuf" : "");
	}
	v->net.rxq = vu_ring_running(&v->vu, VU_RX) ? &v->vu.ring[VU_RX].vq : NULL;
	v->net.txq = vu_ring_started(&v->vu, VU_TX) ? &v->vu.ring[VU_TX].vq : NULL;
	v->net.tx_discard = !v->vu.ring[VU_TX].enabled;
}


/* The loop's deadline: the soonest of the NICs' (a frame waiting for
 * room, frames an impaired link holds until they are due). */
static int64_t bound_wait(void *ctx, bool *more)
{
	struct vmm *m = ctx;
	uint64_t now = 0;
	int64_t soonest = -1;
	bool expired;
	unsigned k;

	for (k = 0; k < m->nnics; k++) {
		struct nic *v = &m->nic[k];
		int64_t w;

		if (!v->on)
			continue;
		if (v->listen_paused) {	/* accept4 ran out of fds: watch again? */
			uint64_t t = now_ms();

			if (t >= v->listen_paused) {
				v->listen_paused = 0;
				if (loop_add(&v->node->loop, v->listen_fd, false, on_listen, v, 0) < 0)
					v->listen_paused = t + ACCEPT_PAUSE_MS;
			}
			w = v->listen_paused ? (int64_t)(v->listen_paused - t) * 1000000 : -1;
			if (w >= 0 && (soonest < 0 || w < soonest))
				soonest = w;
		}
		if (v->net.imp_wake) {
			uint64_t t = link_imp_now();

			w = v->net.imp_wake <= t ? 0 : (int64_t)(v->net.imp_wake - t);	/* to the ns */
			if (!w)
				v->rx_more = *more = true;
			else if (soonest < 0 || w < soonest)
				soonest = w;
		}

		if (!v->net.tx_wait && !v->net.wait_link) {	/* nothing waits for room */
			v->net.tx_moved = false;
			continue;
		}
		if (!now)
			now = now_ms();
		expired = false;
		w = net_tx_bound(&v->net, now, &expired);	/* each link's budget: vmm/net.h */
		if (w > 0)
			w *= 1000000;	/* ms */
		if (expired)
			v->tx_more = *more = true;
		if (w >= 0 && (soonest < 0 || w < soonest))
			soonest = w;
	}
	return soonest;
}

/* One pass of a NIC: its guest's TX to its links, its links to its
 * guest's RX, the interrupts owed, the queues that stopped. */
static bool nic_pass(struct nic *v, bool all)
{
	if (all)
		v->tx_more = v->rx_more = true;
	bind_rings(v);
	if (v->tx_more)
		v->tx_more = net_tx(&v->net);
	if (v->rx_more)
		v->rx_more = net_rx(&v->net);
	notify_guest(v, VU_TX, &v->net.tx_call);
	notify_guest(v, VU_RX, &v->net.rx_call);
	check_errors(v);
	return v->tx_more || v->rx_more;
}

static bool pass(void *ctx, bool all)
{
	struct vmm *m = ctx;
	uint64_t moved = 0;
	bool more = false;
	unsigned k;

	if (cap_lost == 1) {	/* said once, outside the signal handler */
		cap_lost = 2;
		log_warn("the capture file was truncated under us: capture stopped, forwarding goes on");
	}

	for (k = 0; k < m->nnics; k++) {
		if (!m->nic[k].on)
			continue;
		more |= nic_pass(&m->nic[k], all);
		moved += m->nic[k].net.moved;
	}
	moved += m->moved_gone;
	m->moved = moved;
	node_check_links(m->nic[0].node);
	return more;
}

static bool arm(void *ctx)
{
	struct vmm *m = ctx;
	bool more = false;
	unsigned k;

	for (k = 0; k < m->nnics; k++)
		if (m->nic[k].on)
			more |= net_arm(&m->nic[k].net);
	return more;
}

/* NIC k's state and counters, not yet listening, no links: eth0 (w
 * NULL: a's) or the wire NIC w. */
static void nic_init(struct vmm *m, struct node *n, const struct node_args *a, unsigned k,
		     const struct node_wire_arg *w)
{
	struct nic *v = &m->nic[k];

	memset(v, 0, sizeof(*v));
	v->on = true;
	v->node = n;
	v->listen_fd = -1;
	vu_init(&v->vu);
	v->vu.kick_retire = retire_kick;
	v->vu.kick_retire_ctx = v;
	v->kick_reg[0] = v->kick_reg[1] = -1;
	v->vu.offered = VU_FEATURES | VU_NET_FEATURES | ((w ? w->offloads : a->vmm.offloads) ? VU_OFFLOAD_FEATURES : 0);
	v->vu.mtu = w ? w->mtu : a->vmm.mtu;
	memcpy(v->net.mac, w ? w->mac : a->vmm.mac, ETH_ALEN);
	v->net.mtu = v->vu.mtu;
	v->net.wire = w || a->vmm.eth0_wire;
	v->net.st = n->st;
	v->net.capw = &m->nic[0].net.cap;	/* one writer per ring: eth0's */
	snprintf(v->sock_path, sizeof(v->sock_path), "%s", w ? w->socket : a->vmm.socket);
	if (w) {
		struct nic_stats *ns = &n->st->nic[k - 1];

		memset(ns, 0, sizeof(*ns));
		snprintf(ns->name, sizeof(ns->name), "%s", w->name);
		snprintf(v->name, sizeof(v->name), "%s: ", w->name);
		snprintf(v->ifname, sizeof(v->ifname), "%s", w->name);
		v->c_connects = &ns->vu_connects;
		v->c_disconnects = &ns->vu_disconnects;
		v->c_bad_messages = &ns->vu_bad_messages;
		v->c_vq_errors = &ns->vq_errors;
		v->c_connected = &ns->vu_connected;
		v->c_accept_errors = &ns->vu_accept_errors;
	} else {
		v->c_connects = &n->st->vu_connects;
		v->c_disconnects = &n->st->vu_disconnects;
		v->c_bad_messages = &n->st->vu_bad_messages;
		v->c_vq_errors = &n->st->vq_errors;
		v->c_connected = &n->st->vu_connected;
		v->c_accept_errors = &n->st->vu_accept_errors;
	}
	v->pfx = v->name;
	STAT_SET(*v->c_connected, 0);
}

/* NIC k: its socket, its links (a run of the node's: first, n), its
 * counters. 0, or -1 once logged. */
static int nic_setup(struct vmm *m, struct node *n, const struct node_args *a, unsigned k, unsigned first,
		     unsigned nl)
{
	const struct node_wire_arg *w = k ? &a->vmm.wire[k - 1] : NULL;
	struct nic *v = &m->nic[k];
	unsigned i;
	int rc;

	nic_init(m, n, a, k, w);
	v->net.links = &n->links[first];
	v->net.nlinks = nl;
	v->net.link_base = first;
	for (i = 0; i < nl; i++)	/* a wire's link is named after its NIC */
		snprintf(n->links[first + i].st->nic, sizeof(n->links[first + i].st->nic), "%s",
			 w ? w->name : v->net.wire ? "eth0" : "");
	v->listen_fd = listen_on(a, v->sock_path);
	rc = v->listen_fd < 0 ? v->listen_fd : loop_add(&n->loop, v->listen_fd, false, on_listen, v, 0);
	if (rc < 0) {
		log_err("cannot listen on %s: %s", v->sock_path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* The NICs, their sockets and the capture ring, before the sandbox:
 * nothing can be opened inside it. */
static int setup(struct node *n, const struct node_args *a)
{
	struct vmm *m = &the_vmm;
	unsigned k, i, first = 0;

	n->ctx = m;
	/* Without --frontend: whoever the VMM runs as (a test's frontend). */
	m->peer.uid = a->vmm.frontend ? a->vmm.front_uid : a->drop ? a->uid : getuid();
	m->peer.gid = a->vmm.frontend ? a->vmm.front_gid : a->drop ? a->gid : getgid();
	m->peer.group = a->vmm.group_connect;
	m->nnics = 1 + a->vmm.nwires;
	for (i = 0; i < n->nlinks; i++)
		m->link_nic[i] = a->link[i].nic;	/* grouped by NIC (node/args.c) */
	for (k = 0; k < m->nnics; k++) {
		for (i = first; i < n->nlinks && a->link[i].nic == k; i++)
			;
		if (nic_setup(m, n, a, k, first, i - first) < 0)
			return -1;
		first = i;
	}
	STAT_SET(n->st->nnics, a->vmm.nwires);
	if (a->vmm.capture_fd >= 0)
		map_capture(&m->nic[0], a->vmm.capture_fd);	/* names its streams after the links */
	return 0;
}

static void started(struct node *n, unsigned uid)
{
	struct vmm *m = &the_vmm;

	if (m->nnics > 1)
		log_info("serving %s and %u wire NIC(s) with %u link(s), sandboxed as uid %u", m->nic[0].sock_path,
			 m->nnics - 1, n->nlinks, uid);
	else
		log_info("serving %s with %u link(s), sandboxed as uid %u", m->nic[0].sock_path, n->nlinks, uid);
}

/* Links and wire NICs at run time (node/relink.h): a VMM whose eth0 is
 * the segment's (its links come first, each wire NIC's one link after). */
static int relink_ok(struct node *n)
{
	return !the_vmm.nic[0].net.wire ? 0 : -EOPNOTSUPP;
}

/* What points at a link by number (1 + its index; 0: none) after link
 * at i came (added) or went: links from there on moved. The one that
 * went points nowhere: a frame waiting for it is routed anew (no_link). */
static unsigned renumber(unsigned v, unsigned i, bool added)
{
	return !v || v <= i ? v : added ? v + 1 : v == i + 1 ? 0 : v - 1;
}

static void set_nnics(struct vmm *m, struct node *n)
{
	unsigned k;

	for (k = 1 + MV_NICS_MAX; k > 1 && !m->nic[k - 1].on; k--)
		;
	m->nnics = k;
	STAT_SET(n->st->nnics, k - 1);
}

/* The links changed between passes: eth0 serves those of the segment
 * (the first ones, unnamed), each wire NIC the one named after it; what
 * pointed at a link by index follows it, and the next pass looks at
 * every link. A wire NIC's own numbers count its one link: they stay. */
static void relinked(struct node *n, int index, bool added)
{
	struct vmm *m = &the_vmm;
	struct net *t = &m->nic[0].net;
	unsigned i = (unsigned)index, k, j, seg;

	for (seg = 0; seg < n->nlinks && !n->links[seg].st->nic[0]; seg++)
		;
	t->links = &n->links[0];
	t->nlinks = seg;
	for (k = 0; k < n->nlinks; k++)
		m->link_nic[k] = 0;
	for (k = 1; k < m->nnics; k++) {
		struct nic *v = &m->nic[k];

		if (!v->on)
			continue;
		v->net.nlinks = 0;
		for (j = seg; j < n->nlinks; j++)
			if (!strncmp(n->links[j].st->nic, v->ifname, sizeof(v->ifname))) {
				v->net.links = &n->links[j];
				v->net.nlinks = 1;
				v->net.link_base = j;
				m->link_nic[j] = k;
				break;
			}
		v->rx_more = v->tx_more = true;
	}
	if (i <= seg) {	/* a segment link, or a wire's after them: eth0's own numbers stay */
		t->tx_wait = renumber(t->tx_wait, i, added);
		t->wait_link = renumber(t->wait_link, i, added);
		if (added) {
			memmove(&t->seg_done[i + 1], &t->seg_done[i],
				(MV_NODE_LINKS_MAX - i - 1) * sizeof(t->seg_done[0]));
			t->seg_done[i] = 0;
		} else {
			memmove(&t->seg_done[i], &t->seg_done[i + 1],
				(MV_NODE_LINKS_MAX - i - 1) * sizeof(t->seg_done[0]));
			t->seg_done[MV_NODE_LINKS_MAX - 1] = 0;
		}
	}
	if (t->rx_next >= t->nlinks)
		t->rx_next = 0;
	name_streams(&m->nic[0]);
	m->nic[0].rx_more = m->nic[0].tx_more = true;
}

static struct nic *nic_named(struct vmm *m, const char *name)
{
	unsigned k;

	for (k = 1; k < m->nnics; k++)
		if (m->nic[k].on && !strncmp(m->nic[k].ifname, name, sizeof(m->nic[k].ifname)))
			return &m->nic[k];
	return NULL;
}

/* A wire NIC handed over: the first free slot, served on the socket the
 * supervisor made (node/node.h). */
static int nic_add(struct node *n, const struct handoff_msg *msg)
{
	static struct node_args none;	/* eth0's settings: not read for a wire NIC */
	struct vmm *m = &the_vmm;
	struct nic *v;
	unsigned k;
	int rc;

	if (nic_named(m, msg->nic.name)) {
		close(msg->listen_fd);
		return -EEXIST;
	}
	for (k = 1; k < 1 + MV_NICS_MAX && m->nic[k].on; k++)
		;
	if (k == 1 + MV_NICS_MAX) {
		close(msg->listen_fd);
		return -ENOSPC;
	}
	nic_init(m, n, &none, k, &msg->nic);
	v = &m->nic[k];
	v->listen_fd = msg->listen_fd;
	rc = loop_add(&n->loop, v->listen_fd, false, on_listen, v, 0);
	if (rc < 0) {
		close(v->listen_fd);
		memset(&n->st->nic[k - 1], 0, sizeof(n->st->nic[k - 1]));
		v->on = false;
		return rc;
	}
	set_nnics(m, n);
	log_info("%s: wire NIC added at run time, MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u", msg->nic.name,
		 v->net.mac[0], v->net.mac[1], v->net.mac[2], v->net.mac[3], v->net.mac[4], v->net.mac[5],
		 v->net.mtu);
	return 0;
}

/* Its session and socket end; its link goes next (node/relink.c). */
static void nic_drop(struct node *n, const char *name)
{
	struct vmm *m = &the_vmm;
	struct nic *v = nic_named(m, name);
	unsigned k;

	if (!v)
		return;
	k = (unsigned)(v - m->nic);
	if (v->vu.fd >= 0)
		loop_del(&n->loop, v->vu.fd);
	vu_reset(&v->vu);	/* its kick fds leave the loop (retire_kick) */
	if (!v->listen_paused)
		loop_del(&n->loop, v->listen_fd);
	close(v->listen_fd);
	m->moved_gone += v->net.moved;
	v->on = false;
	v->net.links = NULL;
	v->net.nlinks = 0;
	memset(&n->st->nic[k - 1], 0, sizeof(n->st->nic[k - 1]));
	set_nnics(m, n);
	log_info("%s: wire NIC dropped at run time", name);
}

/* The socket files are the supervisor's to remove: we may not unlink. */
static void stop(struct node *n)
{
	unsigned k;

	for (k = 0; k < the_vmm.nnics; k++)
		if (the_vmm.nic[k].on)
			vu_reset(&the_vmm.nic[k].vu);
}

/* The vhost-user socket, and the memory a frontend sends. */
static const struct sandbox_rule vmm_rules[] = {
	SANDBOX_ANY(recvmsg),		/* vhost-user messages and the fds they carry; links handed over (common/handoff.h) */
	SANDBOX_ANY(sendmsg),		/* vhost-user replies; answers on the handoff channel */
	SANDBOX_ANY(recvfrom),		/* recv() on the vhost-user socket */
	SANDBOX_ANY(sendto),		/* send() on the vhost-user socket */
	SANDBOX_ANY(accept4),		/* a restarted frontend reconnecting */
	SANDBOX_ARG_IS(getsockopt, 1, SOL_SOCKET),	/* its SO_PEERCRED, SO_PEERGROUPS: is it our frontend? */
	SANDBOX_ANY(fstat),		/* size of a guest memory file (fd only, no path) */
	SANDBOX_ARG_IS(fcntl, 1, F_GET_SEALS),	/* is guest memory sealed? */
	SANDBOX_ARG_IS(fcntl, 1, F_ADD_SEALS),	/* seal it against shrinking */
};

const struct node_kind_ops vmm_kind = {
	.kind = NODE_VMM,
	.who = "VMM",
	.setup = setup,
	.on_link = on_link,
	.loop = { .pass = pass, .arm = arm, .deadline = bound_wait, .moved = &the_vmm.moved },
	.started = started,
	.stop = stop,
	.relink_ok = relink_ok,
	.relinked = relinked,
	.nic_add = nic_add,
	.nic_drop = nic_drop,
	.rules = vmm_rules,
	.nrules = sizeof(vmm_rules) / sizeof(vmm_rules[0]),
};

int vmm_main(int argc, char **argv)
{
	return node_main(&vmm_kind, argc, argv);
}
