/* cli/hotplug.c against a fake QEMU monitor at STATE/vm0.qmp (a child
 * that accepts one connection per script, sends its scripted lines and
 * hands back what the client sent): the unplug sequence (device_del,
 * DEVICE_DELETED awaited, netdev_del, chardev-remove), the plug sequence
 * (query-kvm, chardev-add reconnecting, netdev_add, device_add on the
 * first port that takes it, vectors=0 under TCG), a refused netdev_add
 * taken back, which VMs are touched (an external one never), and each
 * NIC a step of its own on the undo list: a second plug (or unplug)
 * refused has the first NIC unplugged (plugged back) by the undo, before
 * the supervisor's step is undone; a NIC the built-in guest does not name
 * (a fake guest agent) is unplugged too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/hotplug.h"
#include "cli/undo.h"
#include "common/qmp.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"
#define RET(n) "{\"return\": {}, \"id\": " #n "}\r\n"

static char dir[] = "/tmp/mvhp.XXXXXX";
static struct config old_c, new_c;
static char err[600], step[200], got[16384];
static pid_t child;
static int back = -1;	/* what the fake read */

static void load(struct config *c, const char *text)
{
	char e[CFG_ERR_MAX];

	if (config_load_string(c, text, "t.ini", e, sizeof(e)) < 0)
		fail_msg("%s", e);
}

/* A fake QEMU at dir/vm0.qmp that says script[c] to its connection c,
 * n of them, one after the other (each plug or unplug connects anew). */
static void fakes(const char *const script[], unsigned n)
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
		static char buf[16384];
		size_t have = 0;
		ssize_t r;
		unsigned k;

		alarm(60);	/* a connection that never comes fails the test, no hang */
		for (k = 0; k < n; k++) {
			int c = accept(ls, NULL, NULL);

			if (c < 0 || write(c, script[k], strlen(script[k])) != (ssize_t)strlen(script[k]))
				_exit(1);
			while (have < sizeof(buf) && (r = read(c, buf + have, sizeof(buf) - have)) > 0)
				have += r;
			close(c);
		}
		if (write(p[1], buf, have) != (ssize_t)have)
			_exit(1);
		_exit(0);
	}
	close(ls);
	close(p[1]);
	back = p[0];
}

static void fake(const char *script)
{
	fakes(&script, 1);
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

static struct undo_list ul;

/* dir/vm0.NIC.vhost */
static const char *sock_of(const char *nic)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/vm0.%s.vhost", dir, nic);
	return p;
}

static void touch(const char *nic)
{
	FILE *f = fopen(sock_of(nic), "w");

	assert_non_null(f);
	fclose(f);
}

static bool there(const char *nic)
{
	return access(sock_of(nic), F_OK) == 0;
}

/* The lines a plug of vm0's NIC sends (QEMU under TCG), device_add on
 * hp0 .. hp(ports - 1), the QMP ids from id on. */
static void plug_lines(char *out, size_t len, const char *nic, unsigned mac, unsigned ports, unsigned id)
{
	size_t n = 0;
	unsigned p;

	n += snprintf(out + n, len - n,
		      "{\"execute\":\"qmp_capabilities\",\"id\":1}\n{\"execute\":\"query-kvm\",\"id\":2}\n"
		      "{\"execute\":\"chardev-add\",\"id\":3,\"arguments\":{\"id\":\"vu-%s\",\"backend\":{\"type\":\"socket\","
		      "\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"%s\"}},\"server\":false,\"reconnect\":1}}}}\n"
		      "{\"execute\":\"netdev_add\",\"id\":4,\"arguments\":{\"type\":\"vhost-user\",\"id\":\"w-%s\",\"chardev\":\"vu-%s\"}}\n",
		      nic, sock_of(nic), nic, nic);
	for (p = 0; p < ports; p++)
		n += snprintf(out + n, len - n,
			      "{\"execute\":\"device_add\",\"id\":%u,\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic-%s\","
			      "\"netdev\":\"w-%s\",\"mac\":\"52:54:00:4e:01:%02x\",\"bus\":\"hp%u\",\"addr\":0,\"disable-legacy\":\"on\","
			      "\"host_mtu\":1500,\"ctrl_guest_offloads\":false,\"vectors\":0}}\n",
			      id + p, nic, nic, mac, p);
}

