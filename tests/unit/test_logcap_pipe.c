/* A child's log through a pipe into the capped writer (caplog_drain), as
 * the supervisor keeps every VMM's and QEMU's stdout and stderr: a child
 * that writes 1 GiB leaves at most log_max bytes and a .1 of at most
 * log_max, its newest bytes kept, every other byte counted as dropped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logcap.h"

#define GIB	(1ULL << 30)
#define CHUNK	(1 << 20)

static char dir[64], path[96], old[100];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mvlogpipe.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm0.vmm.log", dir);
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

/* A child writing total bytes into a pipe (the last 16 are 'Z'); the
 * read end, non-blocking, as the supervisor holds it. */
static int writer(uint64_t total, pid_t *pid)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		static char buf[CHUNK];
		uint64_t left = total;

		close(p[0]);
		memset(buf, 'a', sizeof(buf));
		while (left > 0) {
			size_t n = left < sizeof(buf) ? left : sizeof(buf);
			ssize_t w;

			if (left <= sizeof(buf))
				memset(buf + n - 16, 'Z', 16);
			w = write(p[1], buf, n);
			if (w <= 0)
				_exit(1);
			left -= w;
			if ((size_t)w < n)	/* rare: finish this chunk's pattern */
				memmove(buf, buf + w, n - w);
		}
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	return p[0];
}

/* Drains fd into l as the supervisor's loop would: a budget per event. */
static void drain(struct capped_log *l, int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	int rc;

	do {
		assert_true(poll(&pf, 1, 10000) == 1);
		rc = caplog_drain(l, fd, 1 << 20);
		assert_true(rc >= 0);
	} while (rc > 0);
}

static void test_gib_bounded(void **state)
{
	const uint64_t max = 1 << 20;
	struct capped_log l;
	char last[16];
	int fd, st;
	pid_t pid;
	FILE *f;

	assert_int_equal(caplog_open(&l, path, max), 0);
	fd = writer(GIB, &pid);
	drain(&l, fd);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	caplog_close(&l);
	assert_true(size_of(path) <= max && size_of(path) > 0);
	assert_true(size_of(old) <= max);
	assert_int_equal(size_of(path) + size_of(old) + l.dropped, GIB);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, -16, SEEK_END), 0);
	assert_int_equal(fread(last, 1, 16, f), 16);
	fclose(f);
	assert_memory_equal(last, "ZZZZZZZZZZZZZZZZ", 16);	/* the newest bytes are kept */
}

/* The logs of an earlier run, past the cap (an older multivm, or a
 * larger log_max then): neither is kept, and both count. */
static void test_old_log_past_cap(void **state)
{
	struct capped_log l;
	int fd, st;
	pid_t pid;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 50000), 0);
	close(fd);
	fd = open(old, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 30000), 0);
	close(fd);
	assert_int_equal(caplog_open(&l, path, 8192), 0);
	assert_int_equal(size_of(old), 0);
	assert_int_equal(l.dropped, 30000);
	fd = writer(100, &pid);
	drain(&l, fd);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	caplog_close(&l);
	assert_int_equal(size_of(path), 100);
	assert_int_equal(size_of(old), 0);
	assert_int_equal(l.dropped, 50000 + 30000);
}

/* Nothing waiting, writer still there: "more may come", nothing read. */
static void test_empty_pipe(void **state)
{
	struct capped_log l;
	int p[2];

	assert_int_equal(caplog_open(&l, path, 8192), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(caplog_drain(&l, p[0], 4096), 1);
	assert_int_equal(write(p[1], "hello\n", 6), 6);
	close(p[1]);
	assert_int_equal(caplog_drain(&l, p[0], 4096), 0);	/* read, then EOF */
	close(p[0]);
	caplog_close(&l);
	assert_int_equal(size_of(path), 6);
	assert_int_equal(l.dropped, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gib_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_log_past_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_pipe, setup, teardown),
	};

	return cmocka_run_group_tests_name("logcap_pipe", tests, NULL, NULL);
}
