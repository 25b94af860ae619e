/* The VMM process: one per VM. Serves the guest's virtio-net over
 * vhost-user and forwards its frames over the VM's links. */
#include "vmm/vmm.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/stats.h"
#include "link/link.h"
#include "vmm/args.h"
#include "vmm/net.h"
#include "vmm/node.h"
#include "vmm/sandbox.h"
#include "vmm/vhost_user.h"

enum ev_kind { EV_LISTEN, EV_CONN, EV_SIGNAL, EV_KICK, EV_LINK };
#define EPOLL_EVERY 8	/* passes between looks at the fds while busy */
#define YIELD_MIN 32	/* chains a stretch moves for a yield to pay */
#define WAIT_MS 100	/* longest a guest's TX waits for room on a full link
			 * without the peer taking a frame: several scheduler
			 * periods of a busy host (a TCG guest on 2 CPUs was
			 * seen to leave its link full for over 10 ms), yet
			 * half TCP's 200 ms minimum RTO, so a frozen peer
			 * holds the others' flows up once, briefly */
#define EV(kind, i) (((uint64_t)(kind) << 32) | (uint32_t)(i))

struct vmm {
	char name[MV_NAME_MAX];
	char sock_path[VMM_SOCKET_MAX];
	int ready_fd;			/* the supervisor waits on it; -1: none */
	bool drop;			/* started by root: become uid:gid */
	bool group_connect;		/* socket 0660: the group's members may connect */
	uid_t uid;
	gid_t gid;
	unsigned qsize;
	int ep, listen_fd, sig_fd;
	struct vm_stats *st;
	struct vu_dev vu;
	int kick_reg[VU_NRINGS];	/* kick fds currently in epoll */
	bool ring_err_logged[VU_NRINGS];
	struct link links[MV_NODE_LINKS_MAX];
	unsigned nlinks;
	struct net net;
	uint64_t features_logged;	/* the frontend's features we last logged */
};

/* The capture ring, mapped now: inside the sandbox nothing can be opened.
 * Without it the VM forwards as ever; only capture is unavailable. */
static void map_capture(struct vmm *v, int fd)
{
	const char *peers[MV_NODE_LINKS_MAX];
	uint64_t size;
	unsigned i;
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
	for (i = 0; i < v->nlinks && i < CAP_LINKS; i++)
		peers[i] = v->links[i].peer;
	capw_attach(&v->net.cap, p, CAP_FILE_SIZE, v->name, peers, i);
}

static void usage(void)
{
	fprintf(stderr, "usage: multivm vmm --name NAME --mac MAC --socket PATH --stats-fd FD "
		"--queue-size N [--capture-fd FD] [--ready-fd FD] [--user UID:GID] [--group-connect] "
		"[--mtu N] [--offloads yes|no] "
		"[--link PEER,PEERMAC|tunnel,SIDE,MEMFD,RXKICKFD,TXKICKFD]... (vmm/args.h)\n");
}