/* The lines an unplug of vm0's NIC sends. */
static void unplug_lines(char *out, size_t len, const char *nic)
{
	snprintf(out, len,
		 "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
		 "{\"execute\":\"device_del\",\"id\":2,\"arguments\":{\"id\":\"nic-%s\"}}\n"
		 "{\"execute\":\"netdev_del\",\"id\":3,\"arguments\":{\"id\":\"w-%s\"}}\n"
		 "{\"execute\":\"chardev-remove\",\"id\":4,\"arguments\":{\"id\":\"vu-%s\"}}\n",
		 nic, nic, nic);
}

/* Undoes a step the way apply does (cli/apply.c): a NIC's by hotplug_undo;
 * the supervisor's (here only a mark in order[]). */
static char order[16];

static int undo_one(void *ctx, const struct undo_step *s)
{
	size_t n = strlen(order);

	(void)ctx;
	if (s->kind == UNDO_SUPERVISOR) {
		order[n] = 'S';
		return 0;
	}
	order[n] = s->kind == UNDO_PLUG ? 'p' : 'u';
	order[n + 1] = 0;
	return hotplug_undo(dir, &old_c, &new_c, s, step, sizeof(step), err, sizeof(err));
}

#define TCG_KVM	"{\"return\": {\"enabled\": false, \"present\": false}, \"id\": 2}\r\n"
#define ERR(n, d) "{\"id\": " #n ", \"error\": {\"class\": \"GenericError\", \"desc\": \"" d "\"}}\r\n"
#define DELETED(nic) "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"nic-" nic "\"}}\r\n"

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
	touch("eth1");
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(hotplug_unplug_gone(dir, &old_c, &new_c, &ul, step, sizeof(step), err, sizeof(err)), 0);
	assert_int_equal(ul.n, 1);
	assert_int_equal(ul.step[0].kind, UNDO_UNPLUG);
	assert_int_equal(ul.step[0].arg, 0);	/* vm0's first NIC */
	assert_true(there("eth1"));	/* its VMM serves it until it restarts */
	hotplug_remove_sockets(dir, &old_c, &new_c);
	assert_false(there("eth1"));
	assert_string_equal(sent(), "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
			    "{\"execute\":\"device_del\",\"id\":2,\"arguments\":{\"id\":\"nic-eth1\"}}\n"
			    "{\"execute\":\"netdev_del\",\"id\":3,\"arguments\":{\"id\":\"w-eth1\"}}\n"
			    "{\"execute\":\"chardev-remove\",\"id\":4,\"arguments\":{\"id\":\"vu-eth1\"}}\n");
	/* Nothing goes: no connection at all (no fake listens). */
	assert_int_equal(hotplug_unplug_gone(dir, &new_c, &new_c, &ul, step, sizeof(step), err, sizeof(err)), 0);
	assert_int_equal(ul.n, 1);
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
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), &ul, step, sizeof(step), err, sizeof(err)), 0);
	assert_int_equal(ul.n, 1);
	assert_int_equal(ul.step[0].kind, UNDO_PLUG);
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
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), &ul, step, sizeof(step), err, sizeof(err)), -1);
	assert_string_equal(step, "plug vm0:eth1");
	assert_string_equal(err, "QMP: netdev_add: Failed to connect");
	assert_int_equal(ul.n, 0);	/* taken back by itself: nothing to undo */
	s = sent();
	assert_non_null(strstr(s, "{\"execute\":\"chardev-remove\",\"id\":5,\"arguments\":{\"id\":\"vu-eth1\"}}\n"));
	assert_null(strstr(s, "device_add"));
}

/* Two NICs to plug, the second refused by QEMU on every port: it takes
 * back its own netdev and chardev; the first, plugged, is unplugged by
 * the undo (device_del, netdev_del, chardev-remove, its socket file gone)
 * before the supervisor's step is undone; the step named. */
