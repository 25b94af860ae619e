/* A vhost-user frontend for tests, nobody's guest: it sets up a device on
 * a VMM socket with its own memfd as "guest memory", then behaves well or
 * not. Modes:
 *   send SOCK SRCMAC DSTMAC N   send N frames, exit 0
 *   loop SOCK SRCMAC DSTMAC N   send one frame, then a looping TX chain;
 *                               then expect N frames on RX within 60 s
 *   badmem SOCK                 SET_MEM_TABLE with overlapping regions:
 *                               expect the VMM to hang up, then reconnect
 *                               and complete a normal set-up
 * Exit 0 when the VMM behaved as it must. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "virtq/virtq.h"
#include "../scm.h"

#define MEM	(2 << 20)
#define QN	256
#define RING(i)	(0x10000 * (i))		/* ring i at this offset */
#define BUFS	0x40000			/* 2 KiB buffers from here */

static int sock, memfd, kick[2], call[2];
static uint8_t *mem;
static struct virtq q[2];
static uint16_t avail[2];

static int die(const char *m)
{
	fprintf(stderr, "hostile_frontend: %s\n", m);
	exit(1);
}

static int msg(uint32_t req, const void *p, uint32_t n, const int *fds, int nfds, void *reply, size_t rlen)
{
	uint8_t buf[512];
	uint32_t hdr[3] = { req, 1, n };

	memcpy(buf, hdr, 12);
	if (n)
		memcpy(buf + 12, p, n);
	if (send_fds(sock, buf, 12 + n, fds, nfds, MSG_NOSIGNAL) < 0)
		return -1;
	if (reply && (recv(sock, buf, 12, MSG_WAITALL) != 12 || recv(sock, reply, rlen, MSG_WAITALL) != (ssize_t)rlen))
		return -1;
	return 0;
}

static void u64(uint32_t req, uint64_t v, const int *fds, int nfds)
{
	if (msg(req, &v, 8, fds, nfds, NULL, 0) < 0)
		die("send failed");
}

static void connect_vmm(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot connect");
}

static void mem_table(int overlap)
{
	struct { uint32_t n, pad; uint64_t r[8]; } t = { overlap ? 2 : 1, 0,
		{ 0, MEM, (uint64_t)(uintptr_t)mem, 0, MEM / 4, MEM / 2, (uint64_t)(uintptr_t)mem + MEM, 0 } };
	int fds[2] = { memfd, memfd };

	if (msg(5, &t, 8 + 32 * t.n, fds, t.n, NULL, 0) < 0)
		die("SET_MEM_TABLE send failed");
}

static void setup(const char *path)
{
	uint64_t feat;
	int i;

	connect_vmm(path);
	if (msg(1, NULL, 0, NULL, 0, &feat, 8) < 0)
		die("GET_FEATURES");
	u64(2, feat, NULL, 0);
	u64(3, 0, NULL, 0);
	mem_table(0);
	for (i = 0; i < 2; i++) {
		uint32_t st[2] = { i, QN };
		struct { uint32_t i, f; uint64_t d, u, a, l; } ad;
		size_t ao, uo;

		vq_ring_size(QN, &ao, &uo);
		ad = (typeof(ad)){ i, 0, (uintptr_t)mem + RING(i), (uintptr_t)mem + RING(i) + uo,
				   (uintptr_t)mem + RING(i) + ao, 0 };
		vq_init(&q[i], QN, mem + RING(i), mem + RING(i) + ao, mem + RING(i) + uo, NULL, true, false);
		msg(8, st, 8, NULL, 0, NULL, 0);
		st[1] = 0;
		msg(10, st, 8, NULL, 0, NULL, 0);
		msg(9, &ad, sizeof(ad), NULL, 0, NULL, 0);
		kick[i] = eventfd(0, 0);
		call[i] = eventfd(0, EFD_NONBLOCK);
		u64(13, i, &call[i], 1);
		u64(12, i, &kick[i], 1);
		st[1] = 1;
		msg(18, st, 8, NULL, 0, NULL, 0);
	}
}

static void post(int ring, uint16_t id, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	q[ring].desc[id] = (struct vring_desc){ gpa, len, flags, next };
	q[ring].avail->ring[avail[ring] % QN] = id;
	avail[ring]++;
	__atomic_store_n(&q[ring].avail->idx, avail[ring], __ATOMIC_RELEASE);
	if (write(kick[ring], &(uint64_t){ 1 }, 8) != 8)
		die("kick");
}

static void parse_mac(const char *s, uint8_t *m)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		die("bad MAC");
}

static void send_frame(int n, const uint8_t *src, const uint8_t *dst)
{
	uint16_t id = n % 64;
	uint8_t *p = mem + BUFS + 0x20000 + id * 2048;

	memset(p, 0, 12 + 60);
	memcpy(p + 12, dst, 6);
	memcpy(p + 18, src, 6);
	post(1, id, BUFS + 0x20000 + id * 2048, 12 + 60, 0, 0);
}

static int rx_count(void)
{
	return __atomic_load_n(&q[0].used->idx, __ATOMIC_ACQUIRE);
}

int main(int argc, char **argv)
{
	uint8_t src[6], dst[6];
	int i, n;

	memfd = memfd_create("hostile", 0);
	if (memfd < 0 || ftruncate(memfd, MEM) < 0)
		die("memfd");
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (argc == 3 && !strcmp(argv[1], "badmem")) {
		char b;

		connect_vmm(argv[2]);
		mem_table(1);
		/* The VMM must hang up on us, and still serve the next frontend. */
		if (recv(sock, &b, 1, 0) != 0)
			die("VMM did not close the connection after a bad SET_MEM_TABLE");
		close(sock);
		setup(argv[2]);
		return 0;
	}
	if (argc != 6)
		die("usage: hostile_frontend send|loop SOCK SRCMAC DSTMAC N | badmem SOCK");
	parse_mac(argv[3], src);
	parse_mac(argv[4], dst);
	n = atoi(argv[5]);
	setup(argv[2]);
	for (i = 0; i < QN; i++)	/* RX buffers */
		post(0, i, BUFS + i * 2048 % 0x20000, 2048, VRING_DESC_F_WRITE, 0);
	if (!strcmp(argv[1], "send")) {
		for (i = 0; i < n; i++)
			send_frame(i, src, dst);
		sleep(1);	/* give the VMM time to take them before we hang up */
		return 0;
	}
	send_frame(0, src, dst);
	/* 200 -> 201 -> 200 -> ...: 201 is written before 200 is made available. */
	q[1].desc[201] = (struct vring_desc){ BUFS + 0x30000, 64, VRING_DESC_F_NEXT, 200 };
	post(1, 200, BUFS + 0x30000, 64, VRING_DESC_F_NEXT, 201);
	printf("loop posted\n");
	fflush(stdout);
	for (i = 0; i < 600 && rx_count() < n; i++)
		poll(NULL, 0, 100);
	printf("rx %d\n", rx_count());
	return rx_count() >= n ? 0 : 1;
}
