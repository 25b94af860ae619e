#include "node/args.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ifname.h"

static const char *const kind_word[NODE_KINDS] = { [NODE_VMM] = "vmm", [NODE_TUNNEL] = "tunnel" };

const char *node_kind_word(enum node_kind k)
{
	return k < NODE_KINDS ? kind_word[k] : "?";
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Copies a string value of at most max - 1 bytes. */
static bool copy(char *dst, size_t max, const char *v)
{
	if (strlen(v) >= max)
		return false;
	memcpy(dst, v, strlen(v) + 1);
	return true;
}

/* ---- the output: argv words in one buffer ---- */

struct out {
	char *buf, **argv;
	size_t len, used;
	int argc, max;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full || o->argc >= o->max - 1) {
		o->full = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used) {
		o->full = true;
		return;
	}
	o->argv[o->argc++] = o->buf + o->used;
	o->used += n + 1;
}

/* ---- values: argv is hostile until proven otherwise ---- */

/* A decimal in [min, max]: no sign games, no spaces, no trailing junk. */
static bool number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool fd_arg(const char *s, int *fd)
{
	long v;

	if (!number(s, 0, NODE_FD_MAX, &v))
		return false;
	*fd = v;
	return true;
}

/* UID:GID, both non-zero. */
static bool ids_arg(const char *s, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(s, ':');
	char us[16];
	long u, g;

	if (!colon || (size_t)(colon - s) >= sizeof(us))
		return false;
	memcpy(us, s, colon - s);
	us[colon - s] = 0;
	if (!number(us, 1, 0x7fffffff, &u) || !number(colon + 1, 1, 0x7fffffff, &g))
		return false;
	*uid = u;
	*gid = g;
	return true;
}

static bool user_arg(struct node_args *a, const char *s)
{
	return a->drop = ids_arg(s, &a->uid, &a->gid);
}

/* Splits s at ',' into at most max fields (strtok would merge ",," and
 * accept a trailing ','). Returns the number of fields, max + 1 if there
 * are more. */
static int split(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		f[n++] = s;
		s = strchr(s, ',');
		if (!s)
			return n;
		*s++ = 0;
	}
}


/* PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD[,NIC,PEERNIC][,qN]; PEERMAC
 * "tunnel": a tunnel link. A wire's link also says which of the VMM's
 * NICs it belongs to and the peer's NIC ("-": the peer is a tunnel);
 * without, it is on the eth0 segment. qN: the link's entries when not
 * --queue-size's (a delayed link's room, link/room.h). */
static bool link_arg(struct node_link_arg *l, const char *spec)
{
	char copy[MV_NAME_MAX + MAC_STR_LEN + MV_IFNAME_MAX + 6 * 8], *f[9];
	long side, nic = 0, q;
	int n;

	if (strlen(spec) >= sizeof(copy))
		return false;
	memcpy(copy, spec, strlen(spec) + 1);
	n = split(copy, f, 9);
	if (n > 9)
		return false;
	l->qsize = 0;
	if (n == 7 || n == 9) {	/* the last field must be qN */
		if (f[n - 1][0] != 'q' || !number(f[n - 1] + 1, MV_QSIZE_MIN, MV_QSIZE_MAX, &q) || !mv_qsize_ok(q))
			return false;
		l->qsize = q;
		n--;
	}
	if (n != 6 && n != 8)
		return false;
	if (strlen(f[0]) >= sizeof(l->peer))
		return false;
	memcpy(l->peer, f[0], strlen(f[0]) + 1);
	l->tunnel = strcmp(f[1], "tunnel") == 0;
	if (!name_ok(l->peer, sizeof(l->peer)) || (!l->tunnel && mac_parse(f[1], l->peer_mac) < 0) ||
	    !number(f[2], 0, 1, &side) || !fd_arg(f[3], &l->memfd) || !fd_arg(f[4], &l->rx_kick) ||
	    !fd_arg(f[5], &l->tx_kick))
		return false;
	l->wire = n == 8;
	if (l->wire && (!number(f[6], 0, MV_NICS_MAX, &nic) || (strcmp(f[7], "-") && !ifname_valid(f[7], MV_IFNAME_MAX))))
		return false;
	l->side = side;
	l->nic = nic;
	if (l->wire && strcmp(f[7], "-"))
		memcpy(l->peer_nic, f[7], strlen(f[7]) + 1);
	return true;
}

