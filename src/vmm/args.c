#include "vmm/args.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared by both directions ---- */

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

static bool fd_ok(int fd)
{
	return fd >= 0 && fd <= VMM_FD_MAX;
}

static bool link_ok(const struct vmm_link_arg *l)
{
	static const uint8_t zero[ETH_ALEN];

	/* A tunnel link has no peer MAC: one set would be lost on the way. */
	return name_ok(l->peer, sizeof(l->peer)) && (l->side == 0 || l->side == 1) && fd_ok(l->memfd) &&
	       fd_ok(l->rx_kick) && fd_ok(l->tx_kick) && (!l->tunnel || !memcmp(l->peer_mac, zero, ETH_ALEN));
}

/* ---- encoding ---- */

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

/* What a tunnel's command line leaves out must be what the decoder sets. */
static bool tunnel_ok(const struct vmm_args *a)
{
	static const uint8_t zero[ETH_ALEN];
	unsigned k;

	if (memcmp(a->mac, zero, ETH_ALEN) != 0 || a->socket[0] || a->capture_fd != -1 || a->group_connect ||
	    a->mtu || a->offloads || a->port < 1 || a->port > 65535 || a->vni > MV_VNI_MAX ||
	    a->nlocal > MV_NODES_MAX)
		return false;
	for (k = 0; k < a->nlinks; k++)
		if (a->link[k].tunnel)	/* a tunnel links to VMs only */
			return false;
	return true;
}

static void put_tunnel(struct out *o, const struct vmm_args *a)
{
	char ip[INET_ADDRSTRLEN], mac[MAC_STR_LEN];
	unsigned k;

	put(o, "--local");
	put(o, "%s", inet_ntop(AF_INET, &a->local, ip, sizeof(ip)));
	put(o, "--remote");
	put(o, "%s", inet_ntop(AF_INET, &a->remote, ip, sizeof(ip)));
	put(o, "--port");
	put(o, "%u", a->port);
	put(o, "--vni");
	put(o, "%u", (unsigned)a->vni);
	if (a->nlocal) {
		/* One word: the MACs joined by ',' (each 17 characters). */
		char macs[MV_NODES_MAX * MAC_STR_LEN];
		size_t used = 0;

		for (k = 0; k < a->nlocal; k++)
			used += snprintf(macs + used, sizeof(macs) - used, "%s%s", k ? "," : "",
					 mac_format(mac, a->local_mac[k]));
		put(o, "--local-macs");
		put(o, "%s", macs);
	}
}

int vmm_args_encode(const struct vmm_args *a, char *buf, size_t len, char **argv, int max)
{
	struct out o = { .buf = buf, .argv = argv, .len = len, .max = max };
	char mac[MAC_STR_LEN];
	unsigned k;

	if (a->tunnel) {
		if (!tunnel_ok(a))
			return -EINVAL;
	} else if (strlen(a->socket) == 0 || a->mtu < MV_MTU_MIN || a->mtu > MV_MTU_MAX) {
		return -EINVAL;
	}

	/* Refuse here what the decoder would: a bad value is our bug, and
	 * must not become a VMM that exits at once and is restarted forever. */
	if (!name_ok(a->name, sizeof(a->name)) || strlen(a->socket) >= sizeof(a->socket) || !fd_ok(a->stats_fd) ||
	    (a->capture_fd >= 0 && !fd_ok(a->capture_fd)) || (a->ready_fd >= 0 && !fd_ok(a->ready_fd)) ||
	    !mv_qsize_ok(a->queue_size) || (a->drop && (a->uid == 0 || a->gid == 0)) ||
	    a->nlinks > MV_NODE_LINKS_MAX)
		return -EINVAL;
	for (k = 0; k < a->nlinks; k++)
		if (!link_ok(&a->link[k]))
			return -EINVAL;
	if (max < 1)
		return -E2BIG;
	put(&o, "multivm");
	put(&o, a->tunnel ? "tunnel" : "vmm");
	put(&o, "--name");
	put(&o, "%s", a->name);
	if (a->tunnel) {
		put_tunnel(&o, a);
	} else {
		put(&o, "--mac");
		put(&o, "%s", mac_format(mac, a->mac));
		put(&o, "--socket");
		put(&o, "%s", a->socket);
	}
	put(&o, "--stats-fd");
	put(&o, "%d", a->stats_fd);
	put(&o, "--queue-size");
	put(&o, "%u", a->queue_size);
	if (a->capture_fd >= 0) {
		put(&o, "--capture-fd");
		put(&o, "%d", a->capture_fd);
	}
	if (a->ready_fd >= 0) {
		put(&o, "--ready-fd");
		put(&o, "%d", a->ready_fd);
	}
	if (a->drop) {
		put(&o, "--user");
		put(&o, "%u:%u", (unsigned)a->uid, (unsigned)a->gid);
	}
	if (a->group_connect)
		put(&o, "--group-connect");
	if (!a->tunnel) {
		put(&o, "--mtu");
		put(&o, "%u", a->mtu);
		put(&o, "--offloads");
		put(&o, "%s", a->offloads ? "yes" : "no");
	}
	for (k = 0; k < a->nlinks; k++) {
		const struct vmm_link_arg *l = &a->link[k];

		put(&o, "--link");
		put(&o, "%s,%s,%d,%d,%d,%d", l->peer, l->tunnel ? "tunnel" : mac_format(mac, l->peer_mac), l->side,
		    l->memfd, l->rx_kick, l->tx_kick);
	}
	if (o.full)
		return -E2BIG;
	argv[o.argc] = NULL;
	return o.argc;
}

