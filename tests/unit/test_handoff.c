/* Links handed to a running node (common/handoff.h, node/relink.h): what
 * handoff_send writes, handoff_recv reads back with its fds; what anyone
 * else might put on the channel (bad sizes, magic, operations, names, too
 * many or too few fds) is refused with every fd it carried closed; a node
 * takes an add and a drop anywhere (the links after move up or down,
 * still carrying frames, with their counters), and refuses an index it
 * does not have or a peer it already links to, counting handoff_refused.
 * A wire NIC's add carries the NIC (name, MAC, MTU, offloads, the peer's
 * NIC) and its listening socket as a fourth fd; the node has its kind
 * take the NIC, then adds its link named after it, and drops both. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/handoff.h"
#include "common/ifname.h"
#include "link/link.h"
#include "node/relink.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the DIR's own */
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static struct handoff_msg add_msg(const char *peer, unsigned index, const struct link_res *r, int side)
{
	struct handoff_msg m;

	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_ADD;
	m.seq = 7;
	m.index = index;
	strcpy(m.link.peer, peer);
	m.link.peer_mac[5] = 0x42;
	m.link.side = side;
	m.link.memfd = r->memfd;
	m.link.rx_kick = r->kick[1 - side];
	m.link.tx_kick = r->kick[side];
	return m;
}

/* A wire NIC name with its link to vm3's eth2 and a listening socket. */
static struct handoff_msg nic_msg(const char *name, unsigned index, const struct link_res *r, int side)
{
	struct handoff_msg m = add_msg("vm3", index, r, side);

	m.op = HANDOFF_ADD_NIC;
	strcpy(m.nic.name, name);
	m.nic.mac[0] = 0x52;
	m.nic.mac[5] = 0x11;
	m.nic.mtu = 1400;
	m.nic.offloads = true;
	strcpy(m.link.peer_nic, "eth2");
	m.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(m.listen_fd >= 0);
	return m;
}

static void test_round_trip(void **state)
{
	struct link_res r;
	struct handoff_msg m, got;
	char err[120];
	uint32_t seq;
	int sv[2], status;

	pair(sv);
	assert_int_equal(link_create(&r, 64, "a", "b"), 0);
	m = add_msg("vm3", 2, &r, 1);
	assert_int_equal(handoff_send(sv[0], &m), 0);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(got.op, HANDOFF_ADD);
	assert_int_equal(got.seq, 7);
	assert_int_equal(got.index, 2);
	assert_string_equal(got.link.peer, "vm3");
	assert_int_equal(got.link.peer_mac[5], 0x42);
	assert_int_equal(got.link.side, 1);
	assert_false(got.link.tunnel);
	assert_false(got.link.wire);
	/* new fds for the same files */
	assert_true(got.link.memfd >= 0 && got.link.memfd != r.memfd);
	assert_true(fcntl(got.link.memfd, F_GETFD) & FD_CLOEXEC);
	close(got.link.memfd);
	close(got.link.rx_kick);
	close(got.link.tx_kick);
	/* the answer */
	assert_int_equal(handoff_reply(sv[1], 6, -EINVAL), 0);	/* a late one, skipped */
	assert_int_equal(handoff_reply(sv[1], 7, -EEXIST), 0);
	assert_int_equal(handoff_wait_reply(sv[0], 7, 1000, &status), 0);
	assert_int_equal(status, -EEXIST);
	assert_int_equal(handoff_wait_reply(sv[0], 8, 50, &status), -ETIMEDOUT);

	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_DROP;
	m.seq = 9;
	m.index = 62;
	strcpy(m.link.peer, "tunnel_1");
	m.link.memfd = m.link.rx_kick = m.link.tx_kick = -1;
	assert_int_equal(handoff_send(sv[0], &m), 0);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(got.op, HANDOFF_DROP);
	assert_int_equal(got.index, 62);
	assert_string_equal(got.link.peer, "tunnel_1");
	assert_int_equal(got.link.memfd, -1);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), -EAGAIN);

	/* What the decoder would refuse is never sent. */
	m.index = MV_NODE_LINKS_MAX;
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);
	m.index = 0;
	strcpy(m.link.peer, "a b");
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);
	m = add_msg("vm3", 0, &r, 0);
	m.link.tx_kick = -1;
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);

	/* A wire NIC and its link, with its listening socket. */
	m = nic_msg("eth1", 3, &r, 1);
	assert_int_equal(handoff_send(sv[0], &m), 0);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(got.op, HANDOFF_ADD_NIC);
	assert_int_equal(got.index, 3);
	assert_string_equal(got.link.peer, "vm3");
	assert_int_equal(got.link.peer_mac[5], 0x42);
	assert_int_equal(got.link.side, 1);
	assert_true(got.link.wire);
	assert_string_equal(got.link.peer_nic, "eth2");
	assert_string_equal(got.nic.name, "eth1");
	assert_int_equal(got.nic.mac[5], 0x11);
	assert_int_equal(got.nic.mtu, 1400);
	assert_true(got.nic.offloads);
	assert_string_equal(got.nic.socket, "");
	{
		int type;
		socklen_t tl = sizeof(type);

		assert_int_equal(getsockopt(got.listen_fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
		assert_int_equal(type, SOCK_STREAM);
	}
	close(got.link.memfd);
	close(got.link.rx_kick);
	close(got.link.tx_kick);
	close(got.listen_fd);
	close(m.listen_fd);
	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_DROP_NIC;
	m.index = 3;
	strcpy(m.link.peer, "vm3");
	strcpy(m.nic.name, "eth1");
	m.link.memfd = m.link.rx_kick = m.link.tx_kick = m.listen_fd = -1;
	assert_int_equal(handoff_send(sv[0], &m), 0);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(got.op, HANDOFF_DROP_NIC);
	assert_string_equal(got.nic.name, "eth1");
	assert_string_equal(got.link.peer, "vm3");
	assert_int_equal(got.listen_fd, -1);
	assert_int_equal(got.link.memfd, -1);
	strcpy(m.nic.name, "eth0");	/* never a wire NIC handed over */
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);
	m = nic_msg("eth1", 3, &r, 1);
	close(m.listen_fd);
	m.listen_fd = -1;
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);
	m.listen_fd = 0;
	m.nic.mtu = MV_MTU_MAX + 1;
	assert_int_equal(handoff_send(sv[0], &m), -EINVAL);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), -EAGAIN);

	close(sv[1]);
	assert_int_equal(handoff_wait_reply(sv[0], 1, 1000, &status), -EPIPE);
	close(sv[0]);
	link_res_close(&r);
}

