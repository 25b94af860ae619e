/* cli/hotplug.c against a fake QEMU monitor at STATE/vm0.qmp (a child
 * that accepts once, sends its scripted lines and hands back what the
 * client sent): the unplug sequence (device_del, DEVICE_DELETED awaited,
 * netdev_del, chardev-remove), the plug sequence (query-kvm, chardev-add
 * reconnecting, netdev_add, device_add on the first port that takes it,
 * vectors=0 under TCG), a refused netdev_add taken back, and which VMs are
 * touched (an external one never). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/hotplug.h"
#include "common/qmp.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"
#define RET(n) "{\"return\": {}, \"id\": " #n "}\r\n"

static char dir[] = "/tmp/mvhp.XXXXXX";
static struct config old_c, new_c;
static char err[600], got[8192];
static pid_t child;
static int back = -1;	/* what the fake read */

static void load(struct config *c, const char *text)
{
	char e[CFG_ERR_MAX];

	if (config_load_string(c, text, "t.ini", e, sizeof(e)) < 0)
		fail_msg("%s", e);
}

/* A fake QEMU at dir/vm0.qmp that says script once connected. */
static void fake(const char *script)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), p[2];

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/vm0.qmp", dir);
	unlink(a.sun_path);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(pipe(p), 0);
	child = fork();
	if (child == 0) {
		static char buf[8192];
		size_t have = 0;
		ssize_t n;
		int c = accept(ls, NULL, NULL);

		if (c < 0 || write(c, script, strlen(script)) != (ssize_t)strlen(script))
			_exit(1);
		while (have < sizeof(buf) && (n = read(c, buf + have, sizeof(buf) - have)) > 0)
			have += n;
		if (write(p[1], buf, have) != (ssize_t)have)
			_exit(1);
		_exit(0);
	}
	close(ls);
	close(p[1]);
	back = p[0];
}

static const char *sent(void)
{
	size_t have = 0;
	ssize_t n;
	int st;

	while (have < sizeof(got) - 1 && (n = read(back, got + have, sizeof(got) - 1 - have)) > 0)
		have += n;
	got[have] = 0;
	close(back);
	waitpid(child, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return got;
}

static void test_unplug(void **state)
{
	(void)state;
	load(&old_c, "[vm vm0]\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\nvm0:eth1 = vm1:eth1\n");
	load(&new_c, "[vm vm0]\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n");
	assert_true(hotplug_vm_kept(&old_c, &new_c, 0));
	assert_false(hotplug_vm_kept(&old_c, &new_c, 1));	/* external: not our QEMU */
	/* QEMU 7.2 deleted the chardev with the netdev: its "not found" is no failure. */
	fake(GREETING RET(1) RET(2) "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"nic-eth1\"}}\r\n"
	     RET(3) "{\"id\": 4, \"error\": {\"class\": \"GenericError\", \"desc\": \"Chardev 'vu-eth1' not found\"}}\r\n");
	snprintf(err, sizeof(err), "%s/vm0.eth1.vhost", dir);
	fclose(fopen(err, "w"));
	assert_int_equal(hotplug_unplug_gone(dir, &old_c, &new_c, err, sizeof(err)), 0);
	snprintf(err, sizeof(err), "%s/vm0.eth1.vhost", dir);
	assert_int_equal(access(err, F_OK), -1);	/* its socket gone */
	assert_string_equal(sent(), "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
			    "{\"execute\":\"device_del\",\"id\":2,\"arguments\":{\"id\":\"nic-eth1\"}}\n"
			    "{\"execute\":\"netdev_del\",\"id\":3,\"arguments\":{\"id\":\"w-eth1\"}}\n"
			    "{\"execute\":\"chardev-remove\",\"id\":4,\"arguments\":{\"id\":\"vu-eth1\"}}\n");
	/* Nothing goes: no connection at all (no fake listens). */
	assert_int_equal(hotplug_unplug_gone(dir, &new_c, &new_c, err, sizeof(err)), 0);
}

static void test_plug(void **state)
{
	const char *s;

	(void)state;
	/* An image guest names its NIC itself: only QEMU is asked. */
	load(&old_c, "[vm vm0]\nimage = /x.qcow2\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n");
	load(&new_c, "[vm vm0]\nimage = /x.qcow2\neth1.mtu = 9000\n[vm vm1]\nguest = external\neth1.mtu = 9000\n[links]\nvm0 = vm1\n"
		     "vm0:eth1 = vm1:eth1\n");
	fake(GREETING RET(1) "{\"return\": {\"enabled\": false, \"present\": true}, \"id\": 2}\r\n" RET(3) RET(4)
	     "{\"id\": 5, \"error\": {\"class\": \"GenericError\", \"desc\": \"slot 0 in use\"}}\r\n" RET(6));
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), err, sizeof(err)), 0);
	s = sent();
	assert_non_null(strstr(s, "{\"execute\":\"query-kvm\",\"id\":2}\n"));
	assert_non_null(strstr(s, "\"execute\":\"chardev-add\",\"id\":3,\"arguments\":{\"id\":\"vu-eth1\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\""));
	assert_non_null(strstr(s, "/vm0.eth1.vhost\"}},\"server\":false,\"reconnect\":1}}}}\n"));
	assert_non_null(strstr(s, "{\"execute\":\"netdev_add\",\"id\":4,\"arguments\":{\"type\":\"vhost-user\",\"id\":\"w-eth1\",\"chardev\":\"vu-eth1\"}}\n"));
	assert_non_null(strstr(s, "\"id\":5,\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic-eth1\",\"netdev\":\"w-eth1\",\"mac\":\"52:54:00:4e:01:01\",\"bus\":\"hp0\",\"addr\":0,\"disable-legacy\":\"on\",\"host_mtu\":9000,\"ctrl_guest_offloads\":false,\"vectors\":0}}\n"));
	assert_non_null(strstr(s, "\"id\":6,\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic-eth1\",\"netdev\":\"w-eth1\",\"mac\":\"52:54:00:4e:01:01\",\"bus\":\"hp1\""));
	/* A refused netdev_add: the chardev taken back, the NIC named in the error. */
	fake(GREETING RET(1) "{\"return\": {\"enabled\": true}, \"id\": 2}\r\n" RET(3)
	     "{\"id\": 4, \"error\": {\"class\": \"GenericError\", \"desc\": \"Failed to connect\"}}\r\n" RET(5));
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), err, sizeof(err)), -1);
	assert_string_equal(err, "vm0:eth1: QMP: netdev_add: Failed to connect");
	s = sent();
	assert_non_null(strstr(s, "{\"execute\":\"chardev-remove\",\"id\":5,\"arguments\":{\"id\":\"vu-eth1\"}}\n"));
	assert_null(strstr(s, "device_add"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[64];

	(void)state;
	snprintf(p, sizeof(p), "%s/vm0.qmp", dir);
	unlink(p);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unplug),
		cmocka_unit_test(test_plug),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
