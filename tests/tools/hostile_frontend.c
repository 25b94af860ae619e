/* A vhost-user frontend for tests, nobody's guest: it sets up a device on
 * a VMM socket with its own memfd as "guest memory", then behaves well or
 * not. Modes:
 *   send SOCK SRCMAC DSTMAC N   send N frames, exit 0
 *   drip SOCK SRCMAC DSTMAC N   send N frames 1 ms apart, exit 0
 *   pair SOCKA SOCKB SRCMAC DSTMAC N
 *                               frontend of two VMMs at once: send N frames
 *                               on A, receive them on B, never more than
 *                               128 in flight (a link holds 256, so none
 *                               is dropped for room); exit 0 when all N
 *                               arrived within 60 s
 *   loop SOCK SRCMAC DSTMAC N   send one frame, then a looping TX chain;
 *                               then expect N frames on RX within 60 s
 *   fanout SRCMAC N SOCK0 SOCK1...
 *                               frontend of up to 64 VMMs: send N broadcast
 *                               frames on SOCK0 (never more than 32 in
 *                               flight: a link of 64 holds them), expect exactly N on every other
 *                               one within 60 s and no more in the second
 *                               after; print what each received
 *   hol SOCKA SOCKB SOCKC MACA MACB MACC SECONDS DRIPMS
 *                               frontend of three VMMs: for SECONDS, A sends
 *                               a frame to B and one to C about every ms
 *                               (a tick with no room in A's TX ring sends
 *                               nothing); C takes every frame; B takes them
 *                               as they come (DRIPMS 0) or posts one RX
 *                               buffer every DRIPMS ms (a dripping receiver);
 *                               print what was sent and received, exit 0
 *   gso SOCK SRCMAC DSTMAC SIZE send one TSO frame (TCP over IPv4, 1800
 *                               payload bytes) whose header says gso_size
 *                               SIZE, well formed otherwise; exit 0
 *   badmem SOCK                 SET_MEM_TABLE with overlapping regions:
 *                               expect the VMM to hang up, then reconnect
 *                               and complete a normal set-up
 * Frames sent are 60 bytes: the addresses, ethertype 0x88b5 (local
 * experimental), the frame's number (32 bits, big-endian), zeros.
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
#define TXBUFS	64			/* TX buffers (ids 0..63) at BUFS + 0x20000 */

/* One frontend: a connection to one VMM and its "guest memory". */
struct fe {
	int sock, memfd, kick[2], call[2];
	uint8_t *mem;
	struct virtq q[2];
	uint16_t avail[2];
	uint16_t rx_seen;	/* RX used entries consumed */
};

static int die(const char *m)
{
	fprintf(stderr, "hostile_frontend: %s\n", m);
	exit(1);
}

static int msg(struct fe *f, uint32_t req, const void *p, uint32_t n, const int *fds, int nfds, void *reply,
	       size_t rlen)
{
	return vu_request(f->sock, req, p, n, fds, nfds, reply, rlen);
}

static void u64(struct fe *f, uint32_t req, uint64_t v, const int *fds, int nfds)
{
	if (msg(f, req, &v, 8, fds, nfds, NULL, 0) < 0)
		die("send failed");
}

static void fe_new(struct fe *f)
{
	memset(f, 0, sizeof(*f));
	f->memfd = memfd_create("hostile", 0);
	if (f->memfd < 0 || ftruncate(f->memfd, MEM) < 0)
		die("memfd");
	f->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED)
		die("mmap");
}

static void connect_vmm(struct fe *f, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot connect");
}

static void mem_table(struct fe *f, int overlap)
{
	struct { uint32_t n, pad; uint64_t r[8]; } t = { overlap ? 2 : 1, 0,
		{ 0, MEM, (uint64_t)(uintptr_t)f->mem, 0, MEM / 4, MEM / 2, (uint64_t)(uintptr_t)f->mem + MEM, 0 } };
	int fds[2] = { f->memfd, f->memfd };

	if (msg(f, 5, &t, 8 + 32 * t.n, fds, t.n, NULL, 0) < 0)
		die("SET_MEM_TABLE send failed");
}