/* ---- decoding: argv is hostile until proven otherwise ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

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

	if (!number(s, 0, VMM_FD_MAX, &v))
		return false;
	*fd = v;
	return true;
}

/* UID:GID, both non-zero. */
static bool user_arg(struct vmm_args *a, const char *s)
{
	const char *colon = strchr(s, ':');
	char uid[16];
	long u, g;

	if (!colon || (size_t)(colon - s) >= sizeof(uid))
		return false;
	memcpy(uid, s, colon - s);
	uid[colon - s] = 0;
	if (!number(uid, 1, 0x7fffffff, &u) || !number(colon + 1, 1, 0x7fffffff, &g))
		return false;
	a->drop = true;
	a->uid = u;
	a->gid = g;
	return true;
}

/* PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD; PEERMAC "tunnel": a tunnel link. */
static bool link_arg(struct vmm_link_arg *l, const char *spec)
{
	char copy[MV_NAME_MAX + MAC_STR_LEN + 4 * 8], *f[6], *tok;
	long side;
	int i = 0;

	if (strlen(spec) >= sizeof(copy))
		return false;
	memcpy(copy, spec, strlen(spec) + 1);
	/* strtok would merge ",," and accept a trailing ','. */
	for (tok = copy; i < 6; i++) {
		f[i] = tok;
		tok = strchr(tok, ',');
		if (!tok)
			break;
		*tok++ = 0;
	}
	if (i != 5)	/* fewer or more than six fields */
		return false;
	if (strlen(f[0]) >= sizeof(l->peer))
		return false;
	memcpy(l->peer, f[0], strlen(f[0]) + 1);
	l->tunnel = strcmp(f[1], "tunnel") == 0;
	if (!name_ok(l->peer, sizeof(l->peer)) || (!l->tunnel && mac_parse(f[1], l->peer_mac) < 0) ||
	    !number(f[2], 0, 1, &side) || !fd_arg(f[3], &l->memfd) || !fd_arg(f[4], &l->rx_kick) ||
	    !fd_arg(f[5], &l->tx_kick))
		return false;
	l->side = side;
	return true;
}

/* MAC,MAC,...: every VM of the system, for a tunnel. */
static bool macs_arg(struct vmm_args *a, const char *s)
{
	char one[MAC_STR_LEN];
	const char *end;

	for (;;) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (a->nlocal >= MV_NODES_MAX || (size_t)(end - s) >= sizeof(one))
			return false;
		memcpy(one, s, end - s);
		one[end - s] = 0;
		if (mac_parse(one, a->local_mac[a->nlocal]) < 0)
			return false;
		a->nlocal++;
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

enum opt { O_NAME, O_MAC, O_SOCKET, O_STATS, O_QSIZE, O_CAPTURE, O_READY, O_USER, O_GROUP, O_LINK, O_MTU,
	   O_OFFLOADS, O_LOCAL, O_REMOTE, O_PORT, O_VNI, O_LOCAL_MACS, O_COUNT };

/* Which options each kind of process takes. */
#define OPT_BIT(o)	(1u << (o))
#define OPTS_BOTH	(OPT_BIT(O_NAME) | OPT_BIT(O_STATS) | OPT_BIT(O_QSIZE) | OPT_BIT(O_READY) | \
			 OPT_BIT(O_USER) | OPT_BIT(O_LINK))
#define OPTS_VMM	(OPTS_BOTH | OPT_BIT(O_MAC) | OPT_BIT(O_SOCKET) | OPT_BIT(O_CAPTURE) | \
			 OPT_BIT(O_GROUP) | OPT_BIT(O_MTU) | OPT_BIT(O_OFFLOADS))
#define OPTS_TUNNEL	(OPTS_BOTH | OPT_BIT(O_LOCAL) | OPT_BIT(O_REMOTE) | OPT_BIT(O_PORT) | OPT_BIT(O_VNI) | \
			 OPT_BIT(O_LOCAL_MACS))

