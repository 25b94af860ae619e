/* A full link holds up only its own destination (issue 26, item 4): guest
 * A sends to B and C in turn; B drips (takes one frame every 60 ms), C
 * takes everything. With each link's wait budget cumulative (vmm/net.h:
 * NET_WAIT_MS), A's frames to C keep flowing within 10 % of the rate they
 * have when B keeps up, B's link is stalled and its drops counted, and the
 * time frames waited for B is counted. Simulated time, passed as the VMM's
 * loop passes it: deterministic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../guest_model.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };
static const uint8_t mac_c[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 3 };

struct fx {
	struct guest a, b, c;
	struct link la[2], lb, lc;	/* A's two ends: to B, to C */
};

static struct fx *make(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(link_pair(&f->la[0], &f->lb, 64, mac_a, mac_b), 0);
	assert_int_equal(link_pair(&f->la[1], &f->lc, 64, mac_a, mac_c), 0);
	guest_init(&f->a, mac_a, f->la, 2);
	guest_init(&f->b, mac_b, &f->lb, 1);
	guest_init(&f->c, mac_c, &f->lc, 1);
	return f;
}

static void drop_fx(struct fx *f)
{
	link_detach(&f->la[0]);
	link_detach(&f->la[1]);
	link_detach(&f->lb);
	link_detach(&f->lc);
	free(f->a.mem);
	free(f->b.mem);
	free(f->c.mem);
	free(f);
}

static unsigned take_all(struct guest *g)
{
	uint8_t *p;
	unsigned n = 0;

	while (guest_recv(g, &p))
		n++;
	return n;
}

enum { DRIP_NONE, DRIP_SLOW, DRIP_BUSY };

/* Three simulated seconds, 1 ms a step: A's guest keeps its TX ring topped up
 * with frames for B and C in turn; the loop moves them and bounds waits
 * as vmm/main.c does. Returns the frames C got. */
static unsigned run(struct fx *f, unsigned drip)
{
	uint8_t frame[200];
	unsigned sent = 0, got_c = 0, t;
	bool more;

	memset(frame, 0x33, sizeof(frame));
	memcpy(frame + 6, mac_a, 6);
	for (t = 1; t <= 3000; t++) {
		while ((uint16_t)(f->a.tx_avail - __atomic_load_n(&f->a.tx.used->idx, __ATOMIC_ACQUIRE)) < GM_QN - 1) {
			memcpy(frame, sent % 2 ? mac_c : mac_b, 6);
			guest_send(&f->a, frame, sizeof(frame));
			sent++;
		}
		net_tx(&f->a.net);
		more = false;
		net_tx_bound(&f->a.net, t, &more);
		if (more)	/* a link stalled: A's TX goes on at once */
			net_tx(&f->a.net);
		guest_post_rx(&f->c, 256);
		net_rx(&f->c.net);
		got_c += take_all(&f->c);
		if (drip == DRIP_NONE || (drip == DRIP_SLOW && t % 60 == 0) || drip == DRIP_BUSY) {
			guest_post_rx(&f->b, drip == DRIP_NONE ? 256 : drip == DRIP_BUSY ? 3 : 1);
			net_rx(&f->b.net);
			take_all(&f->b);
		}
	}
	return got_c;
}

static void test_dripping_receiver(void **state)
{
	struct fx *f = make();
	unsigned fair, dripped;

	fair = run(f, DRIP_NONE);
	drop_fx(f);
	f = make();
	dripped = run(f, DRIP_SLOW);
	print_message("frames to C in 3 s: %u with B keeping up, %u with B dripping\n", fair, dripped);
	assert_true(fair > 1000);
	assert_true(dripped * 10 >= fair * 9);
	assert_true(f->a.st.link[0].drop[DROP_QUEUE_FULL] > 0);	/* B's link stalled: counted */
	assert_true(f->a.st.link[0].tx_wait_ms >= NET_WAIT_MS);	/* and the time spent waiting on it */
	assert_true(f->a.st.link[0].tx_wait_ms < 3 * NET_WAIT_MS);
	assert_int_equal(f->a.st.link[1].drop[DROP_QUEUE_FULL], 0);
	drop_fx(f);
}

/* A busy but healthy peer: B takes 3 frames every ms, fewer than A offers,
 * so A's TX waits on B's link nearly all the time, yet frames move every
 * ms. That is backpressure, not a stalled peer: B's link must never be
 * stalled (no drops), whatever the total time spent waiting. */
static void test_busy_receiver(void **state)
{
	struct fx *f = make();
	unsigned got_c;

	got_c = run(f, DRIP_BUSY);
	print_message("busy B: %u frames to C, B's link waited %llu ms, %llu dropped\n", got_c,
		      (unsigned long long)f->a.st.link[0].tx_wait_ms,
		      (unsigned long long)f->a.st.link[0].drop[DROP_QUEUE_FULL]);
	assert_true(f->a.st.link[0].tx_wait_ms > 1000);	/* A did wait, most of the time */
	assert_int_equal(f->a.st.link[0].drop[DROP_QUEUE_FULL], 0);
	assert_false(f->la[0].tx_stalled);
	drop_fx(f);
}

/* The same busy peer, but its end says it holds frames until due (a delay
 * or rate on the link: link.h LINK_QUEUE_OFF): the link is a queue, so
 * what it cannot hold is dropped and counted, as netem's queue would. */
static void test_queue_link(void **state)
{
	struct fx *f = make();

	link_set_queue(&f->lb, true);
	assert_true(link_tx_queue(&f->la[0]));
	assert_false(link_tx_queue(&f->lb));	/* one word per direction */
	assert_false(link_tx_queue(&f->la[1]));
	run(f, DRIP_BUSY);
	print_message("B's end a queue: %llu dropped\n", (unsigned long long)f->a.st.link[0].drop[DROP_QUEUE_FULL]);
	assert_true(f->a.st.link[0].drop[DROP_QUEUE_FULL] > 0);
	assert_int_equal(f->a.st.link[1].drop[DROP_QUEUE_FULL], 0);
	drop_fx(f);
}

/* A peer that stops altogether: one wait of NET_WAIT_MS, then its frames
 * are dropped and the others flow (as before the budget was per link). */
static void test_frozen_receiver(void **state)
{
	struct fx *f = make();
	uint8_t frame[200];
	bool more = false;
	unsigned k;

	memset(frame, 0x33, sizeof(frame));
	memcpy(frame, mac_b, 6);
	memcpy(frame + 6, mac_a, 6);
	for (k = 0; k < 200; k++)	/* more than B's link of 64 holds */
		guest_send(&f->a, frame, sizeof(frame));
	net_tx(&f->a.net);
	net_tx(&f->a.net);
	assert_int_not_equal(f->a.net.tx_wait, 0);
	assert_int_equal(net_tx_bound(&f->a.net, 1000, &more), NET_WAIT_MS);
	assert_int_equal(net_tx_bound(&f->a.net, 1000 + NET_WAIT_MS - 1, &more), 1);
	assert_false(more);
	assert_int_equal(net_tx_bound(&f->a.net, 1000 + NET_WAIT_MS, &more), -1);
	assert_true(more);
	assert_true(f->la[0].tx_stalled);
	assert_int_equal(f->a.st.link[0].tx_wait_ms, NET_WAIT_MS);
	drop_fx(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dripping_receiver),
		cmocka_unit_test(test_frozen_receiver),
		cmocka_unit_test(test_busy_receiver),
		cmocka_unit_test(test_queue_link),
	};

	return cmocka_run_group_tests_name("wait", tests, NULL, NULL);
}
