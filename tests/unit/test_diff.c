/* config_diff: the plan `multivm apply` prints, one line per change,
 * from two configs; names, not indexes, say what stayed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config/diff.h"

#define THREE "[vm vm0]\n[vm vm1]\n[vm vm2]\n"

static struct config old_c, new_c;
static char got[4096], keys[256];
static unsigned restarts;

static void collect(void *ctx, const struct cfg_change *c)
{
	(void)ctx;
	strncat(got, c->line, sizeof(got) - strlen(got) - 2);
	strcat(got, "\n");
	restarts += c->restart;
	if (c->kind == CHG_VM_SET) {	/* the setting named, a NIC's as "-" */
		strncat(keys, c->key ? c->key : "-", sizeof(keys) - strlen(keys) - 2);
		strcat(keys, " ");
	} else {
		assert_null(c->key);
	}
}

/* The plan from a to b, as lines. */
static const char *plan(const char *a, const char *b)
{
	char err[CFG_ERR_MAX];
	unsigned n, lines = 0;
	const char *p;

	if (config_load_string(&old_c, a, "old.ini", err, sizeof(err)) < 0)
		fail_msg("old: %s", err);
	if (config_load_string(&new_c, b, "new.ini", err, sizeof(err)) < 0)
		fail_msg("new: %s", err);
	got[0] = keys[0] = 0;
	restarts = 0;
	n = config_diff(&old_c, &new_c, collect, NULL);
	for (p = got; *p; p++)
		lines += *p == '\n';
	assert_int_equal(n, lines);
	return got;
}

static void test_same(void **state)
{
	(void)state;
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n", THREE "[links]\nmesh = yes\n"), "");
	/* The same system written another way is the same system. */
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n", THREE "[links]\nvm0 = vm1 vm2\nvm2 = vm1\n"), "");
	assert_string_equal(plan(config_default_text, config_default_text), "");
}

/* The first apply: vm3 joins, linked to vm0 and vm1; nothing
 * else changes (vm3 comes last: the others keep their MACs, addresses). */
static void test_add_vm(void **state)
{
	(void)state;
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n",
				 THREE "[vm vm3]\n[links]\nvm0 = vm1 vm2\nvm1 = vm2\nvm3 = vm0 vm1\n"),
			    "+ vm vm3\n"
			    "+ link vm0-vm3\n"
			    "+ link vm1-vm3\n");
	assert_int_equal(restarts, 0);
}

/* ... and the second: vm3 and the vm0-vm2 link go. */
static void test_remove(void **state)
{
	(void)state;
	assert_string_equal(plan(THREE "[vm vm3]\n[links]\nvm0 = vm1 vm2\nvm1 = vm2\nvm3 = vm0 vm1\n",
				 THREE "[links]\nvm0 = vm1\nvm1 = vm2\n"),
			    "- vm vm3\n"
			    "- link vm0-vm2\n"
			    "- link vm0-vm3\n"
			    "- link vm1-vm3\n");
}

static void test_restart(void **state)
{
	(void)state;
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n",
				 "[vm vm0]\n[vm vm1]\nmemory = 512M\ncpus = 2\n[vm vm2]\nrestart = never\n[links]\nmesh = yes\n"),
			    "~ vm vm1 memory 256M -> 512M (restart)\n"
			    "~ vm vm1 cpus 1 -> 2 (restart)\n"
			    "~ vm vm2 restart always -> never\n");
	assert_int_equal(restarts, 2);
	assert_string_equal(keys, "memory cpus - ");	/* restart = never: the supervisor's, no key */
	/* What its QEMU boots. */
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n",
				 "[vm vm0]\nkernel = /boot/k\nappend = quiet\n[vm vm1]\n[vm vm2]\n[links]\nmesh = yes\n"),
			    "~ vm vm0 kernel (the system's) -> /boot/k (restart)\n"
			    "~ vm vm0 append none -> quiet (restart)\n");
	assert_string_equal(keys, "kernel append ");
	/* A VM that moves changes the MAC and address it was given by its place. */
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n", "[vm vm1]\n[vm vm0]\n[vm vm2]\n[links]\nmesh = yes\n"),
			    "~ vm vm1 mac 52:54:00:4d:56:02 -> 52:54:00:4d:56:01 (restart)\n"
			    "~ vm vm1 address 192.168.1.2/24 -> 192.168.1.1/24 (restart)\n"
			    "~ vm vm0 mac 52:54:00:4d:56:01 -> 52:54:00:4d:56:02 (restart)\n"
			    "~ vm vm0 address 192.168.1.1/24 -> 192.168.1.2/24 (restart)\n");
	assert_int_equal(restarts, 4);
	/* A disk, its first boot's seed, its firmware: a reboot; cpuset and
	 * persist: the running processes and files. */
	assert_string_equal(plan("[vm vm0]\nimage = /a.qcow2\n[vm vm1]\nimage = /a.qcow2\n[vm vm2]\n[links]\nmesh = yes\n",
				 "[vm vm0]\nimage = /b.qcow2\nfirmware = uefi\npersist = yes\ncloud_init = no\n"
				 "[vm vm1]\nimage = /a.qcow2\ncpuset = 1\nssh_key = /k.pub\n[vm vm2]\nimage = /c.img\n"
				 "user_data = /u.yaml\n[links]\nmesh = yes\n"),
			    "~ vm vm0 image /a.qcow2 -> /b.qcow2 (restart)\n"
			    "~ vm vm0 firmware bios -> uefi (restart)\n"
			    "~ vm vm0 persist no -> yes\n"
			    "~ vm vm0 cloud_init yes -> no (restart)\n"
			    "~ vm vm1 cpuset none -> 1\n"
			    "~ vm vm1 ssh_key none -> /k.pub (restart)\n"
			    "~ vm vm2 image none -> /c.img (restart)\n"
			    "~ vm vm2 user_data none -> /u.yaml (restart)\n");
	assert_string_equal(keys, "image firmware persist cloud_init cpuset ssh_key image user_data ");
	assert_int_equal(restarts, 6);
	assert_int_equal(config_vm_key_apply("cpuset"), CFG_APPLY_LIVE);
	assert_int_equal(config_vm_key_apply("route"), CFG_APPLY_REBOOT);
	assert_int_equal(config_vm_key_apply("mtu"), CFG_APPLY_STOP);
	assert_int_equal(config_vm_key_apply("mac"), CFG_APPLY_REBOOT);
	assert_int_equal(config_vm_key_apply("offloads"), CFG_APPLY_STOP);
	assert_int_equal(config_vm_key_apply(NULL), CFG_APPLY_STOP);
}

