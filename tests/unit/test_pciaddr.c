/* PCI addresses as users write them: BDFs and ADDRESS/SIZE ranges, the
 * one parser behind the config's checks and passthrough's comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common/pciaddr.h"

static void test_bdf(void **state)
{
	static const char *const bad[] = {
		"", "0000:03:00", "0000:03:00.", "0000:03:00.0 ", " 000:03:00.0", "0x00:03:00.0",
		"0000:03:00.8", "0000:03:20.0", "000:003:00.0", "0000-03:00.0", "0000:03:00:0",
		"0000:03:00.00", "+000:03:00.0", "0000:g3:00.0", "00000:03:00.0",
	};
	struct pci_bdf b;
	unsigned i;

	assert_int_equal(pci_bdf_parse("0000:03:00.1", &b), 0);
	assert_true(b.domain == 0 && b.bus == 3 && b.dev == 0 && b.fn == 1);
	assert_int_equal(pci_bdf_parse("ABcd:fF:1f.7", &b), 0);
	assert_true(b.domain == 0xabcd && b.bus == 0xff && b.dev == 0x1f && b.fn == 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pci_bdf_parse(bad[i], &b) == 0)
			fail_msg("'%s' taken for a BDF", bad[i]);
}

static void test_ranges(void **state)
{
	static const char *const bad[] = {
		"", "0x1000", "0x1000/", "/0x10", "0x1000/0", "0x1000/0x10,", "0x1000/0x10,,0/1",
		"0x1000/0x10 0x2000/0x10", "-4096/16", "0x1000/-16", "0x1000/ -16", "+1/2", "1 /2",
		"0xffffffffffffffff/2", "99999999999999999999/1", "08/1", "1/2;", "0x/1",
	};
	struct addr_range r[2];
	unsigned i;

	assert_int_equal(addr_ranges_parse("0xfebc0000/0x20000", r, 2), 1);
	assert_true(r[0].addr == 0xfebc0000 && r[0].size == 0x20000);
	assert_int_equal(addr_ranges_parse("4096/16 , 010/ 0x8 ", r, 2), 2);
	assert_true(r[0].addr == 4096 && r[0].size == 16 && r[1].addr == 8 && r[1].size == 8);
	/* More than max: counted, not stored. */
	memset(r, 0, sizeof(r));
	assert_int_equal(addr_ranges_parse("1/1,2/2,3/3", r, 1), 3);
	assert_true(r[0].addr == 1 && r[1].addr == 0);
	assert_int_equal(addr_ranges_parse("1/1,2/2,3/3", NULL, 0), 3);
	assert_int_equal(addr_ranges_parse("0xfffffffffffffff0/0x10", NULL, 0), -1);	/* wraps to 0 */
	assert_int_equal(addr_ranges_parse("0xffffffffffffffef/0x10", NULL, 0), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (addr_ranges_parse(bad[i], r, 2) >= 0)
			fail_msg("'%s' taken for ranges", bad[i]);
}

/* What pci-info prints is what the config reads back. */
static void test_ranges_round_trip(void **state)
{
	const struct addr_range in[3] = { { 0xfebc0000, 0x20000 }, { 0, 1 }, { 0xffffffffffffe000, 0x1000 } };
	struct addr_range out[3];
	char buf[128], tiny[20];

	assert_int_equal(addr_ranges_format(in, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0xfebc0000/0x20000,0x0/0x1,0xffffffffffffe000/0x1000");
	assert_int_equal(addr_ranges_parse(buf, out, 3), 3);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(addr_ranges_format(in, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(addr_ranges_format(in, 3, tiny, sizeof(tiny)), -1);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_ranges_round_trip),
	};

	return cmocka_run_group_tests_name("pciaddr", tests, NULL, NULL);
}
