/* A link's room from its delay (link/room.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "link/link.h"
#include "link/room.h"

static unsigned q(unsigned base, uint32_t d0, uint32_t d1)
{
	struct link_imp imp[2] = { { .delay_us = d0 }, { .delay_us = d1 } };

	return link_room_qsize(base, imp);
}

/* A plain link, or one delayed by nothing, gets the base exactly; a
 * delay adds 10 Gbit/s times it in 8 KiB entries, rounded up to a power
 * of two: 1 ms 1.25 MB = 153 entries, 5 ms 6.25 MB = 763. */
static void test_delay(void **state)
{
	struct link_imp imp[2] = { { .loss_ppm = 100000, .down = 1 }, { .corrupt_ppm = 1 } };

	assert_int_equal(q(256, 0, 0), 256);
	assert_int_equal(link_room_qsize(256, imp), 256);
	assert_int_equal(q(64, 0, 0), 64);
	assert_int_equal(q(4096, 0, 0), 4096);
	assert_int_equal(q(256, 1000, 0), 512);		/* 256 + 153 */
	assert_int_equal(q(256, 0, 1000), 512);		/* either direction */
	assert_int_equal(q(256, 5000, 1000), 1024);	/* 256 + 763 */
	assert_int_equal(q(64, 5000, 0), 1024);		/* 64 + 763 = 827 */
	assert_int_equal(q(256, 1, 0), 512);		/* 1.25 kB: one entry more */
	assert_int_equal(q(256, 20000, 0), 4096);	/* 256 + 3052 */
	assert_int_equal(q(256, 26000, 0), 4096);	/* capped: MV_QSIZE_MAX */
	assert_int_equal(q(256, LINKCTL_DELAY_MAX_US, LINKCTL_DELAY_MAX_US), 4096);
	assert_int_equal(q(0, 0, 0), MV_QSIZE_DEFAULT);	/* a base that is none */
}

/* Jitter counts at its widest (normal: three sigma); a rate below a fast
 * link's makes the product smaller, one above does not make it larger. */
static void test_jitter_rate(void **state)
{
	struct link_imp imp[2] = { { .delay_us = 1000, .jitter_us = 1000 }, { 0 } };

	assert_int_equal(link_room_qsize(256, imp), 1024);	/* 2 ms: 306 */
	imp[0].dist = LINKCTL_NORMAL;
	assert_int_equal(link_room_qsize(256, imp), 1024);	/* 4 ms: 611 */
	imp[0].jitter_us = 2000;				/* 7 ms: 1069 */
	assert_int_equal(link_room_qsize(256, imp), 2048);
	imp[0] = (struct link_imp){ .delay_us = 20000, .rate_bps = 100000000 };	/* 250 kB: 31 */
	assert_int_equal(link_room_qsize(256, imp), 512);
	imp[0].rate_bps = 1000;					/* 2.5 B: one entry */
	assert_int_equal(link_room_qsize(256, imp), 512);
	imp[0] = (struct link_imp){ .delay_us = 1000, .rate_bps = LINKCTL_RATE_MAX };
	assert_int_equal(link_room_qsize(256, imp), 512);
	imp[0] = (struct link_imp){ .rate_bps = 1000000 };	/* a shaper alone: its queue is the base */
	assert_int_equal(link_room_qsize(256, imp), 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_delay), cmocka_unit_test(test_jitter_rate) };

	return cmocka_run_group_tests_name("room", tests, NULL, NULL);
}
