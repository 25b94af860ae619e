/* Host side of the agent protocol, against a fake agent in a child. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/agent.h"

enum mode { NORMAL, STALE_FIRST, SILENT, LATE_SOCKET };

static char sock[108];
static pid_t child;

/* Reads one request header and its payload; returns the type. */
static int read_req(int fd, char *nonce, char *payload, size_t max)
{
	char line[128];
	size_t n = 0, len;
	char type;

	while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = 0;
	if (sscanf(line, "MVA1 %c %23s %zu", &type, nonce, &len) != 3 || len >= max)
		return -1;
	for (n = 0; n < len;) {
		ssize_t r = read(fd, payload + n, len - n);

		if (r <= 0)
			return -1;
		n += r;
	}
	payload[len] = 0;
	return type;
}

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		_exit(3);
}

static void serve(enum mode m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c;

	if (m == LATE_SOCKET)
		usleep(300 * 1000);	/* the socket appears only later */
	strcpy(sa.sun_path, sock);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0)
		_exit(2);
	while ((c = accept(l, NULL, NULL)) >= 0) {
		char nonce[24], payload[256], out[512];
		int t;

		while ((t = read_req(c, nonce, payload, sizeof(payload))) > 0) {
			if (m == SILENT)
				continue;
			if (t == 'P') {
				snprintf(out, sizeof(out), "MVA1 R %s 0\n", nonce);
				say(c, out);
			} else if (t == 'X') {
				if (m == STALE_FIRST)	/* left over from an earlier client */
					say(c, "MVA1 O oldnonce 5\nstaleMVA1 E oldnonce 1\n9\ngarbage line\n");
				snprintf(out, sizeof(out), "MVA1 O %s %zu\nran: %s", nonce, strlen(payload) + 5, payload);
				say(c, out);
				snprintf(out, sizeof(out), "MVA1 E %s 2\n42", nonce);
				say(c, out);
			}
		}
		close(c);
	}
	_exit(0);
}

static void start(enum mode m)
{
	snprintf(sock, sizeof(sock), "/tmp/mvagent.%d.sock", (int)getpid());
	unlink(sock);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		serve(m);
}

static int stop(void **state)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	child = 0;
	unlink(sock);
	return 0;
}

/* Runs agent_exec with output captured into out. */
static int run(const char *cmd, int timeout_ms, char *out, size_t max)
{
	int p[2], rc;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	rc = agent_exec(sock, cmd, timeout_ms, p[1]);
	close(p[1]);
	n = read(p[0], out, max - 1);
	out[n > 0 ? n : 0] = 0;
	close(p[0]);
	return rc;
}

static void test_ready_and_exec(void **state)
{
	char out[256];

	start(NORMAL);
	assert_int_equal(agent_wait_ready(sock, 5000), 0);
	assert_int_equal(run("echo hi", 5000, out, sizeof(out)), 42);
	assert_string_equal(out, "ran: echo hi");
}

static void test_stale_replies_ignored(void **state)
{
	char out[256];

	start(STALE_FIRST);
	assert_int_equal(run("x", 5000, out, sizeof(out)), 42);
	assert_string_equal(out, "ran: x");
}

static void test_timeout(void **state)
{
	char out[64];

	start(SILENT);
	assert_int_equal(agent_wait_ready(sock, 300), -ETIMEDOUT);
	assert_int_equal(run("x", 300, out, sizeof(out)), -ETIMEDOUT);
}

static void test_no_socket(void **state)
{
	snprintf(sock, sizeof(sock), "/tmp/mvagent.none.%d.sock", (int)getpid());
	assert_int_equal(agent_wait_ready(sock, 200), -ETIMEDOUT);
}

static void test_socket_appears_later(void **state)
{
	char out[64];

	start(LATE_SOCKET);
	assert_int_equal(run("y", 5000, out, sizeof(out)), 42);
}

static void test_command_too_long(void **state)
{
	static char big[70000];

	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(agent_exec("/nonexistent", big, 100, 1), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ready_and_exec, stop),
		cmocka_unit_test_teardown(test_stale_replies_ignored, stop),
		cmocka_unit_test_teardown(test_timeout, stop),
		cmocka_unit_test_teardown(test_no_socket, stop),
		cmocka_unit_test_teardown(test_socket_appears_later, stop),
		cmocka_unit_test_teardown(test_command_too_long, stop),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