/* NAME,MAC,SOCKET,MTU,yes|no: a wire's NIC. */
static bool wire_arg(struct node_wire_arg *w, const char *spec)
{
	char copy[MV_IFNAME_MAX + MAC_STR_LEN + NODE_SOCKET_MAX + 16], *f[5];
	long mtu;

	if (strlen(spec) >= sizeof(copy))
		return false;
	memcpy(copy, spec, strlen(spec) + 1);
	if (split(copy, f, 5) != 5 || !ifname_valid(f[0], MV_IFNAME_MAX) || mac_parse(f[1], w->mac) < 0 || !*f[2] ||
	    strlen(f[2]) >= sizeof(w->socket) || !number(f[3], MV_MTU_MIN, MV_MTU_MAX, &mtu) ||
	    (strcmp(f[4], "yes") && strcmp(f[4], "no")))
		return false;
	memcpy(w->name, f[0], strlen(f[0]) + 1);
	memcpy(w->socket, f[2], strlen(f[2]) + 1);
	w->mtu = mtu;
	w->offloads = strcmp(f[4], "yes") == 0;
	return true;
}

/* MAC,MAC,...: every VM of the system, for a tunnel. */
static bool macs_arg(struct node_args *a, const char *s)
{
	char one[MAC_STR_LEN];
	const char *end;

	for (;;) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (a->tunnel.nlocal >= MV_NODES_MAX || (size_t)(end - s) >= sizeof(one))
			return false;
		memcpy(one, s, end - s);
		one[end - s] = 0;
		if (mac_parse(one, a->tunnel.local_mac[a->tunnel.nlocal]) < 0)
			return false;
		a->tunnel.nlocal++;
		if (!*end)
			return true;
		s = end + 1;
	}
}

static bool ip_arg(struct in_addr *ip, const char *s);

/* IP,IP,...: the IPv4 addresses of the system's VMs, for a tunnel. */
static bool ips_arg(struct node_args *a, const char *s)
{
	char one[INET_ADDRSTRLEN];
	const char *end;

	for (;;) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (a->tunnel.nlocal_ip >= MV_NODES_MAX || (size_t)(end - s) >= sizeof(one))
			return false;
		memcpy(one, s, end - s);
		one[end - s] = 0;
		if (!ip_arg(&a->tunnel.local_ip[a->tunnel.nlocal_ip], one))
			return false;
		a->tunnel.nlocal_ip++;
		if (!*end)
			return true;
		s = end + 1;
	}
}

/* A dotted quad, as inet_ntop writes it: nothing else. */
static bool ip_arg(struct in_addr *ip, const char *s)
{
	char back[INET_ADDRSTRLEN];

	return inet_pton(AF_INET, s, ip) == 1 && inet_ntop(AF_INET, ip, back, sizeof(back)) &&
	       strcmp(back, s) == 0;
}


/* ---- the options: one row each, for both directions and the usage ---- */

#define KIND(k)		(1u << (k))
#define BOTH		(KIND(NODE_VMM) | KIND(NODE_TUNNEL))

/* get: parses v into a (false: refused). put: writes the option, if a
 * has it, with o (a flag's put writes only its name). */
struct opt {
	const char *name, *meta;	/* meta NULL: a flag without a value */
	unsigned kinds, required;	/* KIND() bits: who takes it, who must */
	bool repeats;
	bool (*get)(struct node_args *a, const char *v);
	void (*put)(struct out *o, const char *name, const struct node_args *a);
};

static bool get_name(struct node_args *a, const char *v)
{
	return copy(a->name, sizeof(a->name), v) && name_ok(a->name, sizeof(a->name));
}

static void put_name(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%s", a->name);
}

static bool get_mac(struct node_args *a, const char *v)
{
	return mac_parse(v, a->vmm.mac) == 0;
}

