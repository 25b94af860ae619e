/* The tunnel process: `multivm tunnel`, one per [tunnel NAME]. Like a VMM
 * without a guest: it attaches its links, binds one UDP socket, maps its
 * stats file, then drops to the run user and enters the seccomp sandbox
 * (no open, no new sockets) before it handles a single datagram.
 *
 * Its command line is encoded by the supervisor and decoded here by
 * vmm/args.[ch] (tunnel set): --name, --local, --remote, --port, --vni,
 * --stats-fd, --queue-size, [--ready-fd], [--user], [--local-macs],
 * [--link]... Once set up and sandboxed it writes one byte on the
 * readiness pipe (--ready-fd) and closes it, as a VMM does: the
 * supervisor counts it as up then. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "tunnel/tunnel.h"
#include "vmm/args.h"
#include "vmm/node.h"
#include "vmm/sandbox.h"

enum { EV_SIGNAL, EV_UDP, EV_LINK };
#define EPOLL_EVERY 8

struct tproc {
	char name[MV_NAME_MAX];
	struct in_addr local;
	unsigned port;
	bool drop;
	uid_t uid;
	gid_t gid;
	unsigned qsize;
	unsigned offloads;	/* tun_offloads: 1 GRO, 2 GSO */
	int ep, sig_fd, ready_fd;
	struct link links[MV_NODE_LINKS_MAX];
	struct tunnel t;
};

static void usage(void)
{
	fprintf(stderr, "usage: multivm tunnel --name NAME --local IP --remote IP --port N --vni N "
		"--stats-fd FD --queue-size N [--ready-fd FD] [--user UID:GID] [--local-macs MAC,...] "
		"[--link PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD]... (vmm/args.h)\n");
}

static int parse_args(struct tproc *v, int argc, char **argv)
{
	static struct vmm_args a;	/* large; keep it off the stack */
	char err[160], tag[48];
	unsigned i;

	if (vmm_args_decode(&a, argc, argv, err, sizeof(err)) < 0 || !a.tunnel) {
		fprintf(stderr, "multivm tunnel: %s\n", a.tunnel ? err : "not a tunnel command line");
		return -1;
	}
	snprintf(v->name, sizeof(v->name), "%s", a.name);
	v->local = a.local;
	v->port = a.port;
	v->drop = a.drop;
	v->uid = a.uid;
	v->gid = a.gid;
	v->qsize = a.queue_size;
	v->ready_fd = a.ready_fd;
	v->t.vni = a.vni;
	v->t.remote = a.remote;
	v->t.dest.sin_family = AF_INET;
	v->t.dest.sin_addr = a.remote;
	v->t.dest.sin_port = htons(a.port);
	memcpy(v->t.local, a.local_mac, sizeof(v->t.local));
	v->t.nlocal = a.nlocal;
	snprintf(tag, sizeof(tag), "tunnel %s", v->name);
	log_set_tag(tag);
	v->t.st = node_map_stats(a.stats_fd, v->name);
	if (!v->t.st) {
		log_err("cannot map stats fd %d", a.stats_fd);
		return -1;
	}
	v->t.links = v->links;
	for (i = 0; i < a.nlinks; i++, v->t.nlinks++)
		node_add_link(&v->links[i], &v->t.st->link[i], v->qsize, &a.link[i], "tunnel");
	STAT_SET(v->t.st->nlinks, v->t.nlinks);
	return 0;
}

/* The UDP socket, bound to local:port. Not connected: Linux's vxlan (and
 * others) send from a port chosen per flow, so the remote is checked by
 * address in tun_datagram, where every refusal is counted. */
