/* The tunnel process: `multivm tunnel`, one per [tunnel NAME]. A node
 * (node/node.h) without a guest: besides its links it has one UDP socket
 * (the supervisor's, tunnel/udpsock.h, or one it binds when started by
 * hand), set up before it drops to its identity and enters the sandbox with
 * recvmmsg and sendmmsg added, and moves datagrams in batches
 * (tunnel.c). Its command line: node/args.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "link/impair.h"
#include "node/node.h"
#include "tunnel/tunnel.h"
#include "tunnel/udpsock.h"

struct tproc {
	struct tunnel t;
	unsigned port;
	unsigned offloads;	/* tun_offloads: 1 GRO, 2 GSO */
	bool shared;		/* its port is shared with other tunnels */
	bool net_more, links_more;	/* work flagged for the next pass */
};

static struct tproc the_tunnel;

static int on_udp(void *ctx, uint32_t arg)
{
	struct tproc *v = ctx;

	v->net_more = true;
	return 0;
}

static int on_link(void *ctx, uint32_t i)
{
	struct tproc *v = ctx;

	v->links_more = true;
	return 0;
}

static bool pass(void *ctx, bool all)
{
	struct tproc *v = ctx;

	if (all)
		v->net_more = v->links_more = true;
	if (v->net_more)
		v->net_more = tun_net_rx(&v->t);
	if (v->links_more)
		v->links_more = tun_links_rx(&v->t);
	return v->net_more || v->links_more;
}

/* Frames an impaired link holds: look again when the first is due. */
static int64_t deadline(void *ctx, bool *more)
{
	struct tproc *v = ctx;
	uint64_t now = link_imp_now();
	int64_t hb = (int64_t)tun_liveness(&v->t, now) * 1000000, w;	/* the heartbeat, both ways */

	if (!v->t.imp_wake)
		return hb;
	if (v->t.imp_wake <= now) {
		v->links_more = *more = true;
		return hb;
	}
	w = (int64_t)(v->t.imp_wake - now);	/* to the ns */
	return hb < 0 || w < hb ? w : hb;
}

static int setup(struct node *n, const struct node_args *a)
{
	struct tproc *v = &the_tunnel;
	const struct node_tunnel_args *ta = &a->tunnel;
	char addr[INET_ADDRSTRLEN];
	int rc;

	n->ctx = v;
	tun_init(&v->t);
	v->port = ta->port;
	v->t.vni = ta->vni;
	v->t.remote = ta->remote;
	v->t.dest.sin_family = AF_INET;
	v->t.dest.sin_addr = ta->remote;
	v->t.dest.sin_port = htons(ta->port);
	memcpy(v->t.local, ta->local_mac, sizeof(v->t.local));
	v->t.nlocal = ta->nlocal;
	for (unsigned k = 0; k < ta->nlocal_ip && k < MV_NODES_MAX; k++)
		v->t.local_ip[v->t.nlocal_ip++] = ta->local_ip[k].s_addr;
	v->t.wire = ta->wire;
	v->t.st = n->st;
	v->t.links = n->links;
	v->t.nlinks = n->nlinks;
	/* The supervisor's socket, bound for the system's life (udpsock.h);
	 * started by hand, one of its own. Not connected: Linux's vxlan (and
	 * others) send from a port chosen per flow, so the remote is checked
	 * by address in tun_datagram, where every refusal is counted. */
	v->t.fd = ta->udp_fd >= 0 ? ta->udp_fd : udpsock_open(ta->local, ta->port, false);
	if (v->t.fd < 0) {
		inet_ntop(AF_INET, &ta->local, addr, sizeof(addr));
		log_err("cannot bind UDP %s:%u: %s", addr, ta->port, strerror(-v->t.fd));
		return -1;
	}
	v->shared = udpsock_shared(v->t.fd);
	v->offloads = tun_offloads(&v->t, !v->shared);
	rc = loop_add(&n->loop, v->t.fd, false, on_udp, v, 0);
	if (rc < 0) {
		log_err("cannot watch the UDP socket: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static void started(struct node *n, unsigned uid)
{
	struct tproc *v = &the_tunnel;
	char r[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &v->t.remote, r, sizeof(r));
	log_info("VNI %u to %s:%u%s with %u link(s), UDP GRO %s, GSO %s, sandboxed as uid %u", v->t.vni, r, v->port,
		 v->shared ? " (port shared)" : "", v->t.nlinks, v->offloads & 1 ? "on" : "off",
		 v->offloads & 2 ? "on" : "off", uid);
}

/* Datagrams in batches on the UDP socket it bound before. */
static const struct sandbox_rule tunnel_rules[] = {
	SANDBOX_ANY(recvmmsg),		/* datagrams from the network, a batch per call */
	SANDBOX_ANY(sendmmsg),		/* datagrams to the remote, a batch per call */
};

const struct node_kind_ops tunnel_kind = {
	.kind = NODE_TUNNEL,
	.who = "tunnel",
	.setup = setup,
	.on_link = on_link,
	.loop = { .pass = pass, .deadline = deadline, .moved = &the_tunnel.t.moved },
	.started = started,
	.rules = tunnel_rules,
	.nrules = sizeof(tunnel_rules) / sizeof(tunnel_rules[0]),
};

int tunnel_main(int argc, char **argv)
{
	return node_main(&tunnel_kind, argc, argv);
}