static void put_mac(struct out *o, const char *n, const struct node_args *a)
{
	char mac[MAC_STR_LEN];

	put(o, "%s", n);
	put(o, "%s", mac_format(mac, a->vmm.mac));
}

static bool get_socket(struct node_args *a, const char *v)
{
	return *v && copy(a->vmm.socket, sizeof(a->vmm.socket), v);
}

static void put_socket(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%s", a->vmm.socket);
}

static bool get_local(struct node_args *a, const char *v)
{
	return ip_arg(&a->tunnel.local, v);
}

static bool get_remote(struct node_args *a, const char *v)
{
	return ip_arg(&a->tunnel.remote, v);
}

static void put_ip(struct out *o, const char *n, const struct in_addr *ip)
{
	char s[INET_ADDRSTRLEN];

	put(o, "%s", n);
	put(o, "%s", inet_ntop(AF_INET, ip, s, sizeof(s)) ? s : "?");
}

static void put_local(struct out *o, const char *n, const struct node_args *a)
{
	put_ip(o, n, &a->tunnel.local);
}

static void put_remote(struct out *o, const char *n, const struct node_args *a)
{
	put_ip(o, n, &a->tunnel.remote);
}

static bool get_port(struct node_args *a, const char *v)
{
	long q;

	if (!number(v, 1, 65535, &q))
		return false;
	a->tunnel.port = q;
	return true;
}

static void put_port(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%u", a->tunnel.port);
}

static bool get_vni(struct node_args *a, const char *v)
{
	long q;

	if (!number(v, 0, MV_VNI_MAX, &q))
		return false;
	a->tunnel.vni = q;
	return true;
}

static void put_vni(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%u", (unsigned)a->tunnel.vni);
}

static bool get_local_macs(struct node_args *a, const char *v)
{
	return macs_arg(a, v);
}

/* One word: the MACs joined by ',' (each 17 characters). */
static void put_local_macs(struct out *o, const char *n, const struct node_args *a)
{
	char macs[MV_NODES_MAX * MAC_STR_LEN], mac[MAC_STR_LEN];
	size_t used = 0;
	unsigned k;

	if (!a->tunnel.nlocal)
		return;
	for (k = 0; k < a->tunnel.nlocal && k < MV_NODES_MAX; k++)
		used += snprintf(macs + used, sizeof(macs) - used, "%s%s", k ? "," : "",
				 mac_format(mac, a->tunnel.local_mac[k]));
	put(o, "%s", n);
	put(o, "%s", macs);
}

static bool get_local_ips(struct node_args *a, const char *v)
{
	return ips_arg(a, v);
}

/* One word: the addresses joined by ','. */
static void put_local_ips(struct out *o, const char *n, const struct node_args *a)
{
	char ips[MV_NODES_MAX * INET_ADDRSTRLEN], ip[INET_ADDRSTRLEN];
	size_t used = 0;
	unsigned k;

	if (!a->tunnel.nlocal_ip)
		return;
	for (k = 0; k < a->tunnel.nlocal_ip && k < MV_NODES_MAX; k++)
		used += snprintf(ips + used, sizeof(ips) - used, "%s%s", k ? "," : "",
				 inet_ntop(AF_INET, &a->tunnel.local_ip[k], ip, sizeof(ip)) ? ip : "?");
	put(o, "%s", n);
	put(o, "%s", ips);
}

static bool get_stats(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->stats_fd);
}

static void put_fd(struct out *o, const char *n, int fd)
{
	if (fd < 0)
		return;
	put(o, "%s", n);
	put(o, "%d", fd);
}

static void put_stats(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%d", a->stats_fd);
}

static bool get_qsize(struct node_args *a, const char *v)
{
	long q;

	if (!number(v, MV_QSIZE_MIN, MV_QSIZE_MAX, &q) || !mv_qsize_ok(q))
		return false;
	a->queue_size = q;
	return true;
}

static void put_qsize(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%u", a->queue_size);
}

static bool get_ctl(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->ctl_fd);
}

static void put_ctl(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->ctl_fd);
}

static bool get_capture(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->vmm.capture_fd);
}

static void put_capture(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->vmm.capture_fd);
}

static bool get_udp(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->tunnel.udp_fd);
}