/* Raw bytes with n fds (of /dev/null), as a hostile supervisor end could send. */
static void raw(int sock, const void *buf, size_t len, unsigned nfds)
{
	union {
		char b[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[8];
	unsigned k;

	assert_true(nfds <= 8);
	for (k = 0; k < nfds; k++)
		fds[k] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nfds) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
	for (k = 0; k < nfds; k++)
		close(fds[k]);
}

static void refused(int sv[2], const void *buf, size_t len, unsigned nfds, const char *why)
{
	struct handoff_msg got;
	char err[120];
	uint32_t seq;
	int before = open_fds();

	raw(sv[0], buf, len, nfds);
	assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, why))
		print_error("said \"%s\", not \"%s\"\n", err, why);
	assert_non_null(strstr(err, why));
	assert_int_equal(open_fds(), before);	/* every fd it carried closed */
}

static void test_hostile(void **state)
{
	struct handoff_wire w = { .magic = HANDOFF_MAGIC, .version = HANDOFF_VERSION, .op = HANDOFF_ADD, .seq = 3 };
	char big[200];
	int sv[2];

	pair(sv);
	strcpy(w.peer, "vm1");
	refused(sv, &w, sizeof(w) - 1, 3, "55 bytes");
	memset(big, 0, sizeof(big));
	memcpy(big, &w, sizeof(w));
	refused(sv, big, sizeof(big), 3, "too long");
	refused(sv, &w, sizeof(w), 0, "0 fds");
	refused(sv, &w, sizeof(w), 2, "2 fds");
	refused(sv, &w, sizeof(w), 5, "5 fds");
	refused(sv, &w, sizeof(w), 6, "too many fds");
	w.op = HANDOFF_DROP;
	refused(sv, &w, sizeof(w), 1, "1 fds");
	w.op = 5;
	refused(sv, &w, sizeof(w), 0, "unknown operation");
	w.op = 0;
	refused(sv, &w, sizeof(w), 0, "unknown operation");
	w.op = HANDOFF_ADD;
	w.magic ^= 1;
	refused(sv, &w, sizeof(w), 3, "not ours");
	w.magic ^= 1;
	w.version = HANDOFF_VERSION - 1;	/* the 56-byte-only format */
	refused(sv, &w, sizeof(w), 3, "not ours");
	w.version = HANDOFF_VERSION;
	w.index = MV_NODE_LINKS_MAX;
	refused(sv, &w, sizeof(w), 3, "link index");
	w.index = 0;
	memset(w.peer, 'a', sizeof(w.peer));	/* no NUL */
	refused(sv, &w, sizeof(w), 3, "peer name");
	strcpy(w.peer, "../x");
	refused(sv, &w, sizeof(w), 3, "peer name");
	strcpy(w.peer, "vm1");
	w.side = 2;
	refused(sv, &w, sizeof(w), 3, "side");
	w.side = 0;
	w.tunnel = 7;
	refused(sv, &w, sizeof(w), 3, "tunnel");
	w.tunnel = 0;
	{	/* a wire NIC's: the NIC part's size, fds, name and settings */
		struct handoff_nic_wire nw = { .link = w, .mac = { 0x52, 0, 0, 0, 0, 1 }, .mtu = 1500 };

		nw.link.op = HANDOFF_ADD_NIC;
		strcpy(nw.name, "eth1");
		refused(sv, &nw.link, sizeof(nw.link), 4, "operation 3 has 100");
		nw.link.op = HANDOFF_ADD;
		refused(sv, &nw, sizeof(nw), 3, "operation 1 has 56");
		nw.link.op = HANDOFF_ADD_NIC;
		refused(sv, &nw, sizeof(nw), 3, "3 fds");
		refused(sv, &nw, sizeof(nw), 5, "5 fds");
		refused(sv, &nw, sizeof(nw), 8, "too many fds");
		strcpy(nw.name, "eth0");
		refused(sv, &nw, sizeof(nw), 4, "wire NIC's name");
		strcpy(nw.name, "Eth1");
		refused(sv, &nw, sizeof(nw), 4, "wire NIC's name");
		memset(nw.name, 'a', sizeof(nw.name));	/* no NUL */
		refused(sv, &nw, sizeof(nw), 4, "wire NIC's name");
		strcpy(nw.name, "eth1");
		strcpy(nw.peer_nic, "../x");
		refused(sv, &nw, sizeof(nw), 4, "peer NIC");
		nw.peer_nic[0] = 0;
		nw.mtu = MV_MTU_MIN - 1;
		refused(sv, &nw, sizeof(nw), 4, "MTU 67");
		nw.mtu = MV_MTU_MAX + 1;
		refused(sv, &nw, sizeof(nw), 4, "MTU 9001");
		nw.mtu = 1500;
		nw.offloads = 2;
		refused(sv, &nw, sizeof(nw), 4, "offloads 2");
		nw.offloads = 0;
		nw.mac[0] = 1;	/* multicast */
		refused(sv, &nw, sizeof(nw), 4, "NIC settings");
		nw.mac[0] = 0x52;
		nw.link.index = MV_NODE_LINKS_MAX;
		refused(sv, &nw, sizeof(nw), 4, "link index");
		nw.link.index = 0;
		nw.link.op = HANDOFF_DROP_NIC;	/* a drop: no fds, no settings */
		refused(sv, &nw, sizeof(nw), 1, "1 fds");
		refused(sv, &nw, sizeof(nw), 0, "NIC settings");
		memset(nw.mac, 0, sizeof(nw.mac));
		nw.mtu = 0;
		strcpy(nw.peer_nic, "eth2");
		refused(sv, &nw, sizeof(nw), 0, "peer NIC");
	}
	close(sv[0]);
	{
		struct handoff_msg got;
		char err[8];
		uint32_t seq;

		assert_int_equal(handoff_recv(sv[1], &got, &seq, err, sizeof(err)), -EPIPE);
	}
	close(sv[1]);
}

