/* The QMP client (common/qmp.c) against fake QEMUs on a socketpair: the
 * greeting, qmp_capabilities and set_link as QEMU answers them, QEMU's own
 * errors, and hostile monitors (garbage, a huge line, another command's
 * answer, a closed socket, silence: the deadline). What a fake says is
 * written before the client runs (the socket buffers it); what the
 * client sent is read after. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 19, \"minor\": 2, \"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n"

static struct qmp q;
static char err[400];
static int fake = -1;	/* the fake QEMU's end */

/* A client end, with the fake's scripted lines already sent. */
static int pair(const char *script)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake = sv[1];
	if (script && *script)
		assert_int_equal(write(fake, script, strlen(script)), (ssize_t)strlen(script));
	return sv[0];
}

/* What the client sent, all of it. */
static const char *sent(void)
{
	static char buf[4096];
	ssize_t n;

	n = recv(fake, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = 0;
	close(fake);
	fake = -1;
	return buf;
}

static void test_honest(void **state)
{
	int fd = pair(GREETING "{\"return\": {}, \"id\": 1}\r\n"
		      "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"NIC_RX_FILTER_CHANGED\"}\r\n"
		      "{\"return\": {}, \"id\": 2}\r\n" "{\"return\": {}, \"id\": 3}\r\n");

	assert_int_equal(qmp_open(&q, fd, qmp_now_ms() + 2000, err, sizeof(err)), 0);
	assert_int_equal(qmp_set_link(&q, "nic-eth1", false, err, sizeof(err)), 0);
	assert_int_equal(qmp_set_link(&q, "nic-eth2", true, err, sizeof(err)), 0);
	qmp_close(&q);
	assert_string_equal(sent(), "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
			    "{\"execute\":\"set_link\",\"id\":2,\"arguments\":{\"name\":\"nic-eth1\",\"up\":false}}\n"
			    "{\"execute\":\"set_link\",\"id\":3,\"arguments\":{\"name\":\"nic-eth2\",\"up\":true}}\n");
}

static void test_qemu_error(void **state)
{
	int fd = pair(GREETING "{\"return\": {}, \"id\": 1}\r\n"
		      "{\"id\": 2, \"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'nic-x' not found\"}}\r\n");

	assert_int_equal(qmp_open(&q, fd, qmp_now_ms() + 2000, err, sizeof(err)), 0);
	assert_int_equal(qmp_set_link(&q, "nic-x", false, err, sizeof(err)), -1);
	assert_string_equal(err, "QMP: set_link: Device 'nic-x' not found");
	qmp_close(&q);
	sent();
}

/* Each refused with its message, within the deadline. */
static void hostile(const char *script, size_t repeat, const char *want)
{
	long long t0 = qmp_now_ms();
	int fd = pair(script);
	size_t i;

	if (repeat) {	/* a line with no end */
		char *junk = malloc(repeat);

		assert_non_null(junk);
		memset(junk, 'a', repeat);
		for (i = 0; i < repeat;) {
			ssize_t n = write(fake, junk + i, repeat - i);

			assert_true(n > 0);
			i += n;
		}
		free(junk);
	}
	assert_int_equal(qmp_open(&q, fd, t0 + 300, err, sizeof(err)), -1);
	qmp_close(&q);
	if (strcmp(err, want) != 0)
		fail_msg("script %.60s: want '%s', got '%s'", script, want, err);
	assert_true(qmp_now_ms() - t0 < 2000);
	sent();
}

static void test_hostile(void **state)
{
	long long t0;

	hostile("hello\r\n", 0, "QMP: QEMU sent something that is not a JSON object");
	hostile("[1, 2]\n", 0, "QMP: QEMU sent something that is not a JSON object");
	hostile("{\"QMP\": 1, \"QMP\": 2}\n", 0, "QMP: QEMU sent something that is not a JSON object");
	hostile("{\"hello\": {}}\n", 0, "QMP: the greeting is not QEMU's ({\"QMP\": ...})");
	hostile("", QMP_LINE_MAX + 10, "QMP: QEMU sent a message longer than 16384 bytes");
	hostile(GREETING "{\"return\": {}, \"id\": 7}\n", 0, "QMP: qmp_capabilities: QEMU answered another command");
	hostile(GREETING "{\"id\": 1}\n", 0,
		"QMP: qmp_capabilities: QEMU's answer is neither a return nor an error");
	hostile(GREETING "{\"id\": 1, \"error\": 5}\n", 0,
		"QMP: qmp_capabilities: QEMU's answer is neither a return nor an error");
	/* Silence, and events that never end in an answer: the deadline. */
	t0 = qmp_now_ms();
	hostile("", 0, "QMP: QEMU did not answer in time");
	assert_true(qmp_now_ms() - t0 >= 290);
	hostile(GREETING "{\"event\": \"X\"}\n{\"event\": \"Y\"}\n", 0, "QMP: QEMU did not answer in time");
	/* Gone midway. */
	{
		int fd = pair("{\"QMP\": {}}\n");

		close(fake);
		fake = -1;
		assert_int_equal(qmp_open(&q, fd, qmp_now_ms() + 300, err, sizeof(err)), -1);
		assert_string_equal(err, "QMP: QEMU closed the connection");
		qmp_close(&q);
	}
}

/* The whole exchange by path, against a listening socket; nobody there. */
static void test_by_path(void **state)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test_qmp.XXXXXX", path[64];
	const char *names[2] = { "nic-eth1", "nic-eth0" };
	const bool up[2] = { false, true };
	int l, c;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm0.qmp", dir);
	assert_int_equal(qmp_set_links(path, names, up, 2, 300, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot connect"));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	/* Connected before QEMU would accept: the backlog holds it. */
	c = qmp_connect(path);
	assert_true(c >= 0);
	close(c);
	c = accept(l, NULL, NULL);
	close(c);
	/* The answers written as soon as the client connects would be ideal;
	 * a fake that never accepts shows the deadline instead. */
	assert_int_equal(qmp_set_links(path, names, up, 2, 200, err, sizeof(err)), -1);
	assert_string_equal(err, "QMP: QEMU did not answer in time");
	close(l);
	assert_int_equal(qmp_set_links(path, names, up, 2, 200, err, sizeof(err)), -ECONNREFUSED);
	unlink(path);
	rmdir(dir);
}

/* device_del: its DEVICE_DELETED awaited, whether it comes before the
 * answer or after other events; another device's event is not it; a
 * guest that never lets go ends at the deadline. Any command's return
 * value is handed over (query-kvm). */
static void test_device_del(void **state)
{
#define DELETED(dev) "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"" dev "\", \"path\": \"/x\"}}\r\n"
	json_t *ret = NULL;
	long long t;
	int fd = pair(GREETING "{\"return\": {}, \"id\": 1}\r\n"
		      "{\"return\": {\"enabled\": false, \"present\": true}, \"id\": 2}\r\n"
		      "{\"return\": {}, \"id\": 3}\r\n" DELETED("nic-eth9") "{\"event\": \"ACPI_DEVICE_OST\"}\r\n"
		      DELETED("nic-eth1") DELETED("nic-eth2") "{\"return\": {}, \"id\": 4}\r\n");

	assert_int_equal(qmp_open(&q, fd, qmp_now_ms() + 2000, err, sizeof(err)), 0);
	assert_int_equal(qmp_execute(&q, "query-kvm", NULL, &ret, err, sizeof(err)), 0);
	assert_true(json_is_false(json_object_get(ret, "enabled")));
	json_decref(ret);
	assert_int_equal(qmp_device_del(&q, "nic-eth1", err, sizeof(err)), 0);
	/* its event came before its answer */
	assert_int_equal(qmp_device_del(&q, "nic-eth2", err, sizeof(err)), 0);
	qmp_close(&q);
	assert_non_null(strstr(sent(), "{\"execute\":\"device_del\",\"id\":3,\"arguments\":{\"id\":\"nic-eth1\"}}\n"));

	fd = pair(GREETING "{\"return\": {}, \"id\": 1}\r\n" "{\"return\": {}, \"id\": 2}\r\n" DELETED("nic-eth3"));
	t = qmp_now_ms();
	assert_int_equal(qmp_open(&q, fd, t + 300, err, sizeof(err)), 0);
	assert_int_equal(qmp_device_del(&q, "nic-eth1", err, sizeof(err)), -1);
	assert_string_equal(err, "QMP: device_del nic-eth1: the guest did not let the device go in time");
	assert_true(qmp_now_ms() - t >= 290);
	qmp_close(&q);
	sent();
#undef DELETED
}

static void test_nic_id(void **state)
{
	char id[20];

	assert_int_equal(qmp_nic_id(id, sizeof(id), "eth1"), 0);
	assert_string_equal(id, "nic-eth1");
	assert_int_equal(qmp_nic_id(id, 8, "eth1"), -1);
	{	/* a wire NIC's netdev and chardev, the longest name fits */
		char net[MV_IFNAME_MAX + 8], chr[MV_IFNAME_MAX + 8];

		assert_int_equal(qmp_wire_ids(net, chr, "wan"), 0);
		assert_string_equal(net, "w-wan");
		assert_string_equal(chr, "vu-wan");
		assert_int_equal(qmp_wire_ids(net, chr, "abcdefghijklmno"), 0);
		assert_string_equal(chr, "vu-abcdefghijklmno");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest), cmocka_unit_test(test_qemu_error),
		cmocka_unit_test(test_hostile), cmocka_unit_test(test_by_path),
		cmocka_unit_test(test_nic_id), cmocka_unit_test(test_device_del),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