static void setup(struct fe *f, const char *path)
{
	uint8_t *mem = f->mem;
	uint64_t feat;
	int i;

	connect_vmm(f, path);
	if (msg(f, 1, NULL, 0, NULL, 0, &feat, 8) < 0)
		die("GET_FEATURES");
	u64(f, 2, feat, NULL, 0);
	u64(f, 3, 0, NULL, 0);
	mem_table(f, 0);
	for (i = 0; i < 2; i++) {
		uint32_t st[2] = { i, QN };
		struct { uint32_t i, f; uint64_t d, u, a, l; } ad;
		size_t ao, uo;

		vq_ring_size(QN, &ao, &uo);
		ad = (typeof(ad)){ i, 0, (uintptr_t)mem + RING(i), (uintptr_t)mem + RING(i) + uo,
				   (uintptr_t)mem + RING(i) + ao, 0 };
		vq_init(&f->q[i], QN, mem + RING(i), mem + RING(i) + ao, mem + RING(i) + uo, NULL, true, false);
		msg(f, 8, st, 8, NULL, 0, NULL, 0);
		st[1] = 0;
		msg(f, 10, st, 8, NULL, 0, NULL, 0);
		msg(f, 9, &ad, sizeof(ad), NULL, 0, NULL, 0);
		f->kick[i] = eventfd(0, 0);
		f->call[i] = eventfd(0, EFD_NONBLOCK);
		u64(f, 13, i, &f->call[i], 1);
		u64(f, 12, i, &f->kick[i], 1);
		st[1] = 1;
		msg(f, 18, st, 8, NULL, 0, NULL, 0);
	}
}

static void post(struct fe *f, int ring, uint16_t id, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	f->q[ring].desc[id] = (struct vring_desc){ gpa, len, flags, next };
	f->q[ring].avail->ring[f->avail[ring] % QN] = id;
	f->avail[ring]++;
	__atomic_store_n(&f->q[ring].avail->idx, f->avail[ring], __ATOMIC_RELEASE);
	if (write(f->kick[ring], &(uint64_t){ 1 }, 8) != 8)
		die("kick");
}

static void parse_mac(const char *s, uint8_t *m)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		die("bad MAC");
}

static uint16_t used_idx(struct fe *f, int ring)
{
	return __atomic_load_n(&f->q[ring].used->idx, __ATOMIC_ACQUIRE);
}

/* Frame number n on TX. Its buffer (n % TXBUFS) must be free: callers keep
 * fewer than TXBUFS frames outstanding. */
static void send_frame(struct fe *f, uint32_t n, const uint8_t *src, const uint8_t *dst)
{
	uint16_t id = n % TXBUFS;
	uint8_t *p = f->mem + BUFS + 0x20000 + id * 2048;

	memset(p, 0, 12 + 60);
	memcpy(p + 12, dst, 6);
	memcpy(p + 18, src, 6);
	p[24] = 0x88;
	p[25] = 0xb5;
	p[26] = n >> 24;
	p[27] = n >> 16;
	p[28] = n >> 8;
	p[29] = n;
	post(f, 1, id, BUFS + 0x20000 + id * 2048, 12 + 60, 0, 0);
}

/* Every RX descriptor gets a buffer. */
static void post_rx(struct fe *f)
{
	int i;

	for (i = 0; i < QN; i++)
		post(f, 0, i, BUFS + i * 2048 % 0x20000, 2048, VRING_DESC_F_WRITE, 0);
}

/* Takes what arrived on RX and gives the buffers back. */
static unsigned take_rx(struct fe *f)
{
	uint16_t used = used_idx(f, 0);
	unsigned n = 0;

	while (f->rx_seen != used) {
		struct vring_used_elem *e = &f->q[0].used->ring[f->rx_seen++ % QN];

		post(f, 0, e->id % QN, BUFS + (e->id % QN) * 2048 % 0x20000, 2048, VRING_DESC_F_WRITE, 0);
		n++;
	}
	return n;
}

static void wait_tx_room(struct fe *f, uint32_t sent)
{
	int i;

	for (i = 0; (uint16_t)(sent - used_idx(f, 1)) >= TXBUFS; i++) {
		if (i > 60000)
			die("the VMM stopped taking frames");
		poll(NULL, 0, 1);
	}
}

static int mode_send(struct fe *f, const uint8_t *src, const uint8_t *dst, uint32_t n)
{
	uint32_t i;

	post_rx(f);
	for (i = 0; i < n; i++) {
		wait_tx_room(f, i);
		send_frame(f, i, src, dst);
	}
	sleep(1);	/* give the VMM time to take them before we hang up */
	return 0;
}

/* One TSO frame, as a guest's TCP would send it but for gso_size: the
 * vnet header (NEEDS_CSUM at the TCP checksum), IPv4 192.168.1.1 ->
 * 192.168.1.2 with its lengths and checksum right, TCP, 1800 bytes. */