/* ---- a node taking links: a kind that forwards nothing ---- */

static int relinked_calls, last_index;
static bool last_added;

static int on_link(void *ctx, uint32_t i)
{
	return 0;
}

static int ok(struct node *n)
{
	return 0;
}

static void relinked(struct node *n, int index, bool added)
{
	relinked_calls++;
	last_index = index;
	last_added = added;
}

static bool pass(void *ctx, bool all)
{
	return false;
}

/* The kind's NICs: names only; the listening socket closed as taken. */
static char nics[MV_NICS_MAX][MV_IFNAME_MAX];
static int nic_adds, nic_drops;

static int nic_add(struct node *n, const struct handoff_msg *m)
{
	unsigned k, free_k = MV_NICS_MAX;

	close(m->listen_fd);
	for (k = 0; k < MV_NICS_MAX; k++) {
		if (!strcmp(nics[k], m->nic.name))
			return -EEXIST;
		if (!nics[k][0] && free_k == MV_NICS_MAX)
			free_k = k;
	}
	if (free_k == MV_NICS_MAX)
		return -ENOSPC;
	strcpy(nics[free_k], m->nic.name);
	nic_adds++;
	return 0;
}

static void nic_drop(struct node *n, const char *name)
{
	unsigned k;

	for (k = 0; k < MV_NICS_MAX; k++)
		if (!strcmp(nics[k], name)) {
			nics[k][0] = 0;
			nic_drops++;
		}
}

