/* The console side of the supervisor without QEMU: a VM's console (ready
 * line split across reads, keys queued for a guest that reads slowly),
 * the escape keys typed at a terminal (Return ~ ., Return @ N, Return @ #
 * N Return), the multiplexer's Return @ N switching and backlog, and the
 * hub that turns a ready line on a real socket into CONSOLE_READY. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "console/consoles.h"
#include "console/mux.h"
#include "console/relay.h"
#include "console/vmconsole.h"

static char dir[64], sock[96];

static int setup(void **st)
{
	snprintf(dir, sizeof(dir), "/tmp/mvc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/vm1.console", dir);
	return 0;
}

static int teardown(void **st)
{
	char p[128];

	unlink(sock);
	snprintf(p, sizeof(p), "%s/vm1.console.log", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* A listening socket at sock, as QEMU's console is. */
static int qemu_side(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static bool scan(struct vm_console *c, const char *text)
{
	return vmcon_scan(c, text, strlen(text));
}

static void test_ready_scan(void **st)
{
	static struct vm_console c;
	char longline[VMCON_LINE_MAX + 40];

	vmcon_init(&c, "vm1", -1, 7);
	assert_false(scan(&c, "booting...\r\nmultivm: v"));
	assert_false(scan(&c, "m1 rea"));
	assert_false(scan(&c, "dy"));		/* not before the line ends */
	assert_true(scan(&c, "\r\n# "));
	assert_false(scan(&c, "multivm: vm10 ready\n"));	/* another VM */
	assert_false(scan(&c, "multivm: vm0 ready\n"));
	assert_true(scan(&c, "[ 1.0] multivm: vm1 ready (eth0 up)\n"));
	/* The scan keeps the start of a long line only. */
	memset(longline, 'x', VMCON_LINE_MAX);
	snprintf(longline + VMCON_LINE_MAX, 40, "multivm: vm1 ready\n");
	assert_false(scan(&c, longline));
	assert_true(scan(&c, "multivm: vm1 ready\r"));
}

static void test_input_queue(void **st)
{
	static struct vm_console c;
	struct epoll_event ev;
	char big[VMCON_INQ_MAX + 100], junk[65536];
	int lfd = qemu_side(), peer, ep = epoll_create1(EPOLL_CLOEXEC);
	size_t total = 0;
	ssize_t n;

	vmcon_init(&c, "vm1", ep, 7);
	assert_int_equal(vmcon_send(&c, "lost", 4), 0);	/* not connected: nothing queued */
	assert_int_equal(c.inq_len, 0);
	assert_int_equal(vmcon_connect(&c, sock), 0);
	peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);

	/* A guest that does not read: the socket fills, keys wait. */
	memset(junk, 'j', sizeof(junk));
	while ((n = write(c.fd, junk, sizeof(junk))) > 0)
		total += n;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(vmcon_send(&c, "ls\r", 3), 0);
	assert_int_equal(vmcon_flush(&c), 0);
	assert_int_equal(c.inq_len, 3);
	assert_true(c.want_out);
	memset(big, 'k', sizeof(big));
	assert_int_equal(vmcon_send(&c, big, sizeof(big)), 3 + 100);	/* the rest is dropped */
	assert_int_equal(c.inq_len, VMCON_INQ_MAX);

	/* The guest reads: EPOLLOUT, and the queue drains in order. */
	while (total) {
		n = read(peer, junk, sizeof(junk));
		assert_true(n > 0);
		total -= n;
	}
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_int_equal(ev.data.u32, 7);
	assert_true(ev.events & EPOLLOUT);
	while (c.inq_len) {
		assert_int_equal(vmcon_flush(&c), 0);
		n = read(peer, junk, sizeof(junk));
		assert_true(n > 0);
		total += n;
	}
	assert_false(c.want_out);
	assert_int_equal(total, VMCON_INQ_MAX);
	assert_memory_equal(junk + n - 1, "k", 1);

	/* QEMU goes away: the console closes and forgets its queue. */
	close(peer);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	{
		bool ready;
		char buf[16];

		assert_int_equal(vmcon_read(&c, buf, sizeof(buf), &ready), -1);
	}
	assert_false(vmcon_connected(&c));
	close(lfd);
	close(ep);
}

/* ---- the multiplexer ---- */

static char sent[3][256];
static size_t sent_len[3];

static void to_vm(void *ctx, unsigned vm, const char *buf, size_t n)
{
	memcpy(sent[vm] + sent_len[vm], buf, n);
	sent_len[vm] += n;
}

static const char *state(void *ctx, unsigned vm)
{
	return "up";
}

static void input(struct mux *m, int v, const char *s, bool stays)
{
	assert_int_equal(mux_input(m, v, s, strlen(s)), stays);
}

