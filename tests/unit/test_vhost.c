/* vhost-user message handling against a scripted frontend on a
 * socketpair: the happy path QEMU takes, and hostile messages. Every
 * refusal must end the session cleanly and leak no fd and no mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vhost_user.h"
#include "../scm.h"

#define UVA 0x7f0000000000ULL
#define MEM (1 << 20)

static struct vu_dev d;
static int fe = -1;		/* the frontend's end */
static int memfd = -1;

struct region {
	uint64_t gpa, size, uva, off;
};

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void send_msg(uint32_t req, uint32_t flags, const void *p, uint32_t size, const int *fds, int nfds)
{
	uint8_t buf[VU_HDR_SIZE + 1024];
	uint32_t hdr[3] = { req, flags, size };

	memcpy(buf, hdr, sizeof(hdr));
	if (size)
		memcpy(buf + VU_HDR_SIZE, p, size);
	assert_int_equal(send_fds(fe, buf, VU_HDR_SIZE + size, fds, nfds, 0), (ssize_t)(VU_HDR_SIZE + size));
}

static void send_u64(uint32_t req, uint64_t v, const int *fds, int nfds)
{
	send_msg(req, VU_FLAG_VERSION, &v, 8, fds, nfds);
}

static void send_state(uint32_t req, uint32_t index, uint32_t num)
{
	uint32_t s[2] = { index, num };

	send_msg(req, VU_FLAG_VERSION, s, sizeof(s), NULL, 0);
}

static uint64_t reply_u64(uint32_t req)
{
	uint32_t hdr[3];
	uint64_t v = 0;

	assert_int_equal(recv(fe, hdr, sizeof(hdr), MSG_DONTWAIT), sizeof(hdr));
	assert_int_equal(hdr[0], req);
	assert_int_equal(hdr[1], VU_FLAG_VERSION | VU_FLAG_REPLY);
	assert_int_equal(hdr[2], 8);
	assert_int_equal(recv(fe, &v, 8, MSG_DONTWAIT), 8);
	return v;
}

static void mem_table(const struct region *r, uint32_t n, const int *fds, int nfds)
{
	uint8_t buf[8 + 16 * sizeof(struct region)] = { 0 };

	memcpy(buf, &n, 4);
	if (n)
		memcpy(buf + 8, r, n * sizeof(*r));
	send_msg(VU_SET_MEM_TABLE, VU_FLAG_VERSION, buf, 8 + n * sizeof(*r), fds, nfds);
}

static void one_region(void)
{
	struct region r = { 0, MEM, UVA, 0 };

	mem_table(&r, 1, &memfd, 1);
}

static int setup(void **state)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vu_init(&d);
	vu_attach(&d, sv[0]);
	fe = sv[1];
	memfd = memfd_create("guest", MFD_CLOEXEC);
	assert_int_equal(ftruncate(memfd, MEM), 0);
	*state = (void *)(intptr_t)count_fds();
	return 0;
}

static int teardown(void **state)
{
	vu_reset(&d);
	close(fe);
	close(memfd);
	return 0;
}

/* The session must have ended on the last message. */
/* The session is ended, for the reason given (a part of the message):
 * a refusal for some other reason would hide the check under test. */
static void expect_refused(const char *why)
{
	assert_int_equal(vu_receive(&d), -1);
	if (!strstr(d.err, why))
		fail_msg("refused for \"%s\", not for \"%s\"", d.err, why);
}

