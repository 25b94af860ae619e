/* The QGA client (src/cli/agent.c) against fake agents on a socketpair,
 * honest and hostile, and against the built-in guest agent (guest/agent.c,
 * included here without its main) running real commands. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/agent.h"
#include "common/agent_proto.h"

#define AGENT_NO_MAIN
#include "../../guest/agent.c"

enum mode {
	HONEST,		/* sync, exec, one "not yet", then exit 3 with output */
	STALE,		/* garbage and earlier clients' replies before ours */
	SIGNALLED,	/* killed by signal 9 */
	GARBAGE,	/* guest-exec answered with something that is not JSON */
	HUGE_LINE,	/* a reply line without end */
	HUGE_DATA,	/* out-data "of 100 MB", sent until the client gives up */
	BAD_B64,	/* out-data that is not base64 */
	BAD_B64_PAD,	/* base64 whose padding hides set bits */
	NO_CODE,	/* exited, but neither exitcode nor signal */
	BAD_CODE,	/* exitcode 300 */
	REFUSED,	/* guest-exec answered with an error */
	SILENT,		/* reads, never answers */
	SILENT_LATER,	/* syncs, then never answers guest-exec-status */
	WRONG_ID,	/* answers guest-sync-delimited with another id */
	FLOOD,		/* sends garbage without end, never a delimiter */
	NO_EXITED,	/* a status without exited */
};

static pid_t child = -1;
static int host_fd = -1;
static char sock[108];

static void t_put(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			_exit(0);	/* the client hung up: that is how hostile tests end */
		s += n;
		len -= n;
	}
}

static void t_say(int fd, const char *s)
{
	t_put(fd, s, strlen(s));
}

/* The next request (a 0xFF before it dropped), or NULL at EOF. */
static json_t *t_request(int fd)
{
	static char line[1 << 20];
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if ((unsigned char)c == AGENT_DELIM) {
			n = 0;
			continue;
		}
		if (c == '\n') {
			json_t *v = json_loadb(line, n, 0, NULL);

			if (v)
				return v;
			n = 0;
			continue;
		}
		if (n < sizeof(line))
			line[n++] = c;
	}
	return NULL;
}

static void t_stream_forever(int fd, const char *head)
{
	static char chunk[1 << 16];

	memset(chunk, 'A', sizeof(chunk));
	t_say(fd, head);
	for (;;)
		t_put(fd, chunk, sizeof(chunk));	/* ends when the client closes */
}

static void fake(int fd, enum mode m)
{
	json_t *req;
	int polls = 0;
	char out[512];

	if (m == FLOOD)
		t_stream_forever(fd, "{\"garbage\":\"");
	while ((req = t_request(fd))) {
		const char *cmd = json_string_value(json_object_get(req, "execute"));
		json_t *args = json_object_get(req, "arguments");

		if (m == SILENT)
			;
		else if (strcmp(cmd, "guest-sync-delimited") == 0) {
			json_int_t id = json_integer_value(json_object_get(args, "id"));

			if (m == STALE)
				t_say(fd, "garbage line\n{\"return\": {\"pid\": 1}}\n\xff{\"return\": 12345}\n"
					  "\xff{\"return\":\n");
			snprintf(out, sizeof(out), "\xff{\"return\": %lld}\n", (long long)(m == WRONG_ID ? id + 1000 : id));
			t_say(fd, out);
		} else if (strcmp(cmd, "guest-ping") == 0) {
			t_say(fd, "{\"return\": {}}\n");
		} else if (strcmp(cmd, "guest-exec") == 0) {
			json_t *arg = json_object_get(args, "arg");

			if (strcmp(json_string_value(json_object_get(args, "path")), "/bin/sh") ||
			    strcmp(json_string_value(json_array_get(arg, 0)), "-c") ||
			    !json_is_true(json_object_get(args, "capture-output")))
				t_say(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"bad request\"}}\n");
			else if (m == GARBAGE)
				t_say(fd, "{\"return\": {\"pid\": 42}\n");
			else if (m == REFUSED)
				t_say(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\\nway\"}}\n");
			else
				t_say(fd, "{\"return\": {\"pid\": 42}}\n");
		} else if (strcmp(cmd, "guest-exec-status") == 0) {
			if (json_integer_value(json_object_get(args, "pid")) != 42)
				_exit(4);
			if (m == SILENT_LATER)
				continue;
			if (polls++ == 0) {
				t_say(fd, "{\"return\": {\"exited\": false}}\n");
				continue;
			}
			switch (m) {
			case HUGE_LINE:
				t_stream_forever(fd, "{\"return\": {\"exited\": true, \"exitcode\": 0, \"x\": \"");
				break;
			case HUGE_DATA:
				t_stream_forever(fd, "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": \"");
				break;
			case BAD_B64:
				t_say(fd, "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": \"aGk!\"}}\n");
				break;
			case BAD_B64_PAD:
				t_say(fd, "{\"return\": {\"exited\": true, \"exitcode\": 0, \"out-data\": \"aGl=\"}}\n");
				break;
			case NO_CODE:
				t_say(fd, "{\"return\": {\"exited\": true, \"out-data\": \"aGk=\"}}\n");
				break;
			case BAD_CODE:
				t_say(fd, "{\"return\": {\"exited\": true, \"exitcode\": 300}}\n");
				break;
			case NO_EXITED:
				t_say(fd, "{\"return\": {\"exitcode\": 0}}\n");
				break;
			case SIGNALLED:
				t_say(fd, "{\"return\": {\"exited\": true, \"signal\": 9, \"err-data\": \"S2lsbGVkCg==\"}}\n");
				break;
			default:	/* "hello\n" and "oops\n" */
				t_say(fd, "{\"return\": {\"exited\": true, \"exitcode\": 3, \"out-data\": \"aGVsbG8K\", "
					  "\"err-data\": \"b29wcwo=\", \"out-truncated\": false}}\n");
			}
		}
		json_decref(req);
	}
	_exit(0);
}