/* What the viewer was shown since the last call. */
static const char *shown(int fd)
{
	static char out[4096];
	ssize_t n = read(fd, out, sizeof(out) - 1);

	out[n > 0 ? n : 0] = 0;
	return out;
}

static void test_mux_switching(void **st)
{
	static struct mux m;
	static struct config cfg;
	struct mux_ops ops = { .to_vm = to_vm, .state = state };
	char err[CFG_ERR_MAX];
	int p[2], v;

	memset(sent_len, 0, sizeof(sent_len));
	assert_int_equal(config_load_default(&cfg, err, sizeof(err)), 0);	/* vm0, vm1, vm2 */
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	mux_init(&m, &cfg, &ops);
	v = mux_add_viewer(&m, 100, p[1], 0, true);
	assert_true(v >= 0);
	assert_non_null(strstr(shown(p[0]), "showing vm0 (up)"));

	mux_output(&m, 1, "vm1 said this meanwhile\n", 24);
	assert_string_equal(shown(p[0]), "");		/* not shown: vm0 is */
	input(&m, v, "ab\r@1cd", true);
	assert_int_equal(sent_len[0], 3);
	assert_memory_equal(sent[0], "ab\r", 3);
	assert_int_equal(sent_len[1], 2);
	assert_memory_equal(sent[1], "cd", 2);
	{
		const char *out = shown(p[0]);

		assert_non_null(strstr(out, "showing vm1"));
		assert_non_null(strstr(out, "vm1 said this meanwhile"));	/* the backlog */
	}

	/* Split across reads, and the escapes for a literal @ and ~. */
	input(&m, v, "\r", true);
	input(&m, v, "@", true);
	input(&m, v, "2", true);
	assert_non_null(strstr(shown(p[0]), "showing vm2"));
	input(&m, v, "x@y\r@@\r~~", true);
	assert_int_equal(sent_len[2], 7);
	assert_memory_equal(sent[2], "x@y\r@\r~", 7);
	input(&m, v, "\r@?", true);
	{
		const char *out = shown(p[0]);

		assert_non_null(strstr(out, "@1  vm1"));
		assert_non_null(strstr(out, "(shown)"));
	}
	input(&m, v, "\r@f", true);
	assert_non_null(strstr(shown(p[0]), "no such VM"));
	input(&m, v, "\r~.", false);	/* leave */
	close(p[0]);
	close(p[1]);
}

static void test_mux_client_hello(void **st)
{
	static struct mux m;
	static struct config cfg;
	struct mux_ops ops = { .to_vm = to_vm, .state = state };
	char err[CFG_ERR_MAX];
	int p[2], v;

	assert_int_equal(config_load_default(&cfg, err, sizeof(err)), 0);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	mux_init(&m, &cfg, &ops);
	v = mux_add_viewer(&m, 100, p[1], -1, false);
	input(&m, v, "vm", true);
	assert_string_equal(shown(p[0]), "");
	input(&m, v, "2\n", true);
	assert_non_null(strstr(shown(p[0]), "showing vm2 (up); Return @ ? lists VMs, Return ~ . leaves"));
	v = mux_add_viewer(&m, 101, p[1], -1, false);
	input(&m, v, "vm9\n", false);
	assert_non_null(strstr(shown(p[0]), "no such VM"));
	close(p[0]);
	close(p[1]);
}

/* ---- the hub ---- */

static void test_consoles_ready_event(void **st)
{
	static struct consoles c;
	static struct config cfg;
	struct console_tags tags = { .vm = 0, .listen = 1000, .viewer = 2000 };
	struct epoll_event ev;
	char err[CFG_ERR_MAX], p[128], text[64] = "";
	int lfd = qemu_side(), peer, ep = epoll_create1(EPOLL_CLOEXEC), fd;
	unsigned vm = 99;

	assert_int_equal(config_load_default(&cfg, err, sizeof(err)), 0);
	consoles_init(&c, &cfg, ep, tags, -1);
	snprintf(p, sizeof(p), "%s/vm1.console.log", dir);
	assert_int_equal(consoles_log(&c, 1, p, 1 << 20), 0);
	assert_false(consoles_owns(&c, 3));
	assert_true(consoles_owns(&c, 1) && consoles_owns(&c, 1000) && consoles_owns(&c, 2003));
	assert_int_equal(consoles_connect(&c, 1, sock), 0);
	assert_true(consoles_connected(&c, 1));
	peer = accept(lfd, NULL, NULL);
	assert_int_equal(write(peer, "multivm: vm1 re", 15), 15);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_int_equal(consoles_event(&c, ev.data.u32, ev.events, &vm), CONSOLE_NONE);
	assert_int_equal(write(peer, "ady\n", 4), 4);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_int_equal(consoles_event(&c, ev.data.u32, ev.events, &vm), CONSOLE_READY);
	assert_int_equal(vm, 1);
	fd = open(p, O_RDONLY);	/* the transcript has all of it */
	assert_int_equal(read(fd, text, sizeof(text) - 1), 19);
	assert_string_equal(text, "multivm: vm1 ready\n");
	close(fd);
	consoles_close(&c, 1);
	caplog_close(&c.log[1]);
	close(peer);
	close(lfd);
	close(ep);
}

