/* One frame at a time through a vhost-user backend: two frontends in this
 * process (A on SOCK_A, B on SOCK_B) bounce a 64-byte frame, A -> backend
 * -> B -> backend -> A, and the round-trip times are reported (median and
 * 99th percentile). Both frontends busy-poll their used rings, so what is
 * measured is the backend: its wake-ups, its copies, its doorbells. Works
 * against multivm's VMMs and DPDK's net_vhost alike (a QEMU-like set-up:
 * VERSION_1 only, no protocol features).
 *
 *   pingpong SOCK_A MAC_A SOCK_B MAC_B ROUNDS */
#include <errno.h>
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
#include "../tests/scm.h"

#define MEM	(1 << 20)
#define QN	64
#define RING(i)	(0x8000 * (i))	/* ring i at this offset */
#define BUFS	0x20000		/* 2 KiB buffers from here */
#define HDR	12		/* virtio_net_hdr_v1 */
#define FRAME	64

struct fe {
	int sock, memfd, kick[2], call[2];
	uint8_t *mem, mac[6];
	struct virtq q[2];	/* 0: RX, 1: TX */
	uint16_t avail[2], used_seen[2];
};

static void die(const char *m)
{
	fprintf(stderr, "pingpong: %s%s%s\n", m, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static void msg(struct fe *f, uint32_t req, const void *p, uint32_t n, const int *fds, int nfds,
		void *reply, size_t rlen)
{
	if (vu_request(f->sock, req, p, n, fds, nfds, reply, rlen) < 0)
		die("vhost-user request");
}

static void post(struct fe *f, int r, uint16_t id, uint64_t gpa, uint32_t len, uint16_t flags)
{
	f->q[r].desc[id] = (struct vring_desc){ gpa, len, flags, 0 };
	f->q[r].avail->ring[f->avail[r] % QN] = id;
	f->avail[r]++;
	__atomic_store_n(&f->q[r].avail->idx, f->avail[r], __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&f->q[r].used->flags, __ATOMIC_ACQUIRE) & VRING_USED_F_NO_NOTIFY) &&
	    write(f->kick[r], &(uint64_t){ 1 }, 8) != 8)
		die("kick");
}

static void setup(struct fe *f, const char *path, const char *mac)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct { uint32_t n, pad; uint64_t gpa, size, uva, off; } t;
	uint64_t feat;
	int i;

	if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &f->mac[0], &f->mac[1], &f->mac[2], &f->mac[3],
		   &f->mac[4], &f->mac[5]) != 6)
		die("bad MAC");
	f->memfd = memfd_create("pingpong", 0);
	if (f->memfd < 0 || ftruncate(f->memfd, MEM) < 0)
		die("memfd");
	f->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED)
		die("mmap");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	msg(f, 3, NULL, 0, NULL, 0, NULL, 0);				/* SET_OWNER */
	msg(f, 1, NULL, 0, NULL, 0, &feat, 8);				/* GET_FEATURES */
	if (!(feat & (1ULL << 32)))
		die("backend without VIRTIO_F_VERSION_1");
	feat = 1ULL << 32;
	msg(f, 2, &feat, 8, NULL, 0, NULL, 0);				/* SET_FEATURES */
	t = (typeof(t)){ 1, 0, 0, MEM, (uintptr_t)f->mem, 0 };
	msg(f, 5, &t, sizeof(t), &f->memfd, 1, NULL, 0);		/* SET_MEM_TABLE */
	for (i = 0; i < 2; i++) {
		uint32_t st[2] = { i, QN };
		struct { uint32_t i, fl; uint64_t d, u, a, l; } ad;
		size_t ao, uo;

		vq_ring_size(QN, &ao, &uo);
		vq_init(&f->q[i], QN, f->mem + RING(i), f->mem + RING(i) + ao, f->mem + RING(i) + uo, NULL,
			false, false);
		ad = (typeof(ad)){ i, 0, (uintptr_t)f->mem + RING(i), (uintptr_t)f->mem + RING(i) + uo,
				   (uintptr_t)f->mem + RING(i) + ao, 0 };
		msg(f, 8, st, 8, NULL, 0, NULL, 0);			/* SET_VRING_NUM */
		st[1] = 0;
		msg(f, 10, st, 8, NULL, 0, NULL, 0);			/* SET_VRING_BASE */
		msg(f, 9, &ad, sizeof(ad), NULL, 0, NULL, 0);		/* SET_VRING_ADDR */
		f->kick[i] = eventfd(0, EFD_NONBLOCK);
		f->call[i] = eventfd(0, EFD_NONBLOCK);
		feat = i;
		msg(f, 13, &feat, 8, &f->call[i], 1, NULL, 0);		/* SET_VRING_CALL */
		msg(f, 12, &feat, 8, &f->kick[i], 1, NULL, 0);		/* SET_VRING_KICK */
	}
	for (i = 0; i < QN; i++)	/* RX buffers */
		post(f, 0, i, BUFS + i * 2048, 2048, VRING_DESC_F_WRITE);
}