static int open_udp(struct tproc *v)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = v->local, .sin_port = htons(v->port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = 4 << 20;
	int pmtu = IP_PMTUDISC_DONT;	/* a full frame over a 1500-byte path: fragmented, not lost */

	if (fd < 0)
		return -errno;
	/* Larger buffers absorb bursts; FORCE works as root, else the
	 * system's maximum applies. Neither is required. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event e = { .events = events, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int setup(struct tproc *v)
{
	char addr[INET_ADDRSTRLEN];
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
	v->t.fd = open_udp(v);
	if (v->t.fd < 0) {
		inet_ntop(AF_INET, &v->local, addr, sizeof(addr));
		log_err("cannot bind UDP %s:%u: %s", addr, v->port, strerror(-v->t.fd));
		return v->t.fd;
	}
	v->offloads = tun_offloads(&v->t);
	if (ep_add(v->ep, v->sig_fd, EPOLLIN, EV_SIGNAL) < 0 ||
	    ep_add(v->ep, v->t.fd, EPOLLIN, (uint64_t)EV_UDP << 32) < 0)
		return -errno;
	for (i = 0; i < v->t.nlinks; i++)
		if (v->links[i].rx_kick >= 0 &&
		    ep_add(v->ep, v->links[i].rx_kick, EPOLLIN | EPOLLET, (uint64_t)EV_LINK << 32 | i) < 0)
			return -errno;
	return 0;
}

static int serve(struct tproc *v)
{
	bool net_more = true, links_more = true;
	unsigned pass = 0;

	for (;;) {
		struct epoll_event evs[32];
		bool busy = net_more || links_more;
		int i, n = 0;

		if (!busy || ++pass % EPOLL_EVERY == 0)
			n = epoll_wait(v->ep, evs, 32, busy ? 0 : -1);
		if (n < 0 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u64 >> 32) {
			case EV_SIGNAL:
				return 0;
			case EV_UDP:
				net_more = true;
				break;
			case EV_LINK:
				links_more = true;
				break;
			}
		}
		if (net_more)
			net_more = tun_net_rx(&v->t);
		if (links_more)
			links_more = tun_links_rx(&v->t);
		for (unsigned k = 0; k < v->t.nlinks; k++) {
			struct link *l = &v->links[k];
			enum vq_err e = vq_error(&l->txq) ? vq_error(&l->txq) : vq_error(&l->rxq);

			if (e && l->st->up) {
				log_warn("link to %s stopped: %s", l->peer, vq_strerror(e));
				STAT_SET(l->st->up, 0);
				STAT_ADD(l->st->errors, 1);
			}
		}
	}
}

int tunnel_main(int argc, char **argv)
{
	static struct tproc v;	/* large; keep it off the stack */
	char r[INET_ADDRSTRLEN];
	unsigned i;
	uid_t uid;
	int rc;

	v.t.fd = v.ready_fd = -1;
	tun_init(&v.t);
	if (parse_args(&v, argc, argv) < 0) {
		usage();
		return 2;
	}
	if (setup(&v) < 0)
		return 1;
	rc = v.drop ? sandbox_drop_user(v.uid, v.gid) : 0;
	if (rc < 0) {
		log_err("cannot become uid %u gid %u: %s", (unsigned)v.uid, (unsigned)v.gid, strerror(-rc));
		return 1;
	}
	uid = getuid();	/* the filter refuses getuid */
	rc = sandbox_enter_datagrams();
	if (rc < 0) {
		log_err("cannot enter the sandbox: %s", strerror(-rc));
		return 1;
	}
	inet_ntop(AF_INET, &v.t.remote, r, sizeof(r));
	log_info("VNI %u to %s:%u with %u link(s), UDP GRO %s, GSO %s, sandboxed as uid %u", v.t.vni, r, v.port,
		 v.t.nlinks, v.offloads & 1 ? "on" : "off", v.offloads & 2 ? "on" : "off", (unsigned)uid);
	node_report_ready(&v.ready_fd);
	rc = serve(&v);
	log_info("stopping");
	for (i = 0; i < v.t.nlinks; i++)
		link_detach(&v.links[i]);
	return rc < 0 ? 1 : 0;
}