/* A fake agent of mode m (or the built-in agent, m < 0) on a socketpair. */
static void start(int m)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(sv[0]);
		if (m < 0) {
			serve(sv[1], 1);
			_exit(0);
		}
		fake(sv[1], m);
	}
	close(sv[1]);
	host_fd = sv[0];
}

static int stop(void **state)
{
	if (host_fd >= 0)
		close(host_fd);
	host_fd = -1;
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	child = -1;
	if (sock[0])
		unlink(sock);
	sock[0] = 0;
	return 0;
}

static long long t_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static char out_buf[1 << 20], err_buf[4096];

/* agent_exec_fd with stdout and stderr into memory files, read back into
 * out_buf and err_buf. */
static int run(const char *cmd, int timeout_ms)
{
	int o = memfd_create("out", 0), e = memfd_create("err", 0), rc;
	ssize_t n;

	assert_true(o >= 0 && e >= 0);
	rc = agent_exec_fd(host_fd, cmd, timeout_ms, o, e);
	n = pread(o, out_buf, sizeof(out_buf) - 1, 0);
	out_buf[n > 0 ? n : 0] = 0;
	n = pread(e, err_buf, sizeof(err_buf) - 1, 0);
	err_buf[n > 0 ? n : 0] = 0;
	close(o);
	close(e);
	return rc;
}

static void test_exec(void **state)
{
	start(HONEST);
	assert_int_equal(agent_ping_fd(host_fd, 5000), 0);
	assert_int_equal(run("echo hi", 5000), 3);
	assert_string_equal(out_buf, "hello\n");
	assert_string_equal(err_buf, "oops\n");
}

static void test_stale_replies_skipped(void **state)
{
	start(STALE);
	assert_int_equal(run("x", 5000), 3);
	assert_string_equal(out_buf, "hello\n");
}

static void test_signal(void **state)
{
	start(SIGNALLED);
	assert_int_equal(run("x", 5000), 128 + 9);
	assert_string_equal(err_buf, "Killed\n");
}

/* Each hostile answer is refused quickly, nothing of it written out. */
static void hostile(enum mode m, int want)
{
	long long t0 = t_ms();

	start(m);
	assert_int_equal(run("x", 10000), want);
	assert_string_equal(out_buf, "");
	assert_true(t_ms() - t0 < 9000);
	stop(NULL);
}

static void test_hostile_replies(void **state)
{
	hostile(GARBAGE, -EPROTO);
	hostile(BAD_B64, -EPROTO);
	hostile(BAD_B64_PAD, -EPROTO);
	hostile(NO_CODE, -EPROTO);
	hostile(BAD_CODE, -EPROTO);
	hostile(NO_EXITED, -EPROTO);
	hostile(REFUSED, -EREMOTEIO);
}

static void test_huge_replies(void **state)
{
	hostile(HUGE_LINE, -EMSGSIZE);
	hostile(HUGE_DATA, -EMSGSIZE);
}

/* Silence, wrong ids, or an endless flood before a sync: no agent, in time. */
static void no_agent(enum mode m)
{
	long long t0 = t_ms();

	start(m);
	assert_int_equal(run("x", 1500), AGENT_ENOAGENT);
	assert_true(t_ms() - t0 < 2500);
	stop(NULL);
	t0 = t_ms();
	start(m);
	assert_int_equal(agent_ping_fd(host_fd, 300), AGENT_ENOAGENT);
	assert_true(t_ms() - t0 < 1300);
	stop(NULL);
}

static void test_no_agent(void **state)
{
	no_agent(SILENT);
	no_agent(WRONG_ID);
	no_agent(FLOOD);
}