static int mode_gso(struct fe *f, const uint8_t *src, const uint8_t *dst, uint16_t gso_size)
{
	enum { PAY = 1800, L3 = 14, L4 = L3 + 20, LEN = L4 + 20 + PAY };
	uint8_t *p = f->mem + BUFS + 0x20000, *e = p + 12;
	uint32_t sum = 0;
	int i;

	_Static_assert(12 + LEN <= 2048, "one TX buffer");
	memset(p, 0, 12 + LEN);
	p[0] = 1;			/* NEEDS_CSUM */
	p[1] = 1;			/* GSO TCPV4 */
	p[2] = L4 + 20;			/* hdr_len (le16) */
	p[4] = gso_size & 0xff;		/* gso_size (le16) */
	p[5] = gso_size >> 8;
	p[6] = L4;			/* csum_start */
	p[8] = 16;			/* csum_offset: TCP's checksum */
	memcpy(e, dst, 6);
	memcpy(e + 6, src, 6);
	e[12] = 0x08;			/* IPv4 */
	e[L3] = 0x45;
	e[L3 + 2] = (LEN - L3) >> 8;
	e[L3 + 3] = (LEN - L3) & 0xff;
	e[L3 + 6] = 0x40;		/* DF */
	e[L3 + 8] = 64;
	e[L3 + 9] = 6;			/* TCP */
	memcpy(e + L3 + 12, (uint8_t[]){ 192, 168, 1, 1, 192, 168, 1, 2 }, 8);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)e[L3 + i] << 8 | e[L3 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	e[L3 + 10] = ~sum >> 8;
	e[L3 + 11] = ~sum & 0xff;
	e[L4] = 0x04;			/* ports 1234 -> 5678 */
	e[L4 + 1] = 0xd2;
	e[L4 + 2] = 0x16;
	e[L4 + 3] = 0x2e;
	e[L4 + 7] = 1;			/* seq 1 */
	e[L4 + 12] = 5 << 4;
	e[L4 + 13] = 0x18;		/* PSH ACK */
	e[L4 + 14] = 0xff;
	e[L4 + 15] = 0xff;
	post_rx(f);
	post(f, 1, 0, BUFS + 0x20000, 12 + LEN, 0, 0);
	sleep(1);	/* give the VMM time to take it before we hang up */
	return 0;
}

static int mode_drip(struct fe *f, const uint8_t *src, const uint8_t *dst, uint32_t n)
{
	uint32_t i;

	post_rx(f);
	for (i = 0; i < n; i++) {
		wait_tx_room(f, i);
		send_frame(f, i, src, dst);
		poll(NULL, 0, 1);
	}
	return 0;
}

static int mode_pair(struct fe *a, struct fe *b, const uint8_t *src, const uint8_t *dst, uint32_t n)
{
	time_t end = time(NULL) + 60;
	uint32_t sent = 0, got = 0;

	post_rx(a);
	post_rx(b);
	while (got < n && time(NULL) < end) {
		got += take_rx(b);
		take_rx(a);
		if (sent < n && sent - got < 128 && (uint16_t)(sent - used_idx(a, 1)) < TXBUFS) {
			send_frame(a, sent++, src, dst);
			continue;
		}
		poll(NULL, 0, 1);
	}
	printf("sent %u received %u\n", sent, got);
	return got == n ? 0 : 1;
}

static uint64_t ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Frames that arrived on RX, their buffers not given back. */
static unsigned count_rx(struct fe *f)
{
	uint16_t used = used_idx(f, 0);
	unsigned n = (uint16_t)(used - f->rx_seen);

	f->rx_seen = used;
	return n;
}

static int mode_hol(struct fe *f, const uint8_t *ma, const uint8_t *mb, const uint8_t *mc, unsigned secs,
		    unsigned drip)
{
	uint64_t start = ms_now(), now, next_drip = start;
	uint32_t sent = 0, got_b = 0, got_c = 0, ticks = 0, full = 0;

	post_rx(&f[0]);
	post_rx(&f[2]);
	if (!drip)
		post_rx(&f[1]);
	while ((now = ms_now()) < start + secs * 1000ull) {
		got_c += take_rx(&f[2]);
		take_rx(&f[0]);
		if (!drip) {
			got_b += take_rx(&f[1]);
		} else if (now >= next_drip) {	/* one buffer, whatever came since */
			uint16_t id = f[1].avail[0] % QN;

			got_b += count_rx(&f[1]);
			post(&f[1], 0, id, BUFS + id * 2048 % 0x20000, 2048, VRING_DESC_F_WRITE, 0);
			next_drip = now + drip;
		}
		ticks++;
		if ((uint16_t)(sent - used_idx(&f[0], 1)) <= TXBUFS - 2) {
			send_frame(&f[0], sent++, ma, mb);
			send_frame(&f[0], sent++, ma, mc);
		} else {
			full++;
		}
		poll(NULL, 0, 1);
	}
	poll(NULL, 0, 200);	/* what is on its way to C */
	got_c += take_rx(&f[2]);
	got_b += drip ? count_rx(&f[1]) : take_rx(&f[1]);
	printf("ticks %u full %u sent_b %u sent_c %u got_b %u got_c %u\n", ticks, full, sent / 2, sent / 2, got_b,
	       got_c);
	return 0;
}