static void put_udp(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->tunnel.udp_fd);
}

static bool get_ready(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->ready_fd);
}

static void put_ready(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->ready_fd);
}

static bool get_handoff(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->handoff_fd);
}

static void put_handoff(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->handoff_fd);
}

static bool get_lifeline(struct node_args *a, const char *v)
{
	return fd_arg(v, &a->lifeline_fd);
}

static void put_lifeline(struct out *o, const char *n, const struct node_args *a)
{
	put_fd(o, n, a->lifeline_fd);
}

static bool get_user(struct node_args *a, const char *v)
{
	return user_arg(a, v);
}

static void put_user(struct out *o, const char *n, const struct node_args *a)
{
	if (!a->drop)
		return;
	put(o, "%s", n);
	put(o, "%u:%u", (unsigned)a->uid, (unsigned)a->gid);
}

static bool get_group(struct node_args *a, const char *v)
{
	a->vmm.group_connect = true;
	return true;
}

static void put_group(struct out *o, const char *n, const struct node_args *a)
{
	if (a->vmm.group_connect)
		put(o, "%s", n);
}

static bool get_frontend(struct node_args *a, const char *v)
{
	return a->vmm.frontend = ids_arg(v, &a->vmm.front_uid, &a->vmm.front_gid);
}

static void put_frontend(struct out *o, const char *n, const struct node_args *a)
{
	if (!a->vmm.frontend)
		return;
	put(o, "%s", n);
	put(o, "%u:%u", (unsigned)a->vmm.front_uid, (unsigned)a->vmm.front_gid);
}

static bool get_mtu(struct node_args *a, const char *v)
{
	long q;

	if (!number(v, MV_MTU_MIN, MV_MTU_MAX, &q))
		return false;
	a->vmm.mtu = q;
	return true;
}

static void put_mtu(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%u", a->vmm.mtu);
}

static bool get_offloads(struct node_args *a, const char *v)
{
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return false;
	a->vmm.offloads = strcmp(v, "yes") == 0;
	return true;
}

static void put_offloads(struct out *o, const char *n, const struct node_args *a)
{
	put(o, "%s", n);
	put(o, "%s", a->vmm.offloads ? "yes" : "no");
}

static bool get_link(struct node_args *a, const char *v)
{
	struct node_link_arg *l = &a->link[a->nlinks];

	if (a->nlinks >= MV_NODE_LINKS_MAX || !link_arg(l, v))
		return false;
	if (a->kind == NODE_TUNNEL && (l->tunnel || l->nic))
		return false;	/* a tunnel links to VMs only, and has no NICs */
	if (!l->wire && l->nic)
		return false;
	/* Links come grouped by NIC, in NIC order: each NIC's are one run. */
	if (a->nlinks && l->nic < a->link[a->nlinks - 1].nic)
		return false;
	a->nlinks++;
	return true;
}

static void put_link(struct out *o, const char *n, const struct node_args *a)
{
	char mac[MAC_STR_LEN];
	unsigned k;

	for (k = 0; k < a->nlinks && k < MV_NODE_LINKS_MAX; k++) {
		const struct node_link_arg *l = &a->link[k];

		char q[16] = "";

		if (l->qsize)
			snprintf(q, sizeof(q), ",q%u", l->qsize);
		put(o, "%s", n);
		if (l->wire)
			put(o, "%s,%s,%d,%d,%d,%d,%u,%s%s", l->peer, l->tunnel ? "tunnel" : mac_format(mac, l->peer_mac),
			    l->side, l->memfd, l->rx_kick, l->tx_kick, l->nic, l->peer_nic[0] ? l->peer_nic : "-", q);
		else
			put(o, "%s,%s,%d,%d,%d,%d%s", l->peer, l->tunnel ? "tunnel" : mac_format(mac, l->peer_mac),
			    l->side, l->memfd, l->rx_kick, l->tx_kick, q);
	}
}

static bool get_wire(struct node_args *a, const char *v)
{
	if (a->vmm.nwires >= MV_NICS_MAX || !wire_arg(&a->vmm.wire[a->vmm.nwires], v))
		return false;
	a->vmm.nwires++;
	return true;
}