static void test_plug_second_refused(void **state)
{
	char want[16384], part[8192];
	const char *script[3];
	static char s2[4096];
	size_t n = 0;
	unsigned p;

	(void)state;
	load(&old_c, "[vm vm0]\nimage = /x.qcow2\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n");
	load(&new_c, "[vm vm0]\nimage = /x.qcow2\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n"
		     "vm0:eth1 = vm1:eth1\nvm0:eth2 = vm1:eth2\n");
	script[0] = GREETING RET(1) TCG_KVM RET(3) RET(4) RET(5);
	n = snprintf(s2, sizeof(s2), "%s", GREETING RET(1) TCG_KVM RET(3) RET(4));
	for (p = 0; p < MV_NICS_MAX; p++)
		n += snprintf(s2 + n, sizeof(s2) - n, "{\"id\": %u, \"error\": {\"class\": \"GenericError\", \"desc\": "
			      "\"Duplicate ID 'nic-eth2' for device\"}}\r\n", 5 + p);
	snprintf(s2 + n, sizeof(s2) - n, RET(13) RET(14));
	script[1] = s2;
	script[2] = GREETING RET(1) RET(2) DELETED("eth1") RET(3) ERR(4, "Chardev 'vu-eth1' not found");
	fakes(script, 3);
	touch("eth1");	/* the restarted VMM's sockets */
	touch("eth2");
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(undo_push(&ul, UNDO_SUPERVISOR, 0), 0);
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), &ul, step, sizeof(step), err, sizeof(err)), -1);
	assert_string_equal(step, "plug vm0:eth2");
	assert_string_equal(err, "QMP: device_add: Duplicate ID 'nic-eth2' for device");
	assert_int_equal(ul.n, 2);	/* the supervisor's, vm0:eth1's */
	order[0] = 0;
	assert_int_equal(undo_run(&ul, undo_one, NULL), 0);
	assert_string_equal(order, "pS");	/* the NIC first, then the supervisor's */
	assert_false(there("eth1"));
	plug_lines(want, sizeof(want), "eth1", 1, 1, 5);
	plug_lines(part, sizeof(part), "eth2", 2, MV_NICS_MAX, 5);
	strcat(want, part);
	strcat(want, "{\"execute\":\"netdev_del\",\"id\":13,\"arguments\":{\"id\":\"w-eth2\"}}\n"
		     "{\"execute\":\"chardev-remove\",\"id\":14,\"arguments\":{\"id\":\"vu-eth2\"}}\n");
	unplug_lines(part, sizeof(part), "eth1");
	strcat(want, part);
	assert_string_equal(sent(), want);
	unlink(sock_of("eth2"));	/* the supervisor's undo removes it (cli/apply.c) */
}

/* Two NICs to unplug, the second's device_del refused: the first is
 * plugged back by the undo (into the VMM that still serves its socket,
 * which stayed); once undone, nothing is left to undo. */
static void test_unplug_second_refused(void **state)
{
	char want[16384], part[8192];
	const char *script[3];

	(void)state;
	load(&old_c, "[vm vm0]\nimage = /x.qcow2\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n"
		     "vm0:eth1 = vm1:eth1\nvm0:eth2 = vm1:eth2\n");
	load(&new_c, "[vm vm0]\nimage = /x.qcow2\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n");
	script[0] = GREETING RET(1) RET(2) DELETED("eth1") RET(3) RET(4);
	script[1] = GREETING RET(1) ERR(2, "Bus 'hp1' does not support hotplugging");
	script[2] = GREETING RET(1) TCG_KVM RET(3) RET(4) RET(5);
	fakes(script, 3);
	touch("eth1");
	touch("eth2");
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(hotplug_unplug_gone(dir, &old_c, &new_c, &ul, step, sizeof(step), err, sizeof(err)), -1);
	assert_string_equal(step, "unplug vm0:eth2");
	assert_string_equal(err, "QMP: device_del: Bus 'hp1' does not support hotplugging");
	assert_int_equal(ul.n, 1);
	assert_true(there("eth1"));
	order[0] = 0;
	assert_int_equal(undo_run(&ul, undo_one, NULL), 0);
	assert_string_equal(order, "u");
	unplug_lines(want, sizeof(want), "eth1");
	strcat(want, "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
		     "{\"execute\":\"device_del\",\"id\":2,\"arguments\":{\"id\":\"nic-eth2\"}}\n");
	plug_lines(part, sizeof(part), "eth1", 1, 1, 5);
	strcat(want, part);
	assert_string_equal(sent(), want);
	assert_true(there("eth1") && there("eth2"));	/* both NICs still there: their sockets too */
	unlink(sock_of("eth1"));
	unlink(sock_of("eth2"));
}