static const uint64_t zero;
static const struct node_kind_ops kind = {
	.kind = NODE_VMM, .who = "VMM", .on_link = on_link, .loop = { .pass = pass, .moved = &zero },
	.relink_ok = ok, .relinked = relinked, .nic_add = nic_add, .nic_drop = nic_drop,
};

static struct node *node_new(void)
{
	static struct node n;
	static struct vm_stats st;

	memset(&n, 0, sizeof(n));
	memset(&st, 0, sizeof(st));
	n.ops = &kind;
	n.st = &st;
	n.qsize = 64;
	n.handoff_fd = -1;
	strcpy(n.name, "vm0");
	assert_int_equal(loop_init(&n.loop, n.st), 0);
	return &n;
}

static void node_free(struct node *n)
{
	unsigned i;

	for (i = 0; i < n->nlinks; i++)
		link_detach(&n->links[i]);
	close(n->loop.ep);
	close(n->loop.sig_fd);
}

/* One frame from the peer's side of r into n's link i, and taken off it. */
static void carries(struct node *n, unsigned i, struct link_res *r, const char *peer)
{
	static struct link p;
	struct vq_chain c;
	uint8_t *slot;

	memset(&p, 0, sizeof(p));
	assert_int_equal(link_attach(&p, dup(r->memfd), 1 - n->links[i].side, 64, dup(r->kick[n->links[i].side]),
				     dup(r->kick[1 - n->links[i].side]), "vm0"), 0);
	slot = link_tx_slot(&p, 60);
	assert_non_null(slot);
	memset(slot + LINK_META_LEN, 0xab, 60);
	link_tx_commit(&p, 60);
	link_tx_flush(&p);
	assert_string_equal(n->links[i].peer, peer);
	assert_ptr_equal(n->links[i].rxq.mem, &n->links[i].rx_mem);
	assert_int_equal(vq_pop(&n->links[i].rxq, &c), 1);
	link_detach(&p);
}

