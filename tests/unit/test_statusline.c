/* The supervisor -> CLI seam: what status_line_format writes,
 * status_parse_line reads back unchanged; lines no writer made are split
 * safely. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/statusline.h"
#include "config/config.h"

static void expect(const struct status_vm *e, const char *key, const char *value)
{
	const char *v = status_get(e, key);

	assert_non_null(v);
	assert_string_equal(v, value);
}

static void test_round_trip(void **state)
{
	struct vm_status v = {
		.name = "vm0", .state = "up", .vmm = 1234, .qemu = 99999, .kvm = false,
		.console_log = "/var/lib/multivm/vm0.console.log", .log_bytes_dropped = 18446744073709551615ULL,
	};
	char line[STATUS_LINE_MAX];
	struct status_vm e;
	int n = status_line_format(line, sizeof(line), &v);

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(status_parse_line(line, &e), 0);
	assert_string_equal(status_name(&e), "vm0");
	assert_int_equal(e.npairs, 6);
	expect(&e, "state", "up");
	expect(&e, "vmm", "1234");
	expect(&e, "qemu", "99999");
	expect(&e, "engine", "tcg");
	expect(&e, "console", "/var/lib/multivm/vm0.console.log");
	expect(&e, "log_bytes_dropped", "18446744073709551615");
	assert_null(status_get(&e, "guest"));
	assert_null(status_get(&e, "reason"));

	/* Every optional word, and the longest name a config allows. */
	char name[MV_NAME_MAX];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	v = (struct vm_status){ .name = name, .state = "starting", .kvm = true, .external = true,
				.degraded = true, .console_log = "-" };
	n = status_line_format(line, sizeof(line), &v);
	assert_true(n > 0);
	assert_int_equal(status_parse_line(line, &e), 0);
	assert_string_equal(status_name(&e), name);
	expect(&e, "state", "degraded");
	expect(&e, "engine", "kvm");
	expect(&e, "console", "-");
	expect(&e, "guest", "external");
	expect(&e, "reason", "vmm_not_running");
	expect(&e, "vmm", "0");

	/* A state directory with a blank in its name reads back whole. */
	v = (struct vm_status){ .name = "vm1", .state = "up", .console_log = "/srv/my vms/vm1.log" };
	assert_true(status_line_format(line, sizeof(line), &v) > 0);
	assert_int_equal(status_parse_line(line, &e), 0);
	expect(&e, "console", "/srv/my vms/vm1.log");
	expect(&e, "engine", "tcg");

	/* A tunnel (external too: no QEMU, no console of ours). */
	v = (struct vm_status){ .name = "tun0", .state = "up", .vmm = 4321, .external = true, .tunnel = true,
				.console_log = "-" };
	assert_true(status_line_format(line, sizeof(line), &v) > 0);
	assert_string_equal(line, "tun0 state=up vmm=4321 qemu=0 engine=tcg console=- log_bytes_dropped=0 guest=tunnel\n");
	assert_int_equal(status_parse_line(line, &e), 0);
	expect(&e, "guest", "tunnel");
	expect(&e, "vmm", "4321");
}

static void test_format_refuses(void **state)
{
	char line[STATUS_LINE_MAX], small[16];
	struct vm_status v = { .name = "vm0", .state = "up", .console_log = "-" };

	assert_int_equal(status_line_format(small, sizeof(small), &v), -ENOSPC);
	assert_string_equal(small, "");
	v.name = "vm 0";	/* would read back as name "vm" */
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.name = "a=b";
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.name = "";
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.name = "vm0";
	v.console_log = "/tmp/a  log";	/* two blanks read back as one */
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.console_log = "/tmp/a b=c";	/* would read back as a pair b=c */
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.console_log = "/tmp/log\n";
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.console_log = "/tmp/log ";
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	v.console_log = NULL;
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
	char name[MV_NAME_MAX + 1];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	v.name = name;
	v.console_log = "-";
	assert_int_equal(status_line_format(line, sizeof(line), &v), -EINVAL);
}

static void test_parse(void **state)
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

static void test_parse_bounded(void **state)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