/* A fake guest agent at dir/vm0.agent: every command exits 3 saying no
 * NIC appeared (QGA as cli/agent.c speaks it). */
static pid_t agent_child = -1;

static void fake_agent(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/vm0.agent", dir);
	unlink(a.sun_path);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 1), 0);
	agent_child = fork();
	if (agent_child == 0) {
		static char line[65536 * 7];
		size_t n = 0;
		char c, out[256];
		int fd;

		alarm(60);
		fd = accept(ls, NULL, NULL);
		while (fd >= 0 && read(fd, &c, 1) == 1) {
			json_t *req;
			const char *cmd;

			if ((unsigned char)c == 0xff || (c != '\n' && n < sizeof(line))) {
				if ((unsigned char)c != 0xff)
					line[n++] = c;
				continue;
			}
			req = json_loadb(line, n, 0, NULL);
			n = 0;
			cmd = req ? json_string_value(json_object_get(req, "execute")) : NULL;
			if (!cmd)
				_exit(2);
			if (!strcmp(cmd, "guest-sync-delimited"))
				snprintf(out, sizeof(out), "\xff{\"return\": %lld}\n",
					 (long long)json_integer_value(json_object_get(json_object_get(req, "arguments"), "id")));
			else if (!strcmp(cmd, "guest-exec"))
				snprintf(out, sizeof(out), "{\"return\": {\"pid\": 42}}\n");
			else	/* "no NIC with MAC 52:54:00:4e:01:01 appeared\n" */
				snprintf(out, sizeof(out), "{\"return\": {\"exited\": true, \"exitcode\": 3, \"err-data\": "
					 "\"bm8gTklDIHdpdGggTUFDIDUyOjU0OjAwOjRlOjAxOjAxIGFwcGVhcmVkCg==\"}}\n");
			json_decref(req);
			if (write(fd, out, strlen(out)) != (ssize_t)strlen(out))
				_exit(1);
		}
		_exit(0);
	}
	close(ls);
}

/* A NIC QEMU took but the built-in guest did not name: its step fails
 * (the guest's words said) and the undo unplugs it. */
static void test_not_named(void **state)
{
	char want[16384], part[8192];
	const char *script[2];
	int st;

	(void)state;
	load(&old_c, "[vm vm0]\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\n");
	load(&new_c, "[vm vm0]\n[vm vm1]\nguest = external\n[links]\nvm0 = vm1\nvm0:eth1 = vm1:eth1\n");
	script[0] = GREETING RET(1) TCG_KVM RET(3) RET(4) RET(5);
	script[1] = GREETING RET(1) RET(2) DELETED("eth1") RET(3) RET(4);
	fakes(script, 2);
	fake_agent();
	touch("eth1");
	memset(&ul, 0, sizeof(ul));
	assert_int_equal(hotplug_plug_new(dir, &old_c, &new_c, qmp_now_ms(), &ul, step, sizeof(step), err, sizeof(err)), -1);
	assert_string_equal(step, "plug vm0:eth1");
	assert_string_equal(err, "the guest could not name it (exit 3): no NIC with MAC 52:54:00:4e:01:01 appeared");
	assert_int_equal(ul.n, 1);
	order[0] = 0;
	assert_int_equal(undo_run(&ul, undo_one, NULL), 0);
	assert_string_equal(order, "p");
	assert_false(there("eth1"));
	plug_lines(want, sizeof(want), "eth1", 1, 1, 5);
	unplug_lines(part, sizeof(part), "eth1");
	strcat(want, part);
	assert_string_equal(sent(), want);
	assert_int_equal(waitpid(agent_child, &st, 0), agent_child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(part, sizeof(part), "%s/vm0.agent", dir);
	unlink(part);
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
		cmocka_unit_test(test_plug_second_refused),
		cmocka_unit_test(test_unplug_second_refused),
		cmocka_unit_test(test_not_named),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