static void test_queries(void **state)
{
	send_msg(VU_GET_FEATURES, VU_FLAG_VERSION, NULL, 0, NULL, 0);
	send_msg(VU_GET_PROTOCOL_FEATURES, VU_FLAG_VERSION, NULL, 0, NULL, 0);
	send_msg(VU_GET_QUEUE_NUM, VU_FLAG_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(reply_u64(VU_GET_FEATURES), VU_FEATURES);
	assert_int_equal(reply_u64(VU_GET_PROTOCOL_FEATURES), VU_PROTOCOL_FEATURES);
	assert_int_equal(reply_u64(VU_GET_QUEUE_NUM), 1);
}

/* What QEMU does to start ring i: returns with the ring set up. */
static void start_ring(int i, int kick, int call)
{
	uint64_t a[5] = { 0 };
	uint32_t idx = i;

	send_state(VU_SET_VRING_NUM, i, 256);
	send_state(VU_SET_VRING_BASE, i, 0);
	memcpy(a, &idx, 4);
	a[1] = UVA + i * 0x10000;		/* desc */
	a[2] = UVA + i * 0x10000 + 0x3000;	/* used */
	a[3] = UVA + i * 0x10000 + 0x2000;	/* avail */
	send_msg(VU_SET_VRING_ADDR, VU_FLAG_VERSION, a, 40, NULL, 0);
	send_u64(VU_SET_VRING_CALL, i, &call, 1);
	send_u64(VU_SET_VRING_KICK, i, &kick, 1);
}

static void test_happy_path(void **state)
{
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	uint32_t s[2] = { VU_TX, 0 }, hdr[3];

	send_msg(VU_SET_OWNER, VU_FLAG_VERSION, NULL, 0, NULL, 0);
	send_u64(VU_SET_FEATURES, VU_FEATURES, NULL, 0);
	send_u64(VU_SET_PROTOCOL_FEATURES, 1ULL << VU_PROTOCOL_F_REPLY_ACK, NULL, 0);
	one_region();
	start_ring(VU_TX, kick, call);
	assert_int_equal(vu_receive(&d), 0);
	assert_non_null(d.ring[VU_TX].vq.desc);
	assert_true(d.ring[VU_TX].vq.event_idx);
	/* With protocol features, a ring waits for SET_VRING_ENABLE. */
	assert_false(vu_ring_running(&d, VU_TX));
	s[1] = 1;
	send_msg(VU_SET_VRING_ENABLE, VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, s, 8, NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(reply_u64(VU_SET_VRING_ENABLE), 0);	/* REPLY_ACK: success */
	assert_true(vu_ring_running(&d, VU_TX));
	assert_false(vu_ring_running(&d, VU_RX));

	send_state(VU_GET_VRING_BASE, VU_TX, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(recv(fe, hdr, sizeof(hdr), 0), sizeof(hdr));
	assert_int_equal(recv(fe, s, sizeof(s), 0), sizeof(s));
	assert_int_equal(s[0], VU_TX);
	assert_int_equal(s[1], 0);
	assert_false(vu_ring_running(&d, VU_TX));
	close(kick);
	close(call);
}

static void test_reply_ack_failure(void **state)
{
	uint32_t s[2] = { 0, 3 };

	send_u64(VU_SET_PROTOCOL_FEATURES, 1ULL << VU_PROTOCOL_F_REPLY_ACK, NULL, 0);
	send_msg(VU_SET_VRING_NUM, VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, s, 8, NULL, 0);
	expect_refused("SET_VRING_NUM: bad size 3");
	assert_int_not_equal(reply_u64(VU_SET_VRING_NUM), 0);
}

static void test_split_message(void **state)
{
	uint32_t hdr[3] = { VU_GET_QUEUE_NUM, VU_FLAG_VERSION, 0 };
	uint64_t v = 1ULL << VIRTIO_F_VERSION_1;
	uint32_t h2[3] = { VU_SET_FEATURES, VU_FLAG_VERSION, 8 };

	assert_int_equal(write(fe, h2, 6), 6);	/* half a header */
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(write(fe, (char *)h2 + 6, 6), 6);
	assert_int_equal(vu_receive(&d), 0);	/* header, no payload yet */
	assert_int_equal(write(fe, &v, 8), 8);
	assert_int_equal(write(fe, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(reply_u64(VU_GET_QUEUE_NUM), 1);
}

static void test_peer_close(void **state)
{
	close(fe);
	fe = -1;
	assert_int_equal(vu_receive(&d), 1);
	fe = open("/dev/null", O_RDONLY);
}

static void test_unoffered_feature(void **state)
{
	send_u64(VU_SET_FEATURES, 1ULL << 40, NULL, 0);
	expect_refused("SET_FEATURES: 0x10000000000 not offered");
}

/* Offloads are offered only where the VMM says so (offloads = no: not),
 * and what was offered may be acked. */
static void test_offloads_offered(void **state)
{
	uint64_t all = VU_FEATURES | VU_NET_FEATURES | VU_OFFLOAD_FEATURES;

	d.offered = all;
	send_msg(VU_GET_FEATURES, VU_FLAG_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(reply_u64(VU_GET_FEATURES), all);
	send_u64(VU_SET_FEATURES, all & ~(1ULL << VHOST_USER_F_PROTOCOL_FEATURES), NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(d.features, all & ~(1ULL << VHOST_USER_F_PROTOCOL_FEATURES));
	d.offered = VU_FEATURES | VU_NET_FEATURES;
	send_u64(VU_SET_FEATURES, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_HOST_TSO4), NULL, 0);
	expect_refused("SET_FEATURES: 0x800 not offered");
}

/* A legacy driver (no VERSION_1) would use a 10-byte header. */
static void test_legacy_driver_refused(void **state)
{
	send_u64(VU_SET_FEATURES, 1ULL << VIRTIO_RING_F_EVENT_IDX, NULL, 0);
	expect_refused("without VIRTIO_F_VERSION_1");
}

static void test_bad_flags(void **state)
{
	send_msg(VU_GET_FEATURES, 0x2, NULL, 0, NULL, 0);
	expect_refused("bad flags 0x2");
}

static void test_oversized_payload(void **state)
{
	uint32_t hdr[3] = { VU_SET_FEATURES, VU_FLAG_VERSION, VU_MAX_PAYLOAD + 1 };

	assert_int_equal(write(fe, hdr, sizeof(hdr)), sizeof(hdr));
	expect_refused("payload of 513 bytes");
}

static void test_log_base(void **state)
{
	uint64_t log[2] = { UINT64_MAX, UINT64_MAX };	/* size + offset overflow */

	send_msg(VU_SET_LOG_BASE, VU_FLAG_VERSION, log, sizeof(log), &memfd, 1);
	expect_refused("unexpected fds");
}

/* Requests outside the table are refused as never offered, whatever
 * their number; fd messages check their ring byte and fd flag. */
static void reconnect(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vu_attach(&d, sv[0]);	/* ends (and closes) the old session */
	close(fe);
	fe = sv[1];
}

static void test_unserved_requests(void **state)
{
	static const uint32_t reqs[] = { 0, VU_SET_LOG_BASE, VU_SET_LOG_FD, VU_SEND_RARP, 40, UINT32_MAX };
	char want[64];
	uint64_t v;
	unsigned i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		reconnect();
		v = 0;
		send_msg(reqs[i], VU_FLAG_VERSION, &v, sizeof(v), NULL, 0);
		/* Named from the one list where there is a name. */
		if (vu_request_name(reqs[i]))
			snprintf(want, sizeof(want), "%s: not supported (never offered)", vu_request_name(reqs[i]));
		else
			snprintf(want, sizeof(want), "request %u: not supported (never offered)", reqs[i]);
		expect_refused(want);
	}
	reconnect();
	v = VU_RX | 0x100;	/* "no fd" ... */
	send_msg(VU_SET_VRING_CALL, VU_FLAG_VERSION, &v, sizeof(v), &memfd, 1);	/* ... and one */
	expect_refused("SET_VRING_CALL: fd flag and 1 fds disagree");
	reconnect();
	v = VU_RX | 0x200;
	send_msg(VU_SET_VRING_ERR, VU_FLAG_VERSION, &v, sizeof(v), NULL, 0);
	expect_refused("SET_VRING_ERR: bad ring 0");
	assert_string_equal(vu_request_name(VU_SET_LOG_FD), "SET_LOG_FD");
	assert_null(vu_request_name(0));
	assert_null(vu_request_name(21));
}

/* NET_SET_MTU: what QEMU put in config space must be the VM's mtu; a
 * refusal is acknowledged as a failure first, so QEMU says why. */
static void test_net_mtu(void **state)
{
	uint64_t v = 1500;

	d.mtu = 1500;
	send_u64(VU_SET_PROTOCOL_FEATURES, (1ULL << VU_PROTOCOL_F_REPLY_ACK) | (1ULL << VU_PROTOCOL_F_NET_MTU), NULL, 0);
	send_msg(VU_NET_SET_MTU, VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, &v, sizeof(v), NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(reply_u64(VU_NET_SET_MTU), 0);
	v = 9000;
	send_msg(VU_NET_SET_MTU, VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, &v, sizeof(v), NULL, 0);
	expect_refused("NET_SET_MTU: the frontend set MTU 9000, this VM's mtu is 1500");
	assert_int_not_equal(reply_u64(VU_NET_SET_MTU), 0);
	d.mtu = 0;
}

static void test_mem_overlap(void **state)
{
	struct region r[2] = { { 0, MEM / 2, UVA, 0 }, { MEM / 4, MEM / 2, UVA + MEM, MEM / 2 } };
	int fds[2] = { memfd, memfd };

	mem_table(r, 2, fds, 2);
	expect_refused("SET_MEM_TABLE: region 1 is empty, huge, overlapping");
}

static void test_mem_zero_huge_beyond(void **state)
{
	struct region zero = { 0, 0, UVA, 0 }, huge = { 0, 1ULL << 50, UVA, 0 };
	struct region beyond = { 0, MEM, UVA, 4096 }, wrap = { 0, MEM, UVA, UINT64_MAX - 10 };
	const struct region *bad[] = { &zero, &huge, &beyond, &wrap };
	unsigned i;

	for (i = 0; i < 4; i++) {
		int sv[2];

		mem_table(bad[i], 1, &memfd, 1);
		expect_refused("SET_MEM_TABLE: region 0 is empty, huge, overlapping");
		vu_reset(&d);
		close(fe);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		vu_attach(&d, sv[0]);
		fe = sv[1];
	}
}

static void test_mem_fd_count(void **state)
{
	struct region r[2] = { { 0, MEM / 2, UVA, 0 }, { MEM, MEM / 2, UVA + MEM, 0 } };
	int fds[3] = { memfd, memfd, memfd };

	mem_table(r, 2, fds, 3);	/* more fds than regions */
	expect_refused("3 fds for 2 regions");
}

static void test_mem_fewer_fds(void **state)
{
	struct region r[2] = { { 0, MEM / 2, UVA, 0 }, { MEM, MEM / 2, UVA + MEM, 0 } };

	mem_table(r, 2, &memfd, 1);
	expect_refused("1 fds for 2 regions");
}

static void test_mem_no_regions(void **state)
{
	mem_table(NULL, 0, NULL, 0);
	expect_refused("bad region count 0");
}

static void test_mem_nine_regions(void **state)
{
	struct region r[9];
	int fds[9], i;

	for (i = 0; i < 9; i++) {
		r[i] = (struct region){ (uint64_t)i << 20, 4096, UVA + ((uint64_t)i << 20), 0 };
		fds[i] = memfd;
	}
	mem_table(r, 9, fds, 8);	/* at most 8 fds fit a message */
	expect_refused("bad region count 9");
}

static void test_too_many_fds(void **state)
{
	int fds[9], i, base = (int)(intptr_t)*state;

	for (i = 0; i < 9; i++)
		fds[i] = memfd;
	send_u64(VU_SET_VRING_KICK, 0, fds, 9);
	expect_refused("more than 8 fds");
	vu_reset(&d);
	assert_int_equal(count_fds(), base - 1);	/* the session's socket is gone too */
}

static void test_vring_num_bad(void **state)
{
	send_state(VU_SET_VRING_NUM, 0, 3);
	expect_refused("SET_VRING_NUM: bad size 3");
}

static void test_vring_index_bad(void **state)
{
	send_state(VU_SET_VRING_NUM, 2, 256);
	expect_refused("SET_VRING_NUM: bad ring 2");
}

static void test_ring_outside_memory(void **state)
{
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	uint64_t a[5] = { 0, UVA + MEM - 16, UVA, UVA, 0 };

	one_region();
	send_state(VU_SET_VRING_NUM, 0, 256);
	send_msg(VU_SET_VRING_ADDR, VU_FLAG_VERSION, a, 40, NULL, 0);
	send_u64(VU_SET_VRING_KICK, 0, &kick, 1);
	expect_refused("addresses outside guest memory");
	close(kick);
	close(call);
}

/* No fd and no mapping may leak however often the frontend repeats. */
static void test_repeats_do_not_leak(void **state)
{
	int base = (int)(intptr_t)*state, maps, i;

	one_region();
	assert_int_equal(vu_receive(&d), 0);
	maps = count_maps();
	for (i = 0; i < 50; i++) {
		int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);

		one_region();
		send_state(VU_SET_VRING_NUM, 0, 256);
		send_u64(VU_SET_VRING_CALL, 0, &call, 1);
		send_u64(VU_SET_VRING_KICK, 1, &kick, 1);
		close(kick);
		close(call);
		assert_int_equal(vu_receive(&d), 0);
		send_state(VU_GET_VRING_BASE, 1, 0);	/* stop ring 1 so NUM may change */
		assert_int_equal(vu_receive(&d), 0);
		recv(fe, (char[20]){ 0 }, 20, MSG_DONTWAIT);
	}
	assert_int_equal(count_maps(), maps);
	assert_int_equal(count_fds(), base + 1);	/* ring 0 keeps one call fd; ring 1 none */
	vu_reset(&d);
	assert_int_equal(count_fds(), base - 1);
}

/* Kick fds the backend let go of, in order (the event loop's view). */
static int retired[64], nretired;

static void record_retire(void *ctx, int fd)
{
	(void)ctx;
	if (nretired < 64)
		retired[nretired++] = fd;
}

static void receive_reply(void)
{
	char buf[VU_HDR_SIZE + 8];

	assert_int_equal(recv(fe, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t)sizeof(buf));
}

/* A kick fd is handed to the event loop's retire hook before every close:
 * a repeated SET_VRING_KICK, GET_VRING_BASE, and the end of the session. */
static void test_kick_retired_before_close(void **state)
{
	int call = eventfd(0, EFD_CLOEXEC), k1 = eventfd(0, EFD_CLOEXEC), k2 = eventfd(0, EFD_CLOEXEC);
	int k3 = eventfd(0, EFD_CLOEXEC), first, second, third;

	d.kick_retire = record_retire;
	nretired = 0;
	one_region();
	start_ring(VU_TX, k1, call);
	assert_int_equal(vu_receive(&d), 0);
	first = d.ring[VU_TX].kick_fd;
	send_u64(VU_SET_VRING_KICK, VU_TX, &k2, 1);
	assert_int_equal(vu_receive(&d), 0);
	second = d.ring[VU_TX].kick_fd;
	assert_int_equal(nretired, 1);
	assert_int_equal(retired[0], first);
	send_state(VU_GET_VRING_BASE, VU_TX, 0);
	assert_int_equal(vu_receive(&d), 0);
	receive_reply();
	assert_int_equal(nretired, 2);
	assert_int_equal(retired[1], second);
	assert_int_equal(d.ring[VU_TX].kick_fd, -1);
	send_u64(VU_SET_VRING_KICK, VU_TX, &k3, 1);
	assert_int_equal(vu_receive(&d), 0);
	third = d.ring[VU_TX].kick_fd;
	vu_reset(&d);
	assert_int_equal(nretired, 3);
	assert_int_equal(retired[2], third);
	close(k1);
	close(k2);
	close(k3);
	close(call);
}

/* A repeated kick on a running ring swaps the fd and nothing else: the
 * ring must not rewind to SET_VRING_BASE and replay what it already did. */
static void test_repeated_kick_keeps_position(void **state)
{
	int call = eventfd(0, EFD_CLOEXEC), k1 = eventfd(0, EFD_CLOEXEC), k2 = eventfd(0, EFD_CLOEXEC);

	one_region();
	start_ring(VU_TX, k1, call);
	assert_int_equal(vu_receive(&d), 0);
	vq_set_base(&d.ring[VU_TX].vq, 37);	/* as if 37 frames went */
	send_u64(VU_SET_VRING_KICK, VU_TX, &k2, 1);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(vq_base(&d.ring[VU_TX].vq), 37);
	assert_int_equal(vq_used_count(&d.ring[VU_TX].vq), 37);
	close(k1);
	close(k2);
	close(call);
}

/* Kick before SET_VRING_ADDR (allowed order): the ring still starts at
 * SET_VRING_BASE; and a stop then restart without a new base resumes
 * where GET_VRING_BASE said it stopped. */
static void test_base_with_kick_first_and_restart(void **state)
{
	int call = eventfd(0, EFD_CLOEXEC), k1 = eventfd(0, EFD_CLOEXEC), k2 = eventfd(0, EFD_CLOEXEC);
	uint64_t a[5] = { VU_RX, UVA, UVA + 0x3000, UVA + 0x2000, 0 };
	uint32_t hdr[3], s[2];

	one_region();
	send_state(VU_SET_VRING_NUM, VU_RX, 256);
	send_state(VU_SET_VRING_BASE, VU_RX, 7);
	send_u64(VU_SET_VRING_CALL, VU_RX, &call, 1);
	send_u64(VU_SET_VRING_KICK, VU_RX, &k1, 1);
	send_msg(VU_SET_VRING_ADDR, VU_FLAG_VERSION, a, 40, NULL, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(vq_base(&d.ring[VU_RX].vq), 7);
	assert_int_equal(vq_used_count(&d.ring[VU_RX].vq), 7);
	vq_set_base(&d.ring[VU_RX].vq, 9);
	send_state(VU_GET_VRING_BASE, VU_RX, 0);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(recv(fe, hdr, sizeof(hdr), 0), sizeof(hdr));
	assert_int_equal(recv(fe, s, sizeof(s), 0), sizeof(s));
	assert_int_equal(s[1], 9);
	send_u64(VU_SET_VRING_KICK, VU_RX, &k2, 1);
	assert_int_equal(vu_receive(&d), 0);
	assert_int_equal(vq_base(&d.ring[VU_RX].vq), 9);
	close(k1);
	close(k2);
	close(call);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_queries), T(test_happy_path), T(test_reply_ack_failure), T(test_split_message),
		T(test_peer_close), T(test_unserved_requests), T(test_net_mtu), T(test_unoffered_feature), T(test_offloads_offered), T(test_legacy_driver_refused), T(test_bad_flags), T(test_oversized_payload),
		T(test_log_base), T(test_mem_overlap), T(test_mem_zero_huge_beyond), T(test_mem_fd_count),
		T(test_mem_fewer_fds), T(test_mem_no_regions), T(test_mem_nine_regions), T(test_too_many_fds), T(test_vring_num_bad),
		T(test_vring_index_bad), T(test_ring_outside_memory), T(test_repeats_do_not_leak),
		T(test_kick_retired_before_close), T(test_repeated_kick_keeps_position),
		T(test_base_with_kick_first_and_restart),
	};

	return cmocka_run_group_tests_name("vhost-user", tests, NULL, NULL);
}
