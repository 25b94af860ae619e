/* The supervisor -> node seam: what node_args_encode writes, node_args_decode
 * reads back unchanged; what anyone else might put on that command line
 * is refused. Also the one MAC parser and formatter both sides use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/mac.h"
#include "node/args.h"

static char buf[8192], err[160], *argv[NODE_ARGV_MAX];

static void full(struct node_args *a)
{
	static const uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x4d, 0x56, 0x01 };
	unsigned k;

	node_args_init(a, NODE_VMM);
	strcpy(a->name, "vm0");
	memcpy(a->vmm.mac, mac, ETH_ALEN);
	strcpy(a->vmm.socket, "/run/multivm/vm0.vhost");
	a->stats_fd = 5;
	a->ctl_fd = 8;
	a->vmm.capture_fd = 6;
	a->ready_fd = 7;
	a->handoff_fd = 4;
	a->lifeline_fd = 3;
	a->queue_size = 1024;
	a->drop = true;
	a->uid = 998;
	a->gid = 997;
	a->vmm.group_connect = true;
	a->vmm.frontend = true;
	a->vmm.front_uid = 1900000001;
	a->vmm.front_gid = 996;
	a->vmm.mtu = 9000;
	a->vmm.offloads = false;
	a->vmm.nwires = MV_NICS_MAX;
	for (k = 0; k < MV_NICS_MAX; k++) {	/* every wire NIC, each with the last links */
		struct node_wire_arg *w = &a->vmm.wire[k];

		snprintf(w->name, sizeof(w->name), "eth%u", k + 1);
		memcpy(w->mac, mac, ETH_ALEN);
		w->mac[4] = 0x4e;
		w->mac[5] = k;
		snprintf(w->socket, sizeof(w->socket), "/run/multivm/vm0.eth%u.vhost", k + 1);
		w->mtu = 1500 + k;
		w->offloads = k & 1;
	}
	a->nlinks = MV_NODE_LINKS_MAX;
	for (k = 0; k < a->nlinks; k++) {
		struct node_link_arg *l = &a->link[k];

		snprintf(l->peer, sizeof(l->peer), "peer_%u-x", k);
		l->tunnel = k % 7 == 3;	/* some links go to tunnels: no peer MAC */
		if (!l->tunnel) {
			memcpy(l->peer_mac, mac, ETH_ALEN);
			l->peer_mac[5] = 0xa0 + k;
		}
		l->side = k & 1;
		l->memfd = 100 + 3 * k;
		l->rx_kick = 101 + 3 * k;
		l->tx_kick = 102 + 3 * k;
		l->qsize = k % 5 == 0 ? 0 : 4096u >> (k % 4);	/* most are delayed links, sized */
		if (k >= MV_NODE_LINKS_MAX - MV_NICS_MAX) {	/* a wire's link for each NIC */
			l->wire = true;
			l->nic = k - (MV_NODE_LINKS_MAX - MV_NICS_MAX) + 1;
			if (!l->tunnel)
				snprintf(l->peer_nic, sizeof(l->peer_nic), "e%u", k);
		}
	}
}

static void test_round_trip(void **state)
{
	static struct node_args a, b;
	int n;

	full(&a);
	n = node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX);
	assert_true(n > 2);
	assert_null(argv[n]);
	assert_string_equal(argv[0], "multivm");
	assert_string_equal(argv[1], "vmm");
	assert_int_equal(node_args_decode(&b, n - 1, argv + 1, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* The smallest: no capture, no ready fd, no user, no links. */
	full(&a);
	a.vmm.capture_fd = a.ready_fd = a.ctl_fd = a.handoff_fd = a.lifeline_fd = -1;
	a.drop = a.vmm.group_connect = a.vmm.frontend = false;
	a.uid = a.gid = 0;
	a.vmm.front_uid = a.vmm.front_gid = 0;
	a.nlinks = 0;
	memset(a.link, 0, sizeof(a.link));
	a.vmm.nwires = 0;
	memset(a.vmm.wire, 0, sizeof(a.vmm.wire));
	n = node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX);
	assert_int_equal(n, 16);	/* --mtu and --offloads always */
	assert_int_equal(node_args_decode(&b, n - 1, argv + 1, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_encode_refuses(void **state)
{
	static struct node_args a;
	char *small[4];

	full(&a);
	assert_int_equal(node_args_encode(&a, buf, 100, argv, NODE_ARGV_MAX), -E2BIG);
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), small, 4), -E2BIG);
	full(&a);
	strcpy(a.link[3].peer, "a,b");	/* would split the link spec */
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full(&a);
	a.queue_size = 7;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full(&a);
	a.uid = 0;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full(&a);
	a.vmm.mtu = 9001;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full(&a);
	a.link[3].peer_mac[0] = 0x52;	/* a tunnel link has no MAC to carry */
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
}

