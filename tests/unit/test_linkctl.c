/* Link impairment settings: the one parser and formatter of their words
 * (read back what is written), their limits, and the seqlock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/linkctl.h"

static char err[256];

static struct link_imp parse(const char *words)
{
	char copy[256], *w, *save = NULL;
	struct link_imp imp;

	memset(&imp, 0, sizeof(imp));
	snprintf(copy, sizeof(copy), "%s", words);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		assert_non_null(eq);
		*eq = 0;
		if (linkctl_set(&imp, w, eq + 1, err, sizeof(err)) < 0)
			fail_msg("%s refused: %s", w, err);
	}
	return imp;
}

static void test_units(void **state)
{
	struct link_imp i = parse("delay=20ms jitter=1.5ms loss=1% corrupt=0.25% duplicate=0.0001% rate=100mbit");

	assert_int_equal(i.delay_us, 20000);
	assert_int_equal(i.jitter_us, 1500);
	assert_int_equal(i.loss_ppm, 10000);
	assert_int_equal(i.corrupt_ppm, 2500);
	assert_int_equal(i.duplicate_ppm, 1);
	assert_int_equal(i.rate_bps, 100000000);
	assert_true(linkctl_check(&i) && linkctl_active(&i));
	i = parse("delay=500us rate=1.5gbit state=down distribution=normal jitter=2s");
	assert_int_equal(i.delay_us, 500);
	assert_int_equal(i.rate_bps, 1500000000);
	assert_int_equal(i.down, 1);
	assert_int_equal(i.dist, LINKCTL_NORMAL);
	assert_int_equal(i.jitter_us, 2000000);
	i = parse("rate=0 state=up loss=0%");
	assert_false(linkctl_active(&i));
}

/* What is formatted reads back the same. */
static void test_round_trip(void **state)
{
	static const char *const cases[] = {
		"delay=20ms jitter=2ms loss=1% rate=100mbit",
		"state=down delay=1500us jitter=3s distribution=normal loss=0.0125% loss_correlation=25% corrupt=100% duplicate=0.5% rate=9600bit",
		"rate=1gbit", "loss=10% seed=4294967295", "",
	};
	char out[256];
	unsigned k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct link_imp a = parse(cases[k]), b;

		linkctl_format(&a, out, sizeof(out));
		assert_string_equal(out, cases[k]);
		b = parse(out);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void refused(const char *key, const char *value, const char *want)
{
	struct link_imp imp;

	memset(&imp, 0, sizeof(imp));
	if (linkctl_set(&imp, key, value, err, sizeof(err)) == 0 || !strstr(err, want))
		fail_msg("%s=%s: got '%s', want '%s'", key, value, err, want);
}

static void test_absurd_values(void **state)
{
	refused("delay", "20", "not a time");		/* no unit */
	refused("delay", "11s", "not a time");
	refused("delay", "-1ms", "not a time");
	refused("delay", "1.0001ms", "not a time");	/* below a microsecond */
	refused("delay", "99999999999999999999ms", "not a time");
	refused("jitter", "1e3ms", "not a time");
	refused("loss", "101%", "not a percentage");
	refused("loss", "1", "not a percentage");
	refused("loss", "0.00001%", "not a percentage");
	refused("loss", " 1%", "not a percentage");
	refused("rate", "100", "not a rate");
	refused("rate", "999bit", "not a rate");
	refused("rate", "101gbit", "not a rate");
	refused("rate", "100Mbit", "not a rate");
	refused("rate", "18446744073709551615gbit", "not a rate");
	refused("state", "off", "not up or down");
	refused("distribution", "pareto", "not uniform or normal");
	refused("bandwidth", "1mbit", "bandwidth: unknown setting");
	refused("seed", "4294967296", "not a whole number");
	refused("seed", "-1", "not a whole number");
	refused("seed", "1.5", "not a whole number");
	refused("seed", "1.", "not a whole number");
	refused("seed", "", "not a whole number");
}

static void test_check_and_seqlock(void **state)
{
	static struct linkctl c, copy;
	struct link_imp bad;

	memset(&bad, 0, sizeof(bad));
	bad.loss_ppm = LINKCTL_PPM + 1;
	assert_false(linkctl_check(&bad));
	bad.loss_ppm = 0;
	bad.rate_bps = 10;
	assert_false(linkctl_check(&bad));
	bad.rate_bps = 0;
	bad.down = 2;
	assert_false(linkctl_check(&bad));

	memset(&c, 0, sizeof(c));
	assert_false(linkctl_read(&c, &copy));	/* not a control file */
	c.magic = LINKCTL_MAGIC;
	c.version = LINKCTL_VERSION;
	assert_true(linkctl_read(&c, &copy));
	assert_int_equal(copy.gen, 0);
	linkctl_write_begin(&c);
	c.link[3].imp.delay_us = 5;
	assert_false(linkctl_read(&c, &copy));	/* a writer is busy */
	linkctl_write_end(&c);
	assert_true(linkctl_read(&c, &copy));
	assert_int_equal(copy.gen, 2);
	assert_int_equal(copy.link[3].imp.delay_us, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_absurd_values),
		cmocka_unit_test(test_check_and_seqlock),
	};

	return cmocka_run_group_tests_name("linkctl", tests, NULL, NULL);
}