static void put_wire(struct out *o, const char *n, const struct node_args *a)
{
	char mac[MAC_STR_LEN];
	unsigned k;

	for (k = 0; k < a->vmm.nwires && k < MV_NICS_MAX; k++) {
		const struct node_wire_arg *w = &a->vmm.wire[k];

		put(o, "%s", n);
		put(o, "%s,%s,%s,%u,%s", w->name, mac_format(mac, w->mac), w->socket, w->mtu, w->offloads ? "yes" : "no");
	}
}

static bool get_eth0_wire(struct node_args *a, const char *v)
{
	a->vmm.eth0_wire = true;
	return true;
}

static void put_eth0_wire(struct out *o, const char *n, const struct node_args *a)
{
	if (a->vmm.eth0_wire)
		put(o, "%s", n);
}

static bool get_wire_link(struct node_args *a, const char *v)
{
	a->tunnel.wire = true;
	return true;
}

static void put_wire_link(struct out *o, const char *n, const struct node_args *a)
{
	if (a->tunnel.wire)
		put(o, "%s", n);
}

#define VMM	KIND(NODE_VMM)
#define TUN	KIND(NODE_TUNNEL)
#define ROW(n, m, k, r, f)	{ n, m, k, r, false, get_##f, put_##f }

/* In the order they are written. */
static const struct opt opts[] = {
	ROW("--name", "NAME", BOTH, BOTH, name),
	ROW("--mac", "MAC", VMM, VMM, mac),
	ROW("--socket", "PATH", VMM, VMM, socket),
	ROW("--local", "IP", TUN, TUN, local),
	ROW("--remote", "IP", TUN, TUN, remote),
	ROW("--port", "N", TUN, TUN, port),
	ROW("--vni", "N", TUN, TUN, vni),
	ROW("--udp-fd", "FD", TUN, 0, udp),
	ROW("--local-macs", "MAC,MAC,...", TUN, 0, local_macs),
	ROW("--local-ips", "IP,IP,...", TUN, 0, local_ips),
	ROW("--stats-fd", "FD", BOTH, BOTH, stats),
	ROW("--queue-size", "N", BOTH, BOTH, qsize),
	ROW("--ctl-fd", "FD", BOTH, 0, ctl),
	ROW("--capture-fd", "FD", VMM, 0, capture),
	ROW("--ready-fd", "FD", BOTH, 0, ready),
	ROW("--handoff-fd", "FD", VMM, 0, handoff),
	ROW("--lifeline-fd", "FD", BOTH, 0, lifeline),
	ROW("--user", "UID:GID", BOTH, 0, user),
	ROW("--group-connect", NULL, VMM, 0, group),
	ROW("--frontend", "UID:GID", VMM, 0, frontend),
	ROW("--mtu", "N", VMM, 0, mtu),
	ROW("--offloads", "yes|no", VMM, 0, offloads),
	ROW("--eth0-wire", NULL, VMM, 0, eth0_wire),
	{ "--wire", "NAME,MAC,SOCKET,MTU,yes|no", VMM, 0, true, get_wire, put_wire },
	ROW("--wire-link", NULL, TUN, 0, wire_link),
	{ "--link", "PEER,PEERMAC|tunnel,SIDE,MEMFD,RXKICKFD,TXKICKFD[,NIC,PEERNIC][,qN]", BOTH, 0, true, get_link, put_link },
};
#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

/* Each wire NIC (and eth0 when it is a wire, and a tunnel that is a wire
 * end) has at most one link; every link's NIC exists. */
static bool links_fit(const struct node_args *a)
{
	unsigned per[1 + MV_NICS_MAX] = { 0 }, k, wires = a->kind == NODE_VMM ? a->vmm.nwires : 0;

	for (k = 0; k < a->nlinks; k++) {
		const struct node_link_arg *l = &a->link[k];

		if (l->nic > wires)
			return false;
		/* eth0 is the segment's or a wire's, not both */
		if (a->kind == NODE_VMM && !l->nic && l->wire != a->vmm.eth0_wire)
			return false;
		per[l->nic]++;
	}
	for (k = 1; k <= wires; k++)
		if (per[k] > 1)
			return false;
	if (a->kind == NODE_VMM && a->vmm.eth0_wire && per[0] > 1)
		return false;
	return !(a->kind == NODE_TUNNEL && a->tunnel.wire && a->nlinks > 1);
}