/* argv[0] is the command word; the rest as given. */
static int decode(struct node_args *a, const char *const *words)
{
	char *v[2 * NODE_ARGV_MAX] = { "vmm" };
	int n = 1;

	while (*words)
		v[n++] = (char *)*words++;
	return node_args_decode(a, n, v, err, sizeof(err));
}

#define BASE "--name", "vm0", "--mac", "52:54:00:4d:56:01", "--socket", "/s", "--stats-fd", "3", \
	     "--queue-size", "256"

static void refused(const char *const *words, const char *why)
{
	static struct node_args a;

	err[0] = 0;
	assert_int_equal(decode(&a, words), -EINVAL);
	if (!strstr(err, why))
		fail_msg("expected '%s', got '%s'", why, err);
}

static void test_decode_hostile(void **state)
{
	static struct node_args a;
	char longname[80], longpath[200], longlink[160];

	assert_int_equal(decode(&a, (const char *[]){ BASE, NULL }), 0);
	assert_int_equal(a.kind, NODE_VMM);
	assert_int_equal(a.vmm.capture_fd, -1);
	assert_int_equal(a.ready_fd, -1);
	assert_int_equal(a.handoff_fd, -1);
	assert_int_equal(a.lifeline_fd, -1);
	refused((const char *[]){ BASE, "--handoff-fd", "-1", NULL }, "bad --handoff-fd");
	refused((const char *[]){ BASE, "--lifeline-fd", "x", NULL }, "bad --lifeline-fd");

	/* Missing values and missing options. */
	refused((const char *[]){ BASE, "--capture-fd", NULL }, "--capture-fd needs a value");
	refused((const char *[]){ "--mac", "52:54:00:4d:56:01", "--socket", "/s", "--stats-fd", "3",
				  "--queue-size", "256", NULL }, "--name is missing");
	refused((const char *[]){ "--name", "vm0", "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", NULL }, "--queue-size is missing");
	refused((const char *[]){ BASE, "--bogus", NULL }, "unknown argument '--bogus'");
	refused((const char *[]){ BASE, "stray", NULL }, "unknown argument 'stray'");
	refused((const char *[]){ BASE, "--name", "vm1", NULL }, "--name given twice");
	refused((const char *[]){ BASE, "--name=vm1", NULL }, "unknown argument");

	/* Bad numbers. */
	refused((const char *[]){ BASE, "--capture-fd", "-1", NULL }, "bad --capture-fd");
	refused((const char *[]){ BASE, "--capture-fd", "+4", NULL }, "bad --capture-fd");
	refused((const char *[]){ BASE, "--capture-fd", " 4", NULL }, "bad --capture-fd");
	refused((const char *[]){ BASE, "--ready-fd", "4x", NULL }, "bad --ready-fd");
	refused((const char *[]){ BASE, "--ready-fd", "65536", NULL }, "bad --ready-fd");
	refused((const char *[]){ BASE, "--ready-fd", "99999999999999999999", NULL }, "bad --ready-fd");
	refused((const char *[]){ "--name", "vm0", "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "4097", NULL }, "bad --queue-size");
	refused((const char *[]){ "--name", "vm0", "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "100", NULL }, "bad --queue-size");
	{	/* absent: MTU 1500, offloads on */
		static struct node_args d;

		assert_int_equal(decode(&d, (const char *[]){ BASE, NULL }), 0);
		assert_int_equal(d.vmm.mtu, 1500);
		assert_true(d.vmm.offloads);
	}
	refused((const char *[]){ BASE, "--mtu", "67", NULL }, "bad --mtu");
	refused((const char *[]){ BASE, "--mtu", "9001", NULL }, "bad --mtu");
	refused((const char *[]){ BASE, "--offloads", "maybe", NULL }, "bad --offloads");
	refused((const char *[]){ BASE, "--offloads", "no", "--offloads", "no", NULL }, "--offloads given twice");
	refused((const char *[]){ BASE, "--user", "0:5", NULL }, "bad --user");
	refused((const char *[]){ BASE, "--user", "5", NULL }, "bad --user");
	refused((const char *[]){ BASE, "--user", "5:", NULL }, "bad --user");
	refused((const char *[]){ BASE, "--user", "12345678901234567890:5", NULL }, "bad --user");

	/* Names: too long, empty, odd characters. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	refused((const char *[]){ "--name", longname, "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "256", NULL }, "bad --name");
	refused((const char *[]){ "--name", "", "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "256", NULL }, "bad --name");
	refused((const char *[]){ "--name", "../x", "--mac", "52:54:00:4d:56:01", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "256", NULL }, "bad --name");
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	refused((const char *[]){ "--name", "vm0", "--mac", "52:54:00:4d:56:01", "--socket", longpath,
				  "--stats-fd", "3", "--queue-size", "256", NULL }, "bad --socket");
	refused((const char *[]){ "--name", "vm0", "--mac", "52:54:00:4d:56", "--socket", "/s",
				  "--stats-fd", "3", "--queue-size", "256", NULL }, "bad --mac");

	/* Links: field count, each field, the peer's name. */
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12", NULL }), 0);
	assert_int_equal(a.nlinks, 1);
	assert_string_equal(a.link[0].peer, "vm1");
	assert_int_equal(a.link[0].side, 1);
	assert_int_equal(a.link[0].tx_kick, 12);
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11", NULL }, "bad --link");
	assert_int_equal(a.link[0].qsize, 0);	/* --queue-size's */
	/* A link's own queue size (a delayed link's room): qN, last. */
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q1024", NULL }), 0);
	assert_int_equal(a.link[0].qsize, 1024);
	assert_false(a.link[0].wire);
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--wire", "eth1,52:54:00:4d:57:01,/tmp/w.sock,1500,yes",
						      "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,1,eth2,q64", NULL }), 0);
	assert_int_equal(a.link[0].qsize, 64);
	assert_true(a.link[0].wire);
	assert_string_equal(a.link[0].peer_nic, "eth2");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q1000", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q8192", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q32", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,Q1024", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q+1024", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,q1024,q1024", NULL },
		"bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,1,eth2,q1024,", NULL },
		"bad --link");
	/* A link to a tunnel: PEERMAC "tunnel", exactly. */
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--link", "tun0,tunnel,0,10,11,12", NULL }), 0);
	assert_int_equal(a.nlinks, 1);
	assert_true(a.link[0].tunnel);
	assert_string_equal(a.link[0].peer, "tun0");
	assert_memory_equal(a.link[0].peer_mac, (uint8_t[ETH_ALEN]){ 0 }, ETH_ALEN);
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12", NULL }), 0);
	assert_false(a.link[0].tunnel);
	refused((const char *[]){ BASE, "--link", "tun0,Tunnel,0,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "tun0,tunnel ,0,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "tun0,,0,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,13", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,1,10,11,12,", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,2,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", ",52:54:00:4d:56:02,0,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52-54-00-4d-56-02,0,10,11,12", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm1,52:54:00:4d:56:02,0,-10,11,12", NULL }, "bad --link");
	snprintf(longlink, sizeof(longlink), "%.40s,52:54:00:4d:56:02,0,10,11,12", longname);
	refused((const char *[]){ BASE, "--link", longlink, NULL }, "bad --link");
	{
		const char *many[10 + 2 * (MV_NODE_LINKS_MAX + 1) + 1] = { BASE };
		unsigned k, n = 10;

		for (k = 0; k <= MV_NODE_LINKS_MAX; k++) {
			many[n++] = "--link";
			many[n++] = "vm1,52:54:00:4d:56:02,0,10,11,12";
		}
		many[n] = NULL;
		refused(many, "bad --link");
	}
}

/* A tunnel process's command line: every field, 63 links, 64 MACs. */
static void full_tunnel(struct node_args *a)
{
	struct node_args v;
	unsigned k;

	full(&v);	/* the common part as a VMM's */
	node_args_init(a, NODE_TUNNEL);
	memcpy(a->name, v.name, sizeof(a->name));
	a->stats_fd = v.stats_fd;
	a->ctl_fd = v.ctl_fd;
	a->ready_fd = v.ready_fd;
	a->queue_size = v.queue_size;
	a->drop = v.drop;
	a->uid = v.uid;
	a->gid = v.gid;
	a->nlinks = v.nlinks;
	memcpy(a->link, v.link, sizeof(a->link));
	for (k = 0; k < a->nlinks; k++) {	/* a tunnel has no NICs */
		a->link[k].nic = 0;
		a->link[k].wire = false;
		memset(a->link[k].peer_nic, 0, sizeof(a->link[k].peer_nic));
	}
	a->tunnel.local.s_addr = htonl(0x0a090001);
	a->tunnel.remote.s_addr = htonl(0xc0a80102);
	a->tunnel.port = 65535;
	a->tunnel.vni = MV_VNI_MAX;
	a->tunnel.udp_fd = 9;
	a->lifeline_fd = 11;
	a->tunnel.nlocal = MV_NODES_MAX;
	for (k = 0; k < a->nlinks; k++) {
		struct node_link_arg *l = &a->link[k];

		l->tunnel = false;	/* a tunnel links to VMs only */
		memset(l->peer_mac, 0, ETH_ALEN);
		l->peer_mac[0] = 0x52;
		l->peer_mac[5] = k + 1;
	}
	for (k = 0; k < a->tunnel.nlocal; k++) {
		a->tunnel.local_mac[k][0] = 0x52;
		a->tunnel.local_mac[k][5] = k + 1;
	}
	a->tunnel.nlocal_ip = MV_NODES_MAX;
	for (k = 0; k < a->tunnel.nlocal_ip; k++)
		a->tunnel.local_ip[k].s_addr = htonl(0xc0a80101 + k);
}

static void test_tunnel_round_trip(void **state)
{
	static struct node_args a, b;
	int n;

	full_tunnel(&a);
	n = node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX);
	assert_true(n > 2);
	assert_null(argv[n]);
	assert_string_equal(argv[1], "tunnel");
	assert_int_equal(node_args_decode(&b, n - 1, argv + 1, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* The smallest: no ready fd, no user, no MACs, no links. */
	a.ready_fd = a.ctl_fd = a.tunnel.udp_fd = a.lifeline_fd = -1;
	a.drop = false;
	a.uid = a.gid = 0;
	a.nlinks = a.tunnel.nlocal = a.tunnel.nlocal_ip = 0;
	memset(a.tunnel.local_ip, 0, sizeof(a.tunnel.local_ip));
	a.tunnel.vni = 0;
	a.tunnel.port = 1;
	memset(a.link, 0, sizeof(a.link));
	memset(a.tunnel.local_mac, 0, sizeof(a.tunnel.local_mac));
	n = node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX);
	assert_int_equal(n, 16);
	assert_int_equal(node_args_decode(&b, n - 1, argv + 1, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* What a tunnel's command line cannot carry is refused at encoding. */
	full_tunnel(&a);
	a.link[0].tunnel = true;
	a.link[0].peer_mac[0] = a.link[0].peer_mac[5] = 0;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full_tunnel(&a);
	a.tunnel.port = 0;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
	full_tunnel(&a);
	a.tunnel.vni = MV_VNI_MAX + 1;
	assert_int_equal(node_args_encode(&a, buf, sizeof(buf), argv, NODE_ARGV_MAX), -EINVAL);
}

/* argv[0] "tunnel"; the rest as given. */
static int decode_tunnel(struct node_args *a, const char *const *words)
{
	char *v[2 * NODE_ARGV_MAX] = { "tunnel" };
	int n = 1;

	while (*words)
		v[n++] = (char *)*words++;
	return node_args_decode(a, n, v, err, sizeof(err));
}

#define TBASE "--name", "t0", "--local", "10.9.0.1", "--remote", "10.9.0.2", "--port", "4789", "--vni", "42", \
	      "--stats-fd", "3", "--queue-size", "256"

static void tunnel_refused(const char *const *words, const char *why)
{
	static struct node_args a;

	err[0] = 0;
	assert_int_equal(decode_tunnel(&a, words), -EINVAL);
	if (!strstr(err, why))
		fail_msg("expected '%s', got '%s'", why, err);
}

static void test_tunnel_decode_hostile(void **state)
{
	static struct node_args a;
	char macs[MV_NODES_MAX * MAC_STR_LEN + 32];
	unsigned k;

	assert_int_equal(decode_tunnel(&a, (const char *[]){ TBASE, NULL }), 0);
	assert_int_equal(a.kind, NODE_TUNNEL);
	assert_int_equal(a.tunnel.vni, 42);
	assert_int_equal(ntohl(a.tunnel.remote.s_addr), 0x0a090002);
	assert_int_equal(decode_tunnel(&a, (const char *[]){ TBASE, "--local-macs",
				       "52:54:00:4d:56:01,52:54:00:4d:56:02", NULL }), 0);
	assert_int_equal(a.tunnel.nlocal, 2);
	assert_int_equal(a.tunnel.local_mac[1][5], 2);
	/* Each required option. */
	tunnel_refused((const char *[]){ "--name", "t0", "--local", "10.9.0.1", "--remote", "10.9.0.2", "--port",
					 "4789", "--stats-fd", "3", "--queue-size", "256", NULL }, "--vni is missing");
	/* A VMM's options are not a tunnel's, and the other way round. */
	tunnel_refused((const char *[]){ TBASE, "--mac", "52:54:00:4d:56:01", NULL }, "unknown argument '--mac'");
	tunnel_refused((const char *[]){ TBASE, "--socket", "/s", NULL }, "unknown argument");
	tunnel_refused((const char *[]){ TBASE, "--capture-fd", "4", NULL }, "unknown argument");
	tunnel_refused((const char *[]){ TBASE, "--mtu", "1500", NULL }, "unknown argument");
	tunnel_refused((const char *[]){ TBASE, "--group-connect", NULL }, "unknown argument");
	refused((const char *[]){ BASE, "--vni", "42", NULL }, "unknown argument '--vni'");
	refused((const char *[]){ BASE, "--udp-fd", "5", NULL }, "unknown argument '--udp-fd'");
	refused((const char *[]){ BASE, "--local-macs", "52:54:00:4d:56:01", NULL }, "unknown argument");
	/* Values. */
	tunnel_refused((const char *[]){ TBASE, "--vni", "1", NULL }, "given twice");
	tunnel_refused((const char *[]){ "--name", "t0", "--local", "10.9.0.1", "--remote", "10.9.0.2", "--port",
					 "4789", "--stats-fd", "3", "--queue-size", "256", "--vni", "16777216", NULL },
		       "bad --vni");
	tunnel_refused((const char *[]){ "--name", "t0", "--local", "10.9.0.1", "--remote", "10.9.0.2", "--port",
					 "0", "--stats-fd", "3", "--queue-size", "256", "--vni", "1", NULL },
		       "bad --port");
	tunnel_refused((const char *[]){ "--name", "t0", "--local", "10.9.0.01", "--remote", "10.9.0.2", "--port",
					 "1", "--stats-fd", "3", "--queue-size", "256", "--vni", "1", NULL },
		       "bad --local");
	tunnel_refused((const char *[]){ "--name", "t0", "--local", "10.9.0.1", "--remote", "10.9.0", "--port",
					 "1", "--stats-fd", "3", "--queue-size", "256", "--vni", "1", NULL },
		       "bad --remote");
	tunnel_refused((const char *[]){ TBASE, "--local-macs", "52:54:00:4d:56:01,", NULL }, "bad --local-macs");
	tunnel_refused((const char *[]){ TBASE, "--local-macs", ",52:54:00:4d:56:01", NULL }, "bad --local-macs");
	tunnel_refused((const char *[]){ TBASE, "--local-macs", "52:54:00:4d:56:0100", NULL }, "bad --local-macs");
	tunnel_refused((const char *[]){ TBASE, "--local-macs", "", NULL }, "bad --local-macs");
	/* A tunnel links to VMs only. */
	tunnel_refused((const char *[]){ TBASE, "--link", "t1,tunnel,0,10,11,12", NULL }, "bad --link");
	/* At most MV_NODES_MAX MACs. */
	macs[0] = 0;
	for (k = 0; k <= MV_NODES_MAX; k++)
		snprintf(macs + strlen(macs), sizeof(macs) - strlen(macs), "%s52:54:00:4d:56:%02x", k ? "," : "", k);
	tunnel_refused((const char *[]){ TBASE, "--local-macs", macs, NULL }, "bad --local-macs");
	/* The command word says the kind; nothing else is a node. */
	{
		char *w[] = { "switch", "--name", "x" };

		assert_int_equal(node_args_decode(&a, 3, w, err, sizeof(err)), -EINVAL);
		assert_int_equal(node_args_decode(&a, 0, w, err, sizeof(err)), -EINVAL);
	}
}

/* Wire NICs and the links that belong to them. */
static void test_wires(void **state)
{
	static struct node_args a;

	assert_int_equal(decode(&a, (const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500,yes",
				    "--wire", "eth2,52:54:00:4e:01:02,/s2,9000,no", "--link",
				    "vm1,52:54:00:4d:56:02,0,10,11,12", "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,1,eth1",
				    "--link", "vm3,52:54:00:4e:03:01,0,16,17,18,2,eth7", NULL }), 0);
	assert_int_equal(a.vmm.nwires, 2);
	assert_string_equal(a.vmm.wire[1].name, "eth2");
	assert_int_equal(a.vmm.wire[1].mtu, 9000);
	assert_false(a.vmm.wire[1].offloads);
	assert_int_equal(a.link[0].nic, 0);
	assert_false(a.link[0].wire);
	assert_int_equal(a.link[2].nic, 2);
	assert_true(a.link[2].wire);
	assert_string_equal(a.link[2].peer_nic, "eth7");
	/* eth0 a wire's: its one link is a wire's, to a tunnel here ("-"). */
	assert_int_equal(decode(&a, (const char *[]){ BASE, "--eth0-wire", "--link", "up,tunnel,0,10,11,12,0,-", NULL }), 0);
	assert_true(a.link[0].wire && a.link[0].tunnel && !a.link[0].peer_nic[0]);
	/* A link of a NIC that is not there; out of NIC order; two on a wire. */
	refused((const char *[]){ BASE, "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,1,eth1", NULL }, "do not fit");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500,yes", "--link",
				  "vm2,52:54:00:4e:02:01,1,13,14,15,1,eth1", "--link", "vm1,52:54:00:4d:56:02,0,10,11,12",
				  NULL }, "bad --link");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500,yes", "--link",
				  "vm2,52:54:00:4e:02:01,1,13,14,15,1,eth1", "--link", "vm3,52:54:00:4e:02:01,1,16,17,18,1,eth1",
				  NULL }, "do not fit");
	refused((const char *[]){ BASE, "--eth0-wire", "--link", "vm1,52:54:00:4d:56:02,0,10,11,12", NULL },
		"do not fit");	/* a segment link on a wire's eth0 */
	refused((const char *[]){ BASE, "--eth0-wire", "--link", "vm1,52:54:00:4d:56:02,0,10,11,12,0,eth1", "--link",
				  "vm2,52:54:00:4d:56:03,0,13,14,15,0,eth1", NULL }, "do not fit");
	refused((const char *[]){ BASE, "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,0,eth1", NULL }, "do not fit");
	refused((const char *[]){ BASE, "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,9,eth1", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,1", NULL }, "bad --link");
	refused((const char *[]){ BASE, "--link", "vm2,52:54:00:4e:02:01,1,13,14,15,1,Eth1", NULL }, "bad --link");
	/* Wire NICs: name, MAC, socket, MTU, offloads, exactly. */
	refused((const char *[]){ BASE, "--wire", "Eth1,52:54:00:4e:01:01,/s1,1500,yes", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "eth1.5,52:54:00:4e:01:01,/s1,1500,yes", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,,1500,yes", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,67,yes", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500,yes,x", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500", NULL }, "bad --wire");
	refused((const char *[]){ BASE, "--wire", "abcdefghijklmnop,52:54:00:4e:01:01,/s1,1500,no", NULL }, "bad --wire");
	/* A tunnel wire end has one link, and takes no NICs. */
	tunnel_refused((const char *[]){ TBASE, "--wire-link", "--link", "vm1,52:54:00:4d:56:02,0,10,11,12,0,eth1",
					 "--link", "vm2,52:54:00:4d:56:03,0,13,14,15,0,eth1", NULL }, "do not fit");
	tunnel_refused((const char *[]){ TBASE, "--wire", "eth1,52:54:00:4e:01:01,/s1,1500,yes", NULL }, "unknown");
	assert_int_equal(decode_tunnel(&a, (const char *[]){ TBASE, "--wire-link", "--link",
				       "vm1,52:54:00:4d:56:02,0,10,11,12,0,eth2", NULL }), 0);
	assert_true(a.tunnel.wire);
	assert_string_equal(a.link[0].peer_nic, "eth2");
}

/* The usage text comes from the same list: each kind's options, no other's. */
static void test_usage(void **state)
{
	char out[2048];
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	node_args_usage(f, NODE_TUNNEL);
	fclose(f);
	assert_non_null(strstr(out, "usage: multivm tunnel --name NAME"));
	assert_non_null(strstr(out, "--vni N"));
	assert_non_null(strstr(out, "[--link PEER,PEERMAC|tunnel,SIDE,MEMFD,RXKICKFD,TXKICKFD[,NIC,PEERNIC][,qN]]..."));
	assert_non_null(strstr(out, "[--wire-link]"));
	assert_null(strstr(out, "--mac"));
	f = fmemopen(out, sizeof(out), "w");
	node_args_usage(f, NODE_VMM);
	fclose(f);
	assert_non_null(strstr(out, "--socket PATH"));
	assert_non_null(strstr(out, "[--group-connect]"));
	assert_null(strstr(out, "--vni"));
}

static void test_mac(void **state)
{
	uint8_t m[ETH_ALEN] = { 1, 2, 3, 4, 5, 6 }, want[ETH_ALEN] = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
	static const char *const bad[] = {
		"", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:", "52:54:00:ab:cd:ef:00", "52:54:00:ab:cd:e",
		"52-54-00-ab-cd-ef", "52:54:00:ab:cd:eg", " 52:54:00:ab:cd:ef", "52:54:00:ab:cd:ef ",
		"5:54:00:ab:cd:ef0", "+2:54:00:ab:cd:ef", "0x:54:00:ab:cd:ef", "525400abcdef", "52::54:00:ab:cd",
	};
	char s[MAC_STR_LEN];
	unsigned i;

	assert_int_equal(mac_parse("52:54:00:AB:cd:Ef", m), 0);
	assert_memory_equal(m, want, ETH_ALEN);
	assert_string_equal(mac_format(s, m), "52:54:00:ab:cd:ef");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mac_parse(bad[i], m) == 0)
			fail_msg("'%s' parsed as a MAC", bad[i]);
		assert_memory_equal(m, want, ETH_ALEN);	/* untouched */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_decode_hostile),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_tunnel_round_trip),
		cmocka_unit_test(test_tunnel_decode_hostile),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_wires),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
