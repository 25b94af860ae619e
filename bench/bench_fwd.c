/* Forwarding benchmark: the real per-frame path, guest A's TX ring ->
 * net_tx -> link -> net_rx -> guest B's RX ring, in one process with the
 * guests' driver side played by tests/guest_model.h. Reports frames/s and
 * ns per frame for several frame sizes, each three ways: capture=none (no
 * capture ring), capture=off (rings mapped, nobody capturing: the normal
 * state) and capture=on (a reader wants every stream of both VMs and never
 * reads: each frame is copied into vm0's ring twice, eth0 and the link,
 * and once into vm1's). The three take turns, ROUNDS times each, and the
 * best round of each is reported: on a shared machine the others' load
 * only ever makes a round slower. Usage: bench_fwd [SECONDS [ROUNDS]]
 *
 * FWD_ITERS=N SIZE [CAPTURE]: exactly N*64 batches of SIZE-byte frames,
 * one way (none, off or on; default off): a fixed amount of work for
 * counting instructions (valgrind --tool=callgrind), not for timing.
 * FWD_WIRE=1: both NICs are a wire's ends (every frame to the one link,
 * no MAC lookup or source check), for the same count over a wire. */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../tests/guest_model.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum capture { CAP_NONE, CAP_OFF, CAP_ON };
static const char *const cap_name[] = { "none", "off", "on" };

/* A capture ring for g, as the VMM maps it; with on, a reader that wants
 * every stream (renewed by the caller, never reading). */
static uint8_t *ring(struct guest *g, const char *name, const char *peer, bool on, struct cap_reader *r)
{
	uint8_t *map = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *peers[] = { peer };

	if (map == MAP_FAILED || capw_attach(&g->net.cap, map, CAP_FILE_SIZE, name, peers, 1) < 0 ||
	    capr_open(r, map, CAP_FILE_SIZE) < 0)
		abort();
	if (on && capr_register(r, CAP_BIT(CAP_STREAM_GUEST) | CAP_BIT(CAP_STREAM_LINK(0)), getpid(),
				(uint64_t)(now() * 1e9)) < 0)
		abort();
	return map;
}

struct result {
	double secs;
	uint64_t frames, kicks, drops;
};

static int run(uint32_t len, double secs, enum capture cap, struct result *best)
{
	static struct guest a, b;
	static uint8_t frame[2048];
	struct link la = { 0 }, lb = { 0 };
	struct cap_reader ra, rb;
	uint8_t *ma = NULL, *mb = NULL;
	double t0, t;
	uint64_t frames;
	long iters = getenv("FWD_ITERS") ? atol(getenv("FWD_ITERS")) : 0;
	int rc = 0;

	if (link_pair(&la, &lb, GM_QN, mac_a, mac_b) < 0) {
		fprintf(stderr, "bench_fwd: cannot set up the link\n");
		return 1;
	}
	guest_init(&a, mac_a, &la, 1);
	guest_init(&b, mac_b, &lb, 1);
	if (getenv("FWD_WIRE") && strcmp(getenv("FWD_WIRE"), "0"))
		a.net.wire = b.net.wire = true;
	if (cap != CAP_NONE) {
		ma = ring(&a, "vm0", "vm1", cap == CAP_ON, &ra);
		mb = ring(&b, "vm1", "vm0", cap == CAP_ON, &rb);
	}
	memcpy(frame, mac_b, 6);
	memcpy(frame + 6, mac_a, 6);
	t0 = now();
	do {
		int i, k;

		for (i = 0; i < 64; i++) {
			uint8_t *p;

			while (guest_recv(&b, &p))
				;	/* the guest takes what arrived */
			guest_post_rx(&b, NET_BATCH);
			for (k = 0; k < NET_BATCH; k++)
				guest_send(&a, frame, len);
			net_tx(&a.net);
			net_rx(&b.net);
		}
		t = now();
		if (cap == CAP_ON &&	/* as the capture command's heartbeat does */
		    (capr_renew(&ra, getpid(), (uint64_t)(t * 1e9)) < 0 || capr_renew(&rb, getpid(), (uint64_t)(t * 1e9)) < 0))
			abort();
	} while (iters ? --iters > 0 : t - t0 < secs);
	frames = b.st.guest_rx_frames;
	if (!best->frames || frames / (t - t0) > best->frames / best->secs)
		*best = (struct result){ t - t0, frames, a.st.link[0].kicks_sent,
					 a.st.drop[DROP_QUEUE_FULL] + a.st.drop[DROP_MALFORMED] };
	if (cap == CAP_ON && a.net.cap.total[CAP_STREAM_LINK(0)] != a.st.link[0].tx_frames) {
		fprintf(stderr, "bench_fwd: capture recorded %llu of %llu frames\n",
			(unsigned long long)a.net.cap.total[CAP_STREAM_LINK(0)],
			(unsigned long long)a.st.link[0].tx_frames);
		rc = 1;
	}
	if (ma) {
		munmap(ma, CAP_FILE_SIZE);
		munmap(mb, CAP_FILE_SIZE);
	}
	link_detach(&la);
	link_detach(&lb);
	free(a.mem);
	free(b.mem);
	return frames ? rc : 1;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 64, 512, 1514 };
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, k, rc = 0;
	unsigned i, c;

	if (getenv("FWD_ITERS")) {	/* fixed work: SIZE [CAPTURE] */
		struct result r = { 0 };
		uint32_t size = argc > 1 ? (uint32_t)atoi(argv[1]) : 64;

		c = argc > 2 && !strcmp(argv[2], "none") ? CAP_NONE : argc > 2 && !strcmp(argv[2], "on") ? CAP_ON : CAP_OFF;
		rc = run(size, 0, c, &r);
		printf("bench_fwd: frame=%4u B  capture=%-4s  %llu frames\n", size, cap_name[c],
		       (unsigned long long)r.frames);
		return rc;
	}

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct result best[3] = { { 0 } };

		for (k = 0; k < rounds; k++)
			for (c = CAP_NONE; c <= CAP_ON; c++)
				rc |= run(sizes[i], secs / rounds, c, &best[c]);
		for (c = CAP_NONE; c <= CAP_ON; c++) {
			const struct result *r = &best[c];

			if (!r->frames)
				continue;
			printf("bench_fwd: frame=%4u B  capture=%-4s  %7.3f Mframes/s  %6.1f ns/frame  %6.2f Gbit/s  "
			       "doorbells/frame=%.4f  drops=%llu\n", sizes[i], cap_name[c], r->frames / r->secs / 1e6,
			       r->secs * 1e9 / r->frames, r->frames * sizes[i] * 8 / r->secs / 1e9,
			       (double)r->kicks / r->frames, (unsigned long long)r->drops);
		}
	}
	return rc;
}
