/* Logs a guest can make grow stay bounded: the console transcript rotates
 * at its cap, logs other processes append to are trimmed in place, and a
 * process that logs in a loop is rate-limited. Nothing is lost silently. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/logcap.h"

static char dir[64], path[96], old[100];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mvlog.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm0.console.log", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	unlink(old);
	rmdir(dir);
	return 0;
}

static uint64_t size_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* 1 MB of console output against a 16 KiB cap: two files of at most the
 * cap, the newest bytes kept, every other byte counted as dropped. */
static void test_console_rotates(void **state)
{
	struct capped_log l;
	char buf[1000], last[16];
	unsigned i;
	FILE *f;

	assert_int_equal(caplog_open(&l, path, 16384), 0);
	for (i = 0; i < 1000; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		caplog_write(&l, buf, sizeof(buf));
	}
	caplog_close(&l);
	assert_true(size_of(path) <= 16384);
	assert_true(size_of(old) <= 16384 && size_of(old) > 0);
	assert_int_equal(size_of(path) + size_of(old) + l.dropped, 1000 * sizeof(buf));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, -16, SEEK_END), 0);
	assert_int_equal(fread(last, 1, 16, f), 16);
	fclose(f);
	assert_memory_equal(last, "llllllllllllllll", 16);	/* 999 % 26 = 11: 'l' */
	/* A write larger than the cap keeps its newest cap bytes. */
	assert_int_equal(caplog_open(&l, path, 4096), 0);
	{
		char big[10000];

		memset(big, 'x', sizeof(big));
		caplog_write(&l, big, sizeof(big));
	}
	caplog_close(&l);
	assert_int_equal(size_of(path), 4096);
}

/* A log another process appends to: trimmed into PATH.1 once past max,
 * and the writer's next line lands at the start of the emptied file. */
static void test_trim_in_place(void **state)
{
	char line[100];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600), i;

	assert_true(fd >= 0);
	memset(line, 'v', sizeof(line));
	for (i = 0; i < 50; i++)
		assert_int_equal(write(fd, line, sizeof(line)), sizeof(line));
	assert_int_equal(caplog_trim(path, 10000), 0);	/* under the cap: untouched */
	assert_int_equal(size_of(path), 5000);
	assert_int_equal(caplog_trim(path, 4096), 0);	/* nothing older to drop yet */
	assert_int_equal(size_of(path), 0);
	assert_int_equal(size_of(old), 5000);
	assert_int_equal(write(fd, line, sizeof(line)), sizeof(line));
	assert_int_equal(size_of(path), sizeof(line));
	for (i = 0; i < 49; i++)
		assert_int_equal(write(fd, line, sizeof(line)), sizeof(line));
	assert_int_equal(caplog_trim(path, 4096), 5000);	/* the old PATH.1 */
	close(fd);
}

/* A loop of log lines: LOG_BURST pass, the rest are held back and said. */
static void test_rate_limit(void **state)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(2), i, lines = 0;
	struct timespec pause = { 0, 300 * 1000000 };	/* refills 3 lines */
	char buf[256];
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	for (i = 0; i < 1000; i++)
		log_info("ring broken, device reset (%d)", i);
	nanosleep(&pause, NULL);
	log_info("after the pause");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		lines++;
	fclose(f);
	/* The burst, a line or two refilled meanwhile, the notice, the last. */
	assert_true(lines >= LOG_BURST + 2 && lines <= LOG_BURST + 5);
	f = fopen(path, "r");
	while (fgets(buf, sizeof(buf), f) && !strstr(buf, "lines held back"))
		;
	fclose(f);
	assert_non_null(strstr(buf, "lines held back by the log rate limit (10 lines/s)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_console_rotates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	};

	return cmocka_run_group_tests_name("logs", tests, NULL, NULL);
}
