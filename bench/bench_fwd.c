/* Forwarding benchmark: the real per-frame path, guest A's TX ring ->
 * net_tx -> link -> net_rx -> guest B's RX ring, in one process with the
 * guests' driver side played by tests/guest_model.h. Reports frames/s and
 * ns per frame for several frame sizes. Usage: bench_fwd [SECONDS] */
#include <stdio.h>
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

static int run(uint32_t len, double secs)
{
	static struct guest a, b;
	static uint8_t frame[2048];
	struct link la = { 0 }, lb = { 0 };
	double t0, t;
	uint64_t frames;

	if (link_pair(&la, &lb, GM_QN, mac_a, mac_b) < 0) {
		fprintf(stderr, "bench_fwd: cannot set up the link\n");
		return 1;
	}
	guest_init(&a, mac_a, &la, 1);
	guest_init(&b, mac_b, &lb, 1);
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
	} while (t - t0 < secs);
	frames = b.st.guest_rx_frames;
	printf("bench_fwd: frame=%4u B  %7.3f Mframes/s  %6.1f ns/frame  %6.2f Gbit/s  doorbells/frame=%.4f  drops=%llu\n",
	       len, frames / (t - t0) / 1e6, (t - t0) * 1e9 / frames, frames * len * 8 / (t - t0) / 1e9,
	       (double)a.st.link[0].kicks_sent / frames,
	       (unsigned long long)(a.st.drop[DROP_QUEUE_FULL] + a.st.drop[DROP_MALFORMED]));
	link_detach(&la);
	link_detach(&lb);
	free(a.mem);
	free(b.mem);
	return frames ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 64, 512, 1514 };
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	unsigned i;
	int rc = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		rc |= run(sizes[i], secs);
	return rc;
}
