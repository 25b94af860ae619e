/* The status line parser and the printers of `multivm status` and `stats`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"
#include "supervisor/snapshot.h"

static struct snapshot s;
static struct vm_stats raw[2];
static char *out;

/* What printer wrote for s, in out (freed by the next call). */
static const char *print(int (*printer)(FILE *, const struct snapshot *))
{
	size_t len;
	FILE *f;

	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(printer(f, &s), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void name_vm(unsigned i, const char *line)
{
	assert_int_equal(status_parse_line(line, &s.status[i]), 0);
	memcpy(s.vm[i].name, status_name(&s.status[i]), STATS_NAME_MAX);
}

/* vm "a" (counters 1, 2, 3, ... ; a link to b) and vm "b", whose stats file
 * could not be read when valid_b is false. */
static void two_vms(bool valid_b)
{
	const struct vm_stats *p[2] = { &raw[0], valid_b ? &raw[1] : NULL };
	int r;

	memset(&s, 0, sizeof(s));
	memset(raw, 0, sizeof(raw));
	s.nvms = 2;
	name_vm(0, "a state=up vmm=10 qemu=0 engine=tcg console=/run/mv/a.console.log\n");
	name_vm(1, "b state=restarting vmm=0 qemu=0 engine=tcg console=/run/mv/b.console.log\n");
	raw[0] = (struct vm_stats){ .magic = STATS_MAGIC, .version = STATS_VERSION, .nlinks = 1,
				    .vmm_starts = 2, .guest_tx_frames = 3, .guest_tx_bytes = 180,
				    .guest_rx_frames = 4, .guest_rx_bytes = 240, .vu_bad_messages = 5,
				    .vq_errors = 6, .vu_connected = 1 };
	for (r = 0; r < DROP__MAX; r++)
		raw[0].drop[r] = 10 + r;
	raw[0].link[0] = (struct link_stats){ .peer = "b", .tx_frames = 7, .tx_bytes = 420, .kicks_sent = 8,
					      .errors = 1, .up = 1, .drop = { [DROP_QUEUE_FULL] = 9 } };
	raw[1] = (struct vm_stats){ .magic = STATS_MAGIC, .version = STATS_VERSION, .nlinks = 1, .vmm_starts = 1 };
	raw[1].link[0] = (struct link_stats){ .peer = "a", .rx_frames = 6, .rx_bytes = 360, .errors = 2, .up = 1 };
	snapshot_fill(&s, p);
}

static void test_status_parse(void **state)
{
	struct status_vm e;

	assert_int_equal(status_parse_line("vm0 state=up  vmm=12\tqemu=0\n", &e), 0);
	assert_string_equal(status_name(&e), "vm0");
	assert_int_equal(e.npairs, 3);
	assert_string_equal(status_key(&e, 1), "vmm");
	assert_string_equal(status_value(&e, 1), "12");
	/* A word without '=' continues the value before it; "=x" has no key. */
	assert_int_equal(status_parse_line("vm1 junk state=degraded reason=qemu exited 3 times =x y=", &e), 0);
	assert_int_equal(e.npairs, 3);
	assert_string_equal(status_value(&e, 1), "qemu exited 3 times");
	assert_string_equal(status_key(&e, 2), "y");
	assert_string_equal(status_value(&e, 2), "");
	assert_int_equal(status_parse_line(" \n", &e), -EINVAL);
	assert_int_equal(status_parse_line("a-name-far-too-long-for-any-vm-to-have state=up", &e), -EINVAL);
}

static void test_status_bounded(void **state)
{
	char line[STATUS_LINE_MAX];
	struct status_vm e;
	size_t n = 0;

	n += snprintf(line + n, sizeof(line) - n, "v");
	while (n + 5 < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, " k=v");
	assert_int_equal(status_parse_line(line, &e), 0);
	assert_int_equal(e.npairs, STATUS_PAIRS_MAX);
	assert_string_equal(status_key(&e, STATUS_PAIRS_MAX - 1), "k");
}

static void test_status_text(void **state)
{
	memset(&s, 0, sizeof(s));
	s.nvms = 2;
	name_vm(0, "vm0  state=up vmm=12\tqemu=0 engine=tcg\n");
	name_vm(1, "vm1 state=degraded reason=qemu exited");
	assert_string_equal(print(report_status_text),
			    "vm0 state=up vmm=12 qemu=0 engine=tcg\n"
			    "vm1 state=degraded reason=qemu exited\n");
}

static const char stats_text[] =
	"vm a tx_frames=3 tx_bytes=180 rx_frames=4 rx_bytes=240 drop_queue_full=10 drop_no_link=11 "
	"drop_spoofed=12 drop_malformed=13 drop_link_down=14 drop_disabled=15 vq_errors=6 vu_bad_messages=5 "
	"vu_connected=1 vmm_starts=2\n"
	"vm b tx_frames=0 tx_bytes=0 rx_frames=0 rx_bytes=0 drop_queue_full=0 drop_no_link=0 drop_spoofed=0 "
	"drop_malformed=0 drop_link_down=0 drop_disabled=0 vq_errors=0 vu_bad_messages=0 vu_connected=0 vmm_starts=1\n"
	"link a->b frames=7 bytes=420 delivered=6 delivered_bytes=360 drop_queue_full=9 drop_no_link=0 "
	"drop_spoofed=0 drop_malformed=0 drop_link_down=0 drop_disabled=0 kicks=8 errors=3 up=1\n"
	"link b->a frames=0 bytes=0 delivered=0 delivered_bytes=0 drop_queue_full=0 drop_no_link=0 "
	"drop_spoofed=0 drop_malformed=0 drop_link_down=0 drop_disabled=0 kicks=0 errors=3 up=1\n";

static void test_stats_text(void **state)
{
	two_vms(true);
	assert_string_equal(print(report_stats_text), stats_text);
}

/* A damaged file can say 2^64-1: shown capped, never negative. */
static void test_counters_capped(void **state)
{
	const struct vm_stats *p[2] = { &raw[0], &raw[1] };

	two_vms(true);
	raw[0].guest_tx_frames = UINT64_MAX;
	raw[0].link[0].errors = INT64_MAX;
	snapshot_fill(&s, p);
	assert_non_null(strstr(print(report_stats_text), "vm a tx_frames=9223372036854775807 "));
	assert_non_null(strstr(print(report_stats_text), " errors=9223372036854775807 "));
}

/* b's counters could not be read: zeros, and no link from it. */
static void test_invalid_vm(void **state)
{
	two_vms(false);
	assert_false(s.vm[1].valid);
	assert_int_equal(s.nlinks, 1);
	assert_non_null(strstr(print(report_stats_text), "\nvm b tx_frames=0 "));
	assert_non_null(strstr(out, "\nlink a->b frames=7 bytes=420 delivered=0 delivered_bytes=0 "));
	assert_non_null(strstr(out, " errors=1 up=1\n"));
}

static int teardown(void **state)
{
	free(out);
	out = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_parse),
		cmocka_unit_test(test_status_bounded),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_stats_text),
		cmocka_unit_test(test_counters_capped),
		cmocka_unit_test(test_invalid_vm),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