static void test_impairments(void **state)
{
	(void)state;
	/* Both directions alike: one line, in the words `multivm link` takes. */
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n",
				 THREE "[links]\nmesh = yes\n[link vm0-vm1]\ndelay = 20ms\nloss = 1%\n"),
			    "~ link vm0-vm1 delay=20ms loss=1% (was: none)\n");
	/* One direction; the other way round in the file is the same link. */
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n[link vm0-vm1]\ndelay = 20ms\n",
				 THREE "[links]\nvm1 = vm0\nvm0 = vm2\nvm1 = vm2\n[link vm0->vm1]\ndelay = 20ms\n"
				 "[link vm1->vm0]\ndelay = 20ms\nrate = 10mbit\n"),
			    "~ link vm1->vm0 delay=20ms rate=10mbit (was: delay=20ms)\n");
	assert_string_equal(plan(THREE "[links]\nmesh = yes\n[link vm1-vm2]\nstate = down\n",
				 THREE "[links]\nmesh = yes\n"),
			    "~ link vm1-vm2 none (was: state=down)\n");
	assert_int_equal(restarts, 0);
}

static void test_wires(void **state)
{
	const char *base = THREE "[links]\nvm0 = vm1\n";

	(void)state;
	/* A NIC that comes or goes is plugged or unplugged: no reboot. */
	assert_string_equal(plan(base, THREE "[links]\nvm0 = vm1\nvm1:eth1 = vm2:eth1\n"),
			    "+ wire vm1:eth1 = vm2:eth1\n");
	assert_int_equal(restarts, 0);
	assert_string_equal(plan(THREE "[links]\nvm0 = vm1\nvm1:eth1 = vm2:eth1\n", base),
			    "- wire vm1:eth1 = vm2:eth1\n");
	assert_string_equal(plan(THREE "[links]\nvm0 = vm1\nvm1:eth1 = vm2:eth1\n",
				 "[vm vm0]\n[vm vm1]\neth1.mtu = 9000\n[vm vm2]\neth1.mtu = 9000\n[links]\nvm0 = vm1\nvm2:eth1 = vm1:eth1\n"),
			    "~ vm vm1 eth1.mtu 1500 -> 9000 (stop and run)\n~ vm vm2 eth1.mtu 1500 -> 9000 (stop and run)\n");
	assert_string_equal(plan(base, THREE "[vm vm3]\n[links]\nvm0 = vm1\nvm1:eth1 = vm3:eth1\n"),
			    "+ vm vm3\n+ wire vm1:eth1 = vm3:eth1\n");
}

static void test_tunnel_and_system(void **state)
{
	const char *tun = "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\n";
	char a[512], b[512];

	(void)state;
	snprintf(a, sizeof(a), THREE "%s[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n", tun);
	snprintf(b, sizeof(b), THREE "[system]\nlink_queue_size = 512\n%s[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n", tun);
	assert_string_equal(plan(a, b), "~ system link_queue_size 256 -> 512 (stop and run)\n");
	/* A tunnel's settings (its mac aside) are not changed at run time. */
	snprintf(b, sizeof(b), THREE "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.8\nvni = 42\n"
		 "[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n");
	assert_string_equal(plan(a, b), "~ tunnel t remote 203.0.113.7/32 -> 203.0.113.8/32 (stop and run)\n");
	snprintf(b, sizeof(b), THREE "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\nmac = 02:00:00:00:00:07\n"
		 "[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n");
	assert_string_equal(plan(a, b), "~ tunnel t mac any -> 02:00:00:00:00:07 (restart)\n");
	/* A tunnel that becomes a VM of the same name is another node, links and all. */
	snprintf(b, sizeof(b), THREE "[vm t]\n[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n");
	assert_string_equal(plan(a, b), "- tunnel t\n+ vm t\n- link vm0-t\n+ link vm0-t\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_add_vm),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_impairments),
		cmocka_unit_test(test_wires),
		cmocka_unit_test(test_tunnel_and_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
