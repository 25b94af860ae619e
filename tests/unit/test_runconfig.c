/* The running configuration, STATE/run: written by the supervisor (and
 * apply) with state_write_run(), read back by config and apply with
 * config_read_text(), byte for byte; what config_read_text refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/text.h"
#include "supervisor/state.h"

static char dir[64];
static char buf[CFG_TEXT_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mvrun.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_round_trip(void **state)
{
	char p[STATE_PATH_MAX], err[CFG_ERR_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(state_write_run(dir, "(built-in)", config_default_text), 0);
	assert_int_equal(state_file(p, dir, NULL, SF_RUN), 0);
	assert_int_equal(config_read_text(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, config_default_text);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A second write replaces it whole (renamed over: readers see one or the other). */
	assert_int_equal(state_write_run(dir, "/etc/multivm/a.ini", "[vm a]\n"), 0);
	assert_int_equal(config_read_text(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "[vm a]\n");
	assert_int_equal(state_file(p, dir, NULL, SF_RUN_NAME), 0);
	assert_int_equal(config_read_text(p, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "/etc/multivm/a.ini");
	assert_int_equal(state_file(p, dir, NULL, SF_RUN_TMP), 0);
	assert_int_equal(access(p, F_OK), -1);
}

static void write_file(const char *p, const char *data, size_t len)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_refused(void **state)
{
	char p[128], err[CFG_ERR_MAX], want[256], small[16];
	static struct config c;

	(void)state;
	/* The message config_load_file gives for a file it cannot open. */
	snprintf(p, sizeof(p), "%s/none.ini", dir);
	assert_int_equal(config_read_text(p, buf, sizeof(buf), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", p);
	assert_string_equal(err, want);
	assert_int_equal(config_load_file(&c, p, want, sizeof(want)), -1);
	assert_string_equal(err, want);
	/* A NUL byte is not text: named by its line. */
	snprintf(p, sizeof(p), "%s/nul.ini", dir);
	write_file(p, "[vm a]\n\n[vm \0b]\n", 16);
	assert_int_equal(config_read_text(p, buf, sizeof(buf), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: a NUL byte: not a text file", p);
	assert_string_equal(err, want);
	/* Exactly what fits is read; a byte more is refused. */
	snprintf(p, sizeof(p), "%s/big.ini", dir);
	write_file(p, "0123456789abcde", 15);
	assert_int_equal(config_read_text(p, small, sizeof(small), err, sizeof(err)), 0);
	assert_string_equal(small, "0123456789abcde");
	write_file(p, "0123456789abcdef", 16);
	assert_int_equal(config_read_text(p, small, sizeof(small), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 15 bytes", p);
	assert_string_equal(err, want);
	write_file(p, "", 0);
	assert_int_equal(config_read_text(p, small, sizeof(small), err, sizeof(err)), 0);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