/* Feeds text; returns the first escape and what reached the guest. */
static int filter(struct relay *r, const char *in, char *out, int *vm)
{
	size_t n = strlen(in), o = 0, olen;
	enum relay_event ev = RELAY_NONE;

	while (n && ev == RELAY_NONE) {
		size_t used = relay_input(r, in, n, out + o, &olen, &ev, vm);

		o += olen;
		in += used;
		n -= used;
	}
	out[o] = 0;
	return ev;
}

static void test_escape(void **st)
{
	struct relay r;
	char out[64];
	int vm = -1;

	relay_init(&r);
	assert_int_equal(filter(&r, "ls ~/x a@b\r", out, &vm), RELAY_NONE);	/* mid-line: untouched */
	assert_string_equal(out, "ls ~/x a@b\r");
	assert_int_equal(filter(&r, "~~", out, &vm), RELAY_NONE);	/* Return ~ ~ sends one ~ */
	assert_string_equal(out, "~");
	assert_int_equal(filter(&r, "\r@@", out, &vm), RELAY_NONE);	/* Return @ @ sends one @ */
	assert_string_equal(out, "\r@");
	assert_int_equal(filter(&r, "\r@x", out, &vm), RELAY_NONE);	/* not an escape: both keys */
	assert_string_equal(out, "\r@x");
	assert_int_equal(filter(&r, "\r@2", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "\r");
	assert_int_equal(vm, 2);
	assert_int_equal(filter(&r, "@b", out, &vm), RELAY_SWITCH);	/* right after a switch */
	assert_int_equal(vm, 11);
	assert_int_equal(filter(&r, "@?", out, &vm), RELAY_LIST);
	/* The terminal's answer to the shell's cursor query changes nothing. */
	assert_int_equal(filter(&r, "\r\x1b[50;8R@1", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "\r\x1b[50;8R");
	assert_int_equal(vm, 1);
	assert_int_equal(filter(&r, "\r@\x1b[1;1R3", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 3);
	assert_int_equal(filter(&r, "\r~", out, &vm), RELAY_NONE);	/* split across reads */
	assert_string_equal(out, "\r");
	assert_int_equal(filter(&r, ".rest", out, &vm), RELAY_QUIT);
	assert_string_equal(out, "");
}

/* Return @ # N Return: any of 64 VMs by its decimal index. */
static void test_escape_index(void **st)
{
	struct relay r;
	char out[64];
	int vm = -1;

	relay_init(&r);
	assert_int_equal(filter(&r, "@#42\r", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "");
	assert_int_equal(vm, 42);
	assert_int_equal(filter(&r, "@#7\n", out, &vm), RELAY_SWITCH);	/* right after a switch; \n too */
	assert_int_equal(vm, 7);
	assert_int_equal(filter(&r, "@#063\r", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 63);
	/* Split across reads, a terminal answer in between. */
	assert_int_equal(filter(&r, "@#1", out, &vm), RELAY_NONE);
	assert_string_equal(out, "");
	assert_int_equal(filter(&r, "\x1b[5;1R", out, &vm), RELAY_NONE);
	assert_int_equal(filter(&r, "6\r", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 16);
	/* Not an index: the guest gets every key typed. */
	assert_int_equal(filter(&r, "@#4x", out, &vm), RELAY_NONE);
	assert_string_equal(out, "@#4x");
	assert_int_equal(filter(&r, "\r@#\r", out, &vm), RELAY_NONE);	/* no digit */
	assert_string_equal(out, "\r@#\r");
	assert_int_equal(filter(&r, "@#1234\r", out, &vm), RELAY_NONE);	/* a fourth digit */
	assert_string_equal(out, "@#1234\r");
	/* Mid-line it is text; the single keys still work. */
	assert_int_equal(filter(&r, "a@#1\r", out, &vm), RELAY_NONE);
	assert_string_equal(out, "a@#1\r");
	assert_int_equal(filter(&r, "@f", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_scan),
		cmocka_unit_test_setup_teardown(test_input_queue, setup, teardown),
		cmocka_unit_test(test_escape), cmocka_unit_test(test_escape_index),
		cmocka_unit_test(test_mux_switching),
		cmocka_unit_test(test_mux_client_hello),
		cmocka_unit_test_setup_teardown(test_consoles_ready_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