#define FANOUT_MAX 64

static int mode_fanout(struct fe *f, unsigned nf, const uint8_t *src, uint32_t n)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	time_t end = time(NULL) + 60;
	uint32_t sent = 0, got[FANOUT_MAX] = { 0 }, least = 0;
	unsigned i;
	int ok = 1;

	for (i = 0; i < nf; i++)
		post_rx(&f[i]);
	while (least < n && time(NULL) < end) {
		least = n;
		for (i = 1; i < nf; i++) {
			got[i] += take_rx(&f[i]);
			if (got[i] < least)
				least = got[i];
		}
		take_rx(&f[0]);
		if (sent < n && sent - least < 32 && (uint16_t)(sent - used_idx(&f[0], 1)) < TXBUFS) {
			send_frame(&f[0], sent++, src, bcast);
			continue;
		}
		poll(NULL, 0, 1);
	}
	poll(NULL, 0, 1000);	/* anything more would be a duplicate */
	for (i = 1; i < nf; i++) {
		got[i] += take_rx(&f[i]);
		printf("%u:%u%s", i, got[i], i + 1 < nf ? " " : "\n");
		ok &= got[i] == n;
	}
	printf("sent %u, every other frontend received %s\n", sent, ok ? "all" : "not all");
	return ok && sent == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct fe a, b;
	uint8_t src[6], dst[6];
	int i, n;

	fe_new(&a);
	if (argc == 3 && !strcmp(argv[1], "badmem")) {
		char c;

		connect_vmm(&a, argv[2]);
		mem_table(&a, 1);
		/* The VMM must hang up on us, and still serve the next frontend. */
		if (recv(a.sock, &c, 1, 0) != 0)
			die("VMM did not close the connection after a bad SET_MEM_TABLE");
		close(a.sock);
		setup(&a, argv[2]);
		return 0;
	}
	if (argc >= 6 && argc - 4 <= FANOUT_MAX && !strcmp(argv[1], "fanout")) {
		static struct fe f[FANOUT_MAX];
		unsigned k, nf = argc - 4;

		parse_mac(argv[2], src);
		for (k = 0; k < nf; k++) {
			fe_new(&f[k]);
			setup(&f[k], argv[4 + k]);
		}
		return mode_fanout(f, nf, src, atoi(argv[3]));
	}
	if (argc == 10 && !strcmp(argv[1], "hol")) {
		static struct fe f[3];
		uint8_t mc[6];
		unsigned k;

		parse_mac(argv[5], src);
		parse_mac(argv[6], dst);
		parse_mac(argv[7], mc);
		for (k = 0; k < 3; k++) {
			fe_new(&f[k]);
			setup(&f[k], argv[2 + k]);
		}
		return mode_hol(f, src, dst, mc, atoi(argv[8]), atoi(argv[9]));
	}
	if (argc == 7 && !strcmp(argv[1], "pair")) {
		fe_new(&b);
		parse_mac(argv[4], src);
		parse_mac(argv[5], dst);
		setup(&a, argv[2]);
		setup(&b, argv[3]);
		return mode_pair(&a, &b, src, dst, atoi(argv[6]));
	}
	if (argc != 6)
		die("usage: hostile_frontend send|loop SOCK SRCMAC DSTMAC N | pair SOCKA SOCKB SRCMAC DSTMAC N | "
		    "badmem SOCK | gso SOCK SRCMAC DSTMAC SIZE");
	parse_mac(argv[3], src);
	parse_mac(argv[4], dst);
	n = atoi(argv[5]);
	setup(&a, argv[2]);
	if (!strcmp(argv[1], "send"))
		return mode_send(&a, src, dst, n);
	if (!strcmp(argv[1], "drip"))
		return mode_drip(&a, src, dst, n);
	if (!strcmp(argv[1], "gso"))
		return mode_gso(&a, src, dst, (uint16_t)n);
	post_rx(&a);
	send_frame(&a, 0, src, dst);
	/* 200 -> 201 -> 200 -> ...: 201 is written before 200 is made available. */
	a.q[1].desc[201] = (struct vring_desc){ BUFS + 0x30000, 64, VRING_DESC_F_NEXT, 200 };
	post(&a, 1, 200, BUFS + 0x30000, 64, VRING_DESC_F_NEXT, 201);
	printf("loop posted\n");
	fflush(stdout);
	for (i = 0; i < 600 && used_idx(&a, 0) < n; i++)
		poll(NULL, 0, 100);
	printf("rx %d\n", used_idx(&a, 0));
	return used_idx(&a, 0) >= n ? 0 : 1;
}