static void send_to(struct fe *f, const uint8_t dst[6], uint32_t seq)
{
	uint16_t id = f->avail[1] % QN;
	uint8_t *p = f->mem + BUFS + (QN + id) * 2048;

	/* Reclaim what the backend used: nothing to do but count. */
	f->used_seen[1] = __atomic_load_n(&f->q[1].used->idx, __ATOMIC_ACQUIRE);
	memset(p, 0, HDR + FRAME);
	memcpy(p + HDR, dst, 6);
	memcpy(p + HDR + 6, f->mac, 6);
	p[HDR + 12] = 0x88;	/* local experimental ethertype 0x88b5 */
	p[HDR + 13] = 0xb5;
	memcpy(p + HDR + 14, &seq, 4);
	post(f, 1, id, BUFS + (QN + id) * 2048, HDR + FRAME, 0);
}

/* Busy-polls f's RX ring for the frame with seq; gives the buffer back. */
static int wait_frame(struct fe *f, uint32_t seq, const struct timespec *deadline)
{
	for (;;) {
		uint16_t u = __atomic_load_n(&f->q[0].used->idx, __ATOMIC_ACQUIRE);

		while (f->used_seen[0] != u) {
			struct vring_used_elem e = f->q[0].used->ring[f->used_seen[0] % QN];
			uint32_t got;

			f->used_seen[0]++;
			if (e.id >= QN)
				die("backend used a bad id");
			memcpy(&got, f->mem + BUFS + e.id * 2048 + HDR + 14, 4);
			post(f, 0, e.id, BUFS + e.id * 2048, 2048, VRING_DESC_F_WRITE);
			if (got == seq)
				return 0;
		}
		{
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > deadline->tv_sec)
				return -1;
		}
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct fe a, b;
	struct timespec t0, t1, deadline;
	double *rtt;
	int n, i, m = 0, lost = 0;

	if (argc != 6 || (n = atoi(argv[5])) <= 0)
		errno = 0, die("usage: pingpong SOCK_A MAC_A SOCK_B MAC_B ROUNDS");
	setup(&a, argv[1], argv[2]);
	setup(&b, argv[3], argv[4]);
	rtt = calloc(n, sizeof(*rtt));
	if (!rtt)
		die("calloc");
	for (i = -100; i < n; i++) {	/* 100 warm-up rounds */
		uint32_t seq = (uint32_t)(i + 1000);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		deadline = t0;
		deadline.tv_sec += 2;
		send_to(&a, b.mac, seq);
		if (wait_frame(&b, seq, &deadline) < 0) {
			lost++;
			continue;
		}
		send_to(&b, a.mac, seq);
		if (wait_frame(&a, seq, &deadline) < 0) {
			lost++;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (i >= 0)
			rtt[m++] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
	}
	if (m < n - n / 10) {
		errno = 0;
		die("more than a tenth of the frames were lost");
	}
	qsort(rtt, m, sizeof(*rtt), cmp);
	printf("rtt_us median %.1f p99 %.1f rounds %d lost %d\n", rtt[m / 2], rtt[m * 99 / 100], m, lost);
	return 0;
}