static void test_node_relink(void **state)
{
	struct node *n = node_new();
	struct link_res r[3];
	struct handoff_msg m;
	static const char *const peers[3] = { "vm1", "vm2", "vm3" };
	unsigned k;
	int before = open_fds(), sv[2];

	for (k = 0; k < 3; k++) {
		assert_int_equal(link_create(&r[k], 64, "vm0", peers[k]), 0);
		m = add_msg(peers[k], k, &r[k], 0);
		m.link.memfd = dup(r[k].memfd);
		m.link.rx_kick = dup(m.link.rx_kick);
		m.link.tx_kick = dup(m.link.tx_kick);
		assert_int_equal(node_relink(n, &m), 0);
		assert_int_equal(last_index, (int)k);
		assert_true(last_added);
	}
	assert_int_equal(n->nlinks, 3);
	assert_int_equal(n->st->nlinks, 3);
	assert_string_equal(n->st->link[2].peer, "vm3");
	n->st->link[2].tx_frames = 99;

	/* An index it does not have, and a peer it links to already: refused, fds closed. */
	m = add_msg("vm4", 5, &r[0], 0);
	m.link.memfd = dup(r[0].memfd);
	m.link.rx_kick = dup(m.link.rx_kick);
	m.link.tx_kick = dup(m.link.tx_kick);
	assert_int_equal(node_relink(n, &m), -ERANGE);
	m = add_msg("vm2", 3, &r[0], 0);
	m.link.memfd = dup(r[0].memfd);
	m.link.rx_kick = dup(m.link.rx_kick);
	m.link.tx_kick = dup(m.link.tx_kick);
	assert_int_equal(node_relink(n, &m), -EEXIST);
	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_DROP;
	m.link.memfd = m.link.rx_kick = m.link.tx_kick = -1;
	m.index = 3;
	strcpy(m.link.peer, "vm3");
	assert_int_equal(node_relink(n, &m), -ERANGE);
	m.index = 0;
	assert_int_equal(node_relink(n, &m), -ENOENT);	/* link 0 is vm1's */
	assert_int_equal(n->nlinks, 3);

	/* The middle one goes: vm3's link moves down with its counters, and carries frames. */
	m.index = 1;
	strcpy(m.link.peer, "vm2");
	assert_int_equal(node_relink(n, &m), 0);
	assert_int_equal(last_index, 1);
	assert_false(last_added);
	assert_int_equal(n->nlinks, 2);
	assert_int_equal(n->st->nlinks, 2);
	assert_string_equal(n->st->link[1].peer, "vm3");
	assert_int_equal(n->st->link[1].tx_frames, 99);
	assert_ptr_equal(n->links[1].st, &n->st->link[1]);
	assert_string_equal(n->st->link[2].peer, "");
	carries(n, 1, &r[2], "vm3");
	carries(n, 0, &r[0], "vm1");

	/* Over the channel: a refusal counted, answered. */
	pair(sv);
	n->handoff_fd = sv[1];
	m = add_msg("vm1", 2, &r[0], 0);
	m.seq = 11;
	assert_int_equal(handoff_send(sv[0], &m), 0);
	raw(sv[0], "junk", 4, 2);
	assert_int_equal(node_on_handoff(n, 0), 0);
	assert_int_equal(n->st->handoff_refused, 2);
	{
		int status;

		assert_int_equal(handoff_wait_reply(sv[0], 11, 1000, &status), 0);
		assert_int_equal(status, -EEXIST);
	}
	/* vm2 back in the middle: vm3 moves up with its counters. */
	m = add_msg("vm2", 1, &r[1], 0);
	m.seq = 12;
	assert_int_equal(handoff_send(sv[0], &m), 0);
	assert_int_equal(node_on_handoff(n, 0), 0);
	assert_int_equal(n->nlinks, 3);
	assert_int_equal(n->st->handoff_refused, 2);
	assert_int_equal(last_index, 1);
	assert_true(last_added);
	assert_string_equal(n->st->link[2].peer, "vm3");
	assert_int_equal(n->st->link[2].tx_frames, 99);
	assert_string_equal(n->st->link[1].peer, "vm2");
	assert_int_equal(n->st->link[1].tx_frames, 0);
	carries(n, 1, &r[1], "vm2");
	carries(n, 2, &r[2], "vm3");
	carries(n, 0, &r[0], "vm1");
	close(sv[0]);
	assert_int_equal(node_on_handoff(n, 0), 0);	/* the supervisor's end closed */
	assert_int_equal(n->handoff_fd, -1);

	node_free(n);
	for (k = 0; k < 3; k++)
		link_res_close(&r[k]);
	assert_int_equal(open_fds(), before - 2);	/* the loop's two, closed by node_free */
	assert_true(relinked_calls >= 5);
}

/* m with fresh fds of its own (the node takes them). */
static struct handoff_msg own(struct handoff_msg m)
{
	m.link.memfd = dup(m.link.memfd);
	m.link.rx_kick = dup(m.link.rx_kick);
	m.link.tx_kick = dup(m.link.tx_kick);
	return m;
}