void node_args_init(struct node_args *a, enum node_kind k)
{
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->stats_fd = a->ctl_fd = a->ready_fd = a->handoff_fd = a->lifeline_fd = -1;
	if (k == NODE_VMM) {
		a->vmm.capture_fd = -1;
		a->vmm.mtu = MV_MTU_DEFAULT;
		a->vmm.offloads = true;
	} else {
		a->tunnel.udp_fd = -1;
	}
}

void node_args_usage(FILE *f, enum node_kind k)
{
	unsigned i;

	fprintf(f, "usage: multivm %s", node_kind_word(k));
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		bool req = o->required & KIND(k);

		if (!(o->kinds & KIND(k)))
			continue;
		fprintf(f, " %s%s%s%s%s%s", req ? "" : "[", o->name, o->meta ? " " : "", o->meta ? o->meta : "",
			req ? "" : "]", o->repeats ? "..." : "");
	}
	fprintf(f, " (node/args.h)\n");
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int node_args_decode(struct node_args *a, int argc, char *const *argv, char *err, size_t errlen)
{
	bool seen[NOPTS] = { false };
	enum node_kind k;
	unsigned o;
	int i;

	for (k = 0; k < NODE_KINDS && (argc < 1 || !argv[0] || strcmp(argv[0], kind_word[k])); k++)
		;
	if (k == NODE_KINDS)
		return fail(err, errlen, "not a node command line ('%.40s')", argc > 0 && argv[0] ? argv[0] : "");
	node_args_init(a, k);
	for (i = 1; i < argc; i++) {
		for (o = 0; o < NOPTS && (!argv[i] || strcmp(argv[i], opts[o].name) != 0); o++)
			;
		if (o == NOPTS || !(opts[o].kinds & KIND(k)))
			return fail(err, errlen, "unknown argument '%.40s'", argv[i] ? argv[i] : "(null)");
		if (seen[o] && !opts[o].repeats)
			return fail(err, errlen, "%s given twice", opts[o].name);
		seen[o] = true;
		if (!opts[o].meta) {
			opts[o].get(a, NULL);
			continue;
		}
		if (i + 1 >= argc || !argv[i + 1])
			return fail(err, errlen, "%s needs a value", opts[o].name);
		i++;
		if (!opts[o].get(a, argv[i]))
			return fail(err, errlen, "bad %s '%.80s'", opts[o].name, argv[i]);
	}
	for (o = 0; o < NOPTS; o++)
		if ((opts[o].required & KIND(k)) && !seen[o])
			return fail(err, errlen, "%s is missing", opts[o].name);
	return links_fit(a) ? 0 : fail(err, errlen, "--link: links do not fit the NICs");
}

int node_args_encode(const struct node_args *a, char *buf, size_t len, char **argv, int max)
{
	struct out o = { .buf = buf, .argv = argv, .len = len, .max = max };
	struct node_args back;
	char err[160];
	unsigned i;

	if (a->kind >= NODE_KINDS || max < 1)
		return max < 1 ? -E2BIG : -EINVAL;
	put(&o, "multivm");
	put(&o, "%s", kind_word[a->kind]);
	for (i = 0; i < NOPTS; i++)
		if (opts[i].kinds & KIND(a->kind))
			opts[i].put(&o, opts[i].name, a);
	if (o.full)
		return -E2BIG;
	argv[o.argc] = NULL;
	/* Refuse here what the decoder would refuse, or read back otherwise
	 * (a peer MAC on a tunnel link, a field of the other kind): a bad
	 * value is our bug, and must not become a node that exits at once
	 * and is restarted forever. The decoder is the one judge. a must
	 * have started from node_args_init (no stray bytes). */
	if (node_args_decode(&back, o.argc - 1, argv + 1, err, sizeof(err)) < 0 || memcmp(&back, a, sizeof(back)))
		return -EINVAL;
	return o.argc;
}