static const char *const opt_names[O_COUNT] = {
	[O_NAME] = "--name", [O_MAC] = "--mac", [O_SOCKET] = "--socket", [O_STATS] = "--stats-fd",
	[O_QSIZE] = "--queue-size", [O_CAPTURE] = "--capture-fd", [O_READY] = "--ready-fd",
	[O_USER] = "--user", [O_GROUP] = "--group-connect", [O_LINK] = "--link", [O_MTU] = "--mtu",
	[O_OFFLOADS] = "--offloads", [O_LOCAL] = "--local", [O_REMOTE] = "--remote", [O_PORT] = "--port",
	[O_VNI] = "--vni", [O_LOCAL_MACS] = "--local-macs",
};

static bool value(struct vmm_args *a, enum opt o, const char *v)
{
	long q;

	switch (o) {
	case O_NAME:
		if (strlen(v) >= sizeof(a->name))
			return false;
		memcpy(a->name, v, strlen(v) + 1);
		return name_ok(a->name, sizeof(a->name));
	case O_MAC:
		return mac_parse(v, a->mac) == 0;
	case O_SOCKET:
		if (*v == 0 || strlen(v) >= sizeof(a->socket))
			return false;
		memcpy(a->socket, v, strlen(v) + 1);
		return true;
	case O_STATS:
		return fd_arg(v, &a->stats_fd);
	case O_QSIZE:
		if (!number(v, MV_QSIZE_MIN, MV_QSIZE_MAX, &q) || !mv_qsize_ok(q))
			return false;
		a->queue_size = q;
		return true;
	case O_CAPTURE:
		return fd_arg(v, &a->capture_fd);
	case O_READY:
		return fd_arg(v, &a->ready_fd);
	case O_USER:
		return user_arg(a, v);
	case O_MTU:
		if (!number(v, MV_MTU_MIN, MV_MTU_MAX, &q))
			return false;
		a->mtu = q;
		return true;
	case O_OFFLOADS:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return false;
		a->offloads = strcmp(v, "yes") == 0;
		return true;
	case O_LINK:
		if (a->nlinks >= MV_NODE_LINKS_MAX)
			return false;
		if (!link_arg(&a->link[a->nlinks], v) || (a->tunnel && a->link[a->nlinks].tunnel))
			return false;	/* a tunnel links to VMs only */
		a->nlinks++;
		return true;
	case O_LOCAL:
		return ip_arg(&a->local, v);
	case O_REMOTE:
		return ip_arg(&a->remote, v);
	case O_PORT:
		if (!number(v, 1, 65535, &q))
			return false;
		a->port = q;
		return true;
	case O_VNI:
		if (!number(v, 0, MV_VNI_MAX, &q))
			return false;
		a->vni = q;
		return true;
	case O_LOCAL_MACS:
		return macs_arg(a, v);
	case O_GROUP:
	case O_COUNT:
		break;
	}
	return false;
}

int vmm_args_decode(struct vmm_args *a, int argc, char *const *argv, char *err, size_t errlen)
{
	static const enum opt req_vmm[] = { O_NAME, O_MAC, O_SOCKET, O_STATS, O_QSIZE };
	static const enum opt req_tunnel[] = { O_NAME, O_STATS, O_QSIZE, O_LOCAL, O_REMOTE, O_PORT, O_VNI };
	bool seen[O_COUNT] = { false };
	const enum opt *required;
	unsigned k, nreq, allowed;
	int i;

	memset(a, 0, sizeof(*a));
	a->stats_fd = a->capture_fd = a->ready_fd = -1;
	a->tunnel = argc > 0 && argv[0] && strcmp(argv[0], "tunnel") == 0;
	if (a->tunnel) {
		required = req_tunnel;
		nreq = sizeof(req_tunnel) / sizeof(req_tunnel[0]);
		allowed = OPTS_TUNNEL;
	} else {
		required = req_vmm;
		nreq = sizeof(req_vmm) / sizeof(req_vmm[0]);
		allowed = OPTS_VMM;
		a->mtu = 1500;
		a->offloads = true;
	}
	for (i = 1; i < argc; i++) {
		enum opt o;

		for (o = 0; o < O_COUNT && (!argv[i] || strcmp(argv[i], opt_names[o]) != 0); o++)
			;
		if (o == O_COUNT || !(allowed & OPT_BIT(o)))
			return fail(err, errlen, "unknown argument '%.40s'", argv[i] ? argv[i] : "(null)");
		if (seen[o] && o != O_LINK)
			return fail(err, errlen, "%s given twice", opt_names[o]);
		seen[o] = true;
		if (o == O_GROUP) {
			a->group_connect = true;
			continue;
		}
		if (i + 1 >= argc || !argv[i + 1])
			return fail(err, errlen, "%s needs a value", opt_names[o]);
		i++;
		if (!value(a, o, argv[i]))
			return fail(err, errlen, "bad %s '%.80s'", opt_names[o], argv[i]);
	}
	for (k = 0; k < nreq; k++)
		if (!seen[required[k]])
			return fail(err, errlen, "%s is missing", opt_names[required[k]]);
	return 0;
}