/* Links come after the stats: each has its counters there. */
static int parse_args(struct vmm *v, int argc, char **argv)
{
	static struct vmm_args a;	/* large; keep it off the stack */
	char err[160], tag[48];
	unsigned i;

	if (vmm_args_decode(&a, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm vmm: %s\n", err);
		return -1;
	}
	snprintf(v->name, sizeof(v->name), "%s", a.name);
	memcpy(v->net.mac, a.mac, ETH_ALEN);
	snprintf(v->sock_path, sizeof(v->sock_path), "%s", a.socket);
	v->qsize = a.queue_size;
	v->drop = a.drop;
	v->uid = a.uid;
	v->gid = a.gid;
	v->group_connect = a.group_connect;
	v->ready_fd = a.ready_fd;
	v->net.mtu = a.mtu;
	v->vu.offered = VU_FEATURES | VU_NET_FEATURES | (a.offloads ? VU_OFFLOAD_FEATURES : 0);
	snprintf(tag, sizeof(tag), "vmm %s", v->name);
	log_set_tag(tag);
	v->st = node_map_stats(a.stats_fd, v->name);
	if (!v->st) {
		log_err("cannot map stats fd %d", a.stats_fd);
		return -1;
	}
	STAT_SET(v->st->vu_connected, 0);
	for (i = 0; i < a.nlinks; i++, v->nlinks++)
		node_add_link(&v->links[i], &v->st->link[i], v->qsize, &a.link[i], "VMM");
	STAT_SET(v->st->nlinks, v->nlinks);
	if (a.capture_fd >= 0)
		map_capture(v, a.capture_fd);	/* names its streams after the links */
	return 0;
}

/* The socket is created 0600 (umask 077: no window in which others could
 * connect) and, when we drop to a user, handed to it: QEMU runs as that
 * user too and reconnects here after a VMM restart. With --group-connect
 * (guest = external) it is then opened to the group, before listen(), for
 * a frontend we do not start (libvirt's QEMU, a member of that group). */
static int listen_on(const struct vmm *v, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (v->drop && chown(path, v->uid, v->gid) < 0) ||
	    (v->group_connect && chmod(path, 0660) < 0) || listen(fd, 4) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* Guest kicks and link doorbells: edge-triggered, and never read. Each
 * write to an eventfd wakes epoll once, which is all we need to know (the
 * rings say how much work there is), so a doorbell costs no read system
 * call, and the other side cannot make one block. */
static int ep_add_doorbell(int ep, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* The vhost-user layer is about to close a kick fd. Closing does not take
 * it out of epoll (the frontend still holds the same eventfd), so do it
 * now, while the fd still names it. */
static void retire_kick(void *ctx, int fd)
{
	struct vmm *v = ctx;
	int i;

	epoll_ctl(v->ep, EPOLL_CTL_DEL, fd, NULL);
	for (i = 0; i < VU_NRINGS; i++)
		if (v->kick_reg[i] == fd)
			v->kick_reg[i] = -1;
}

/* Watches the kick fds that vhost-user messages gave us. */
static void sync_kicks(struct vmm *v)
{
	int i;

	for (i = 0; i < VU_NRINGS; i++) {
		int fd = v->vu.ring[i].kick_fd;

		if (v->kick_reg[i] < 0 && fd >= 0 && ep_add_doorbell(v->ep, fd, EV(EV_KICK, i)) == 0)
			v->kick_reg[i] = fd;
		if (!v->vu.ring[i].started)
			v->ring_err_logged[i] = false;
	}
}

static void end_session(struct vmm *v, int rc)
{
	if (rc < 0) {
		log_warn("vhost-user: %s; closing the connection", v->vu.err);
		STAT_ADD(v->st->vu_bad_messages, 1);
	} else {
		log_info("vhost-user frontend disconnected");
	}
	epoll_ctl(v->ep, EPOLL_CTL_DEL, v->vu.fd, NULL);
	vu_reset(&v->vu);
	v->features_logged = 0;
	STAT_ADD(v->st->vu_disconnects, 1);
	STAT_SET(v->st->vu_connected, 0);
}

static void on_listen(struct vmm *v)
{
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (v->vu.fd >= 0) {	/* one frontend at a time */
		log_warn("vhost-user: refusing a second frontend");
		close(fd);
		return;
	}
	vu_attach(&v->vu, fd);
	if (ep_add(v->ep, fd, EV(EV_CONN, 0)) < 0) {
		vu_reset(&v->vu);
		return;
	}
	STAT_ADD(v->st->vu_connects, 1);
	STAT_SET(v->st->vu_connected, 1);
	log_info("vhost-user frontend connected");
}

static void notify_guest(struct vmm *v, int ring, bool *owed)
{
	uint64_t one = 1;
	int fd = v->vu.ring[ring].call_fd;

	if (*owed && fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		log_debug("call eventfd write: %s", strerror(errno));
	*owed = false;
}

/* Reports each stopped queue once, at the edge. */
static void check_errors(struct vmm *v)
{
	unsigned i;

	for (i = 0; i < VU_NRINGS; i++) {
		struct vu_ring *r = &v->vu.ring[i];

		if (vq_error(&r->vq) && !v->ring_err_logged[i]) {
			log_warn("guest %s queue stopped: %s", i == VU_RX ? "RX" : "TX", vq_strerror(vq_error(&r->vq)));
			v->ring_err_logged[i] = true;
			STAT_ADD(v->st->vq_errors, 1);
			vu_ring_fail(&v->vu, i);
		}
	}
	for (i = 0; i < v->nlinks; i++) {
		struct link *l = &v->links[i];
		enum vq_err e = vq_error(&l->txq) ? vq_error(&l->txq) : vq_error(&l->rxq);

		if (e && l->st->up) {
			log_warn("link to %s stopped: %s", l->peer, vq_strerror(e));
			STAT_SET(l->st->up, 0);
			STAT_ADD(l->st->errors, 1);
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
static void bind_rings(struct vmm *v)
{
	uint64_t f = v->vu.features;

	v->net.tx_caps = caps_of(f, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
				 VIRTIO_NET_F_HOST_ECN);
	v->net.rx_caps = caps_of(f, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
				 VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN);
	v->net.mrg_rxbuf = f & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	if (f && f != v->features_logged) {	/* each time a frontend negotiates */
		v->features_logged = f;
		log_info("frontend features 0x%llx: sends%s%s%s%s, takes%s%s%s%s%s", (unsigned long long)f,
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

/* Out of work. After a stretch that moved at least YIELD_MIN chains
 * (frames are streaming, as from another VMM on our core), first let
 * whoever shares the core run once and look again, the doorbells still
 * off: under load nobody has to ring us and each turn on the core carries
 * a whole batch. After a short stretch (a ping, a guest's TCP in 64 KiB
 * frames) we arm and sleep at once: a yield there would hand the core to
 * a busy vCPU thread for a time slice while our doorbells are off, which
 * cost guest TCP 10-20 % (docs/performance.md). mark: moved at the end of
 * the previous stretch. Returns true to poll again now. */
static bool out_of_work(struct vmm *v, bool *yielded, uint64_t *mark)
{
	uint64_t stretch = v->net.moved - *mark;

	*mark = v->net.moved;
	if (!*yielded && stretch >= YIELD_MIN) {
		*yielded = true;
		STAT_ADD(v->st->vmm_yields, 1);
		sched_yield();
		return true;
	}
	return net_arm(&v->net);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000;
}

/* A guest frame waits in its TX ring while its link is full (net_tx);
 * when the guest's TX has not moved for WAIT_MS, net_tx_expire(). Returns
 * the epoll timeout that lets us check on time when idle. *since: when
 * TX last moved while frames wait. */
static int bound_wait(struct vmm *v, uint64_t *since, bool *tx_more)
{
	bool moved = v->net.tx_moved;
	uint64_t now;

	v->net.tx_moved = false;
	if (!v->net.tx_wait) {
		*since = 0;
		return -1;
	}
	now = now_ms();
	if (!*since || moved)
		*since = now;
	if (now - *since < WAIT_MS)
		return (int)(*since + WAIT_MS - now);
	net_tx_expire(&v->net);
	*since = 0;
	*tx_more = true;
	return -1;
}

static int serve(struct vmm *v)
{
	bool tx_more = false, rx_more = true, yielded = false;
	uint64_t mark = 0, wait_since = 0, work = now_ns(), end;
	unsigned pass = 0;
	int timeout = -1;

	for (;;) {
		struct epoll_event evs[32];
		bool busy = tx_more || rx_more;
		uint64_t moved = v->net.moved;
		bool idle = !busy;
		int i, n = 0;

		if (idle && out_of_work(v, &yielded, &mark))
			busy = tx_more = rx_more = true;
		if (!busy)	/* out of work: the epoll_wait below waits */
			STAT_ADD(v->st->vmm_sleeps, 1);
		/* While the rings have work, the other fds are looked at only
		 * every EPOLL_EVERY passes: each look is a system call. */
		if (!busy || ++pass % EPOLL_EVERY == 0)
			n = epoll_wait(v->ep, evs, 32, busy ? 0 : timeout);
		if (!busy)
			yielded = false;
		/* Busy time runs from here (after a yield or a wait) to the end
		 * of the pass, and on through passes that did not wait: one
		 * clock read (the vDSO, no system call) per pass under load. */
		if (idle)
			work = now_ns();

		if (n < 0 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			uint32_t kind = evs[i].data.u64 >> 32, idx = (uint32_t)evs[i].data.u64;
			int rc;

			switch (kind) {
			case EV_LISTEN:
				on_listen(v);
				break;
			case EV_CONN:
				rc = vu_receive(&v->vu);
				if (rc != 0)
					end_session(v, rc);
				sync_kicks(v);
				rx_more = tx_more = true;
				break;
			case EV_SIGNAL:
				return 0;
			case EV_KICK:
				if (idx == VU_TX)
					tx_more = true;
				else
					rx_more = true;
				break;
			case EV_LINK:	/* frames, or room on a link a frame waits for */
				rx_more = true;
				tx_more = tx_more || v->net.tx_wait;
				break;
			}
		}
		bind_rings(v);
		if (tx_more)
			tx_more = net_tx(&v->net);
		if (rx_more)
			rx_more = net_rx(&v->net);
		timeout = bound_wait(v, &wait_since, &tx_more);
		if (v->net.moved != moved)
			yielded = false;
		notify_guest(v, VU_TX, &v->net.tx_call);
		notify_guest(v, VU_RX, &v->net.rx_call);
		check_errors(v);
		end = now_ns();
		STAT_ADD(v->st->vmm_busy_ns, end - work);
		work = end;
	}
}

static int setup(struct vmm *v)
{
	sigset_t set;
	unsigned i;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	v->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	v->ep = epoll_create1(EPOLL_CLOEXEC);
	if (v->sig_fd < 0 || v->ep < 0)
		return -errno;
	v->listen_fd = listen_on(v, v->sock_path);
	if (v->listen_fd < 0)
		return v->listen_fd;
	if (ep_add(v->ep, v->listen_fd, EV(EV_LISTEN, 0)) < 0 || ep_add(v->ep, v->sig_fd, EV(EV_SIGNAL, 0)) < 0)
		return -errno;
	for (i = 0; i < v->nlinks; i++)
		if (v->links[i].rx_kick >= 0 && ep_add_doorbell(v->ep, v->links[i].rx_kick, EV(EV_LINK, i)) < 0)
			return -errno;
	return 0;
}

int vmm_main(int argc, char **argv)
{
	static struct vmm v;	/* large; keep it off the stack */
	unsigned i;
	uid_t uid;
	int rc;

	vu_init(&v.vu);
	v.vu.kick_retire = retire_kick;
	v.vu.kick_retire_ctx = &v;
	v.kick_reg[0] = v.kick_reg[1] = -1;
	if (parse_args(&v, argc, argv) < 0) {
		usage();
		return 2;
	}
	v.net.links = v.links;
	v.net.nlinks = v.nlinks;
	v.net.st = v.st;
	rc = setup(&v);
	if (rc < 0) {
		log_err("cannot listen on %s: %s", v.sock_path, strerror(-rc));
		return 1;
	}
	rc = v.drop ? sandbox_drop_user(v.uid, v.gid) : 0;
	if (rc < 0) {
		log_err("cannot become uid %u gid %u: %s", (unsigned)v.uid, (unsigned)v.gid, strerror(-rc));
		return 1;
	}
	uid = getuid();
	rc = sandbox_enter();
	if (rc < 0) {
		log_err("cannot enter the sandbox: %s", strerror(-rc));
		return 1;
	}
	log_info("serving %s with %u link(s), sandboxed as uid %u", v.sock_path, v.nlinks, (unsigned)uid);
	node_report_ready(&v.ready_fd);
	rc = serve(&v);
	log_info("stopping");
	vu_reset(&v.vu);
	for (i = 0; i < v.nlinks; i++)
		link_detach(&v.links[i]);
	/* The socket file is the supervisor's to remove: we may not unlink. */
	return rc < 0 ? 1 : 0;
}