static void test_silent_after_sync(void **state)
{
	long long t0 = t_ms();

	start(SILENT_LATER);
	assert_int_equal(run("x", 700), -ETIMEDOUT);
	assert_true(t_ms() - t0 < 1700);
}

static void test_command_too_long(void **state)
{
	static char big[AGENT_MAX_CMD + 2];

	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(agent_exec("/nonexistent", big, 100, 1, 2), -E2BIG);
}

static void test_no_socket(void **state)
{
	long long t0 = t_ms();

	snprintf(sock, sizeof(sock), "/tmp/mvagent.none.%d.sock", (int)getpid());
	assert_int_equal(agent_ping(sock, 300), AGENT_ENOAGENT);
	assert_int_equal(agent_exec(sock, "true", 300, 1, 2), AGENT_ENOAGENT);
	assert_true(t_ms() - t0 < 1500);
	sock[0] = 0;
}

/* By path: the socket appears only later, as while QEMU starts. */
static void test_socket_appears_later(void **state)
{
	int o = memfd_create("out", 0), e = memfd_create("err", 0);
	char got[64] = "";

	snprintf(sock, sizeof(sock), "/tmp/mvagent.%d.sock", (int)getpid());
	unlink(sock);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_STREAM, 0), c;

		usleep(300 * 1000);
		strcpy(sa.sun_path, sock);
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0)
			_exit(2);
		c = accept(l, NULL, NULL);
		fake(c, HONEST);
	}
	assert_int_equal(agent_exec(sock, "y", 5000, o, e), 3);
	assert_true(pread(o, got, sizeof(got) - 1, 0) > 0);
	assert_string_equal(got, "hello\n");
	close(o);
	close(e);
}

/* The built-in agent, running real commands. */
static void test_guest_agent(void **state)
{
	static char cmd[128];
	long long t0;
	size_t i;

	start(-1);
	assert_int_equal(agent_ping_fd(host_fd, 5000), 0);
	assert_int_equal(run("echo out; echo err >&2; exit 7", 5000), 7);
	assert_string_equal(out_buf, "out\n");
	assert_string_equal(err_buf, "err\n");
	assert_int_equal(run("kill -9 $$", 5000), 128 + 9);
	assert_int_equal(run("echo 'quote\" back\\\\slash' | tr -d '\\n'", 5000), 0);
	assert_string_equal(out_buf, "quote\" back\\slash");
	/* A background process holding the pipe does not hold up the command. */
	t0 = t_ms();
	assert_int_equal(run("sleep 3 & echo started", 5000), 0);
	assert_string_equal(out_buf, "started\n");
	assert_true(t_ms() - t0 < 2500);
	assert_int_equal(run("echo next", 5000), 0);
	assert_string_equal(out_buf, "next\n");
	/* Output larger than a pipe, bytes of every value. */
	snprintf(cmd, sizeof(cmd), "head -c 300000 /dev/zero | tr '\\0' '\\377'; printf '\\001\\002'");
	assert_int_equal(run(cmd, 10000), 0);
	for (i = 0; i < 300000; i++)
		if ((unsigned char)out_buf[i] != 0xff)
			fail_msg("byte %zu is %#x", i, (unsigned char)out_buf[i]);
	assert_int_equal(out_buf[300000], 1);
	assert_int_equal(out_buf[300001], 2);
	/* Slower than its timeout: the client gives up in time. */
	t0 = t_ms();
	assert_int_equal(run("sleep 2", 500), -ETIMEDOUT);
	assert_true(t_ms() - t0 < 1500);
}

/* Garbage, a half request and a request it does not know, before a client
 * that syncs: the agent answers it all the same. */
static void test_guest_agent_garbage(void **state)
{
	static const char junk[] = "garbage\n{\"execute\": \"guest-nothing\"}\n[1,2]\n{\"execute\": \"guest-ex";

	start(-1);
	assert_int_equal((int)write(host_fd, junk, sizeof(junk) - 1), (int)sizeof(junk) - 1);
	assert_int_equal(run("echo fine", 5000), 0);
	assert_string_equal(out_buf, "fine\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exec, stop),
		cmocka_unit_test_teardown(test_stale_replies_skipped, stop),
		cmocka_unit_test_teardown(test_signal, stop),
		cmocka_unit_test_teardown(test_hostile_replies, stop),
		cmocka_unit_test_teardown(test_huge_replies, stop),
		cmocka_unit_test_teardown(test_no_agent, stop),
		cmocka_unit_test_teardown(test_silent_after_sync, stop),
		cmocka_unit_test_teardown(test_command_too_long, stop),
		cmocka_unit_test_teardown(test_no_socket, stop),
		cmocka_unit_test_teardown(test_socket_appears_later, stop),
		cmocka_unit_test_teardown(test_guest_agent, stop),
		cmocka_unit_test_teardown(test_guest_agent_garbage, stop),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