static void test_node_nics(void **state)
{
	struct node *n = node_new();
	struct link_res r[3];
	struct handoff_msg m;
	int before = open_fds();

	assert_int_equal(link_create(&r[0], 64, "vm0", "vm1"), 0);
	assert_int_equal(link_create(&r[1], 64, "vm0", "vm3"), 0);
	assert_int_equal(link_create(&r[2], 64, "vm0", "vm3"), 0);
	m = own(add_msg("vm1", 0, &r[0], 0));
	assert_int_equal(node_relink(n, &m), 0);

	/* eth1 to vm3, after the segment's link; then eth2 to vm3 too (a second wire to one peer). */
	m = own(nic_msg("eth1", 1, &r[1], 0));
	assert_int_equal(node_relink(n, &m), 0);
	assert_int_equal(nic_adds, 1);
	assert_int_equal(n->nlinks, 2);
	assert_string_equal(n->st->link[1].peer, "vm3");
	assert_string_equal(n->st->link[1].nic, "eth1");
	assert_string_equal(n->st->link[1].peer_nic, "eth2");
	assert_string_equal(n->st->link[0].nic, "");
	m = own(nic_msg("eth2", 2, &r[2], 0));
	assert_int_equal(node_relink(n, &m), 0);
	assert_int_equal(n->nlinks, 3);
	carries(n, 1, &r[1], "vm3");
	carries(n, 2, &r[2], "vm3");

	/* A NIC of a name it has: refused, every fd closed, no link. */
	m = own(nic_msg("eth1", 3, &r[1], 0));
	assert_int_equal(node_relink(n, &m), -EEXIST);
	/* An index beyond the links: refused before the kind sees it. */
	m = own(nic_msg("eth3", 9, &r[1], 0));
	assert_int_equal(node_relink(n, &m), -ERANGE);
	assert_int_equal(nic_adds, 2);
	assert_int_equal(n->nlinks, 3);

	/* Drops: a segment drop of a wire's link, a NIC drop naming another
	 * NIC or the segment's link: refused; the right one: NIC, then link. */
	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_DROP;
	m.link.memfd = m.link.rx_kick = m.link.tx_kick = m.listen_fd = -1;
	m.index = 1;
	strcpy(m.link.peer, "vm3");
	assert_int_equal(node_relink(n, &m), -ENOENT);
	m.op = HANDOFF_DROP_NIC;
	strcpy(m.nic.name, "eth2");
	assert_int_equal(node_relink(n, &m), -ENOENT);
	m.index = 0;
	strcpy(m.link.peer, "vm1");
	assert_int_equal(node_relink(n, &m), -ENOENT);
	m.index = 3;
	assert_int_equal(node_relink(n, &m), -ERANGE);
	assert_int_equal(nic_drops, 0);
	m.index = 1;
	strcpy(m.link.peer, "vm3");
	strcpy(m.nic.name, "eth1");
	assert_int_equal(node_relink(n, &m), 0);
	assert_int_equal(nic_drops, 1);
	assert_int_equal(n->nlinks, 2);
	assert_string_equal(n->st->link[1].nic, "eth2");	/* eth2's link moved down, named, carrying */
	assert_string_equal(n->st->link[2].nic, "");
	carries(n, 1, &r[2], "vm3");
	carries(n, 0, &r[0], "vm1");

	/* A kind without NICs refuses NIC operations, fds closed. */
	{
		struct node_kind_ops bare = kind;

		bare.nic_add = NULL;
		bare.nic_drop = NULL;
		n->ops = &bare;
		m = own(nic_msg("eth3", 2, &r[1], 0));
		assert_int_equal(node_relink(n, &m), -EOPNOTSUPP);
		n->ops = &kind;
	}
	assert_int_equal(nic_adds, 2);
	node_free(n);
	for (unsigned k = 0; k < 3; k++)
		link_res_close(&r[k]);
	assert_int_equal(open_fds(), before - 2);	/* the loop's two, closed by node_free */
}

/* The interface name rule the config, a node's command line and a
 * handoff share: a fixed field is read no further than its size. */
static void test_ifname(void **state)
{
	static const char field[4] = { 'e', 't', 'h', '1' };	/* no NUL within it */

	(void)state;
	assert_true(ifname_valid("eth1", MV_IFNAME_MAX));
	assert_true(ifname_valid("a", MV_IFNAME_MAX));
	assert_true(ifname_valid("wan_0-x", MV_IFNAME_MAX));
	assert_true(ifname_valid("abcdefghijklmno", MV_IFNAME_MAX));	/* 15 */
	assert_false(ifname_valid("abcdefghijklmnop", MV_IFNAME_MAX));	/* 16 */
	assert_false(ifname_valid("", MV_IFNAME_MAX));
	assert_false(ifname_valid("lo", MV_IFNAME_MAX));
	assert_false(ifname_valid("Eth1", MV_IFNAME_MAX));
	assert_false(ifname_valid("1eth", MV_IFNAME_MAX));
	assert_false(ifname_valid("eth.1", MV_IFNAME_MAX));
	assert_false(ifname_valid("eth/1", MV_IFNAME_MAX));
	assert_false(ifname_valid("eth:1", MV_IFNAME_MAX));
	assert_false(ifname_valid(field, sizeof(field)));
	assert_true(ifname_valid("eth", sizeof(field)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_node_relink),
		cmocka_unit_test(test_node_nics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
