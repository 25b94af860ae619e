/* grow_plan: what a running supervisor does for `multivm apply`, from the
 * running config and the new one; and what it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "supervisor/grow.h"

#define THREE "[vm vm0]\n[vm vm1]\n[vm vm2]\n"

static struct config old_c, new_c;
static struct grow g;
static char err[CFG_ERR_MAX];

static int plan(const char *a, const char *b)
{
	if (config_load_string(&old_c, a, "old.ini", err, sizeof(err)) < 0)
		fail_msg("old: %s", err);
	if (config_load_string(&new_c, b, "new.ini", err, sizeof(err)) < 0)
		fail_msg("new: %s", err);
	err[0] = 0;
	return grow_plan(&old_c, &new_c, &g, err, sizeof(err));
}

/* The index in new_c of link a-b. */
static unsigned link_of(const char *a, const char *b)
{
	int x = config_vm_index(&new_c, a), y = config_vm_index(&new_c, b);
	unsigned j;

	for (j = 0; j < new_c.nlinks; j++)
		if ((int)new_c.link[j].a == x && (int)new_c.link[j].b == y)
			return j;
	fail_msg("no link %s-%s", a, b);
	return 0;
}

static void test_add_vm(void **state)
{
	(void)state;
	assert_int_equal(plan(THREE "[links]\nmesh = yes\n", THREE "[vm vm3]\n[links]\nvm0 = vm1 vm2 vm3\nvm1 = vm2 vm3\n"), 0);
	assert_int_equal(g.first_new, 3);
	assert_int_equal(g.nvms, 4);
	assert_int_equal(g.new_links, 2);
	/* vm0 and vm1 take a link each: their VMMs restart; vm2's does not. */
	assert_true(g.restart_vmm[0]);
	assert_true(g.restart_vmm[1]);
	assert_false(g.restart_vmm[2]);
	assert_false(g.restart_vmm[3]);	/* a new VM starts, it does not restart */
	/* The running links keep theirs (resources and all), wherever they now are. */
	assert_int_equal(g.old_link[link_of("vm0", "vm1")], 0);
	assert_int_equal(g.old_link[link_of("vm0", "vm2")], 1);
	assert_int_equal(g.old_link[link_of("vm1", "vm2")], 2);
	assert_int_equal(g.old_link[link_of("vm0", "vm3")], -1);
	assert_int_equal(g.old_link[link_of("vm1", "vm3")], -1);
	/* A tunnel joins like a VM. */
	assert_int_equal(plan(THREE "[links]\nmesh = yes\n",
			      THREE "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\n"
			      "[links]\nvm0 = vm1 vm2 t\nvm1 = vm2\n"), 0);
	assert_int_equal(g.new_links, 1);
	assert_true(g.restart_vmm[0]);
	assert_false(g.restart_vmm[1]);
	/* So does a VM with an image booted by UEFI firmware (its files:
	 * test_overlay). */
	assert_int_equal(plan(THREE, THREE "[vm vm3]\nmemory = 512M\nimage = /x.qcow2\nfirmware = uefi\npersist = yes\n"), 0);
	assert_int_equal(g.first_new, 3);
	assert_int_equal(g.nvms, 4);
}

static void test_add_link(void **state)
{
	(void)state;
	assert_int_equal(plan(THREE "[links]\nvm0 = vm1\n", THREE "[links]\nvm0 = vm1\nvm2 = vm1\n"), 0);
	assert_int_equal(g.first_new, 3);
	assert_int_equal(g.new_links, 1);
	assert_false(g.restart_vmm[0]);
	assert_true(g.restart_vmm[1]);
	assert_true(g.restart_vmm[2]);
	/* Nothing new: nothing to do. */
	assert_int_equal(plan(THREE "[links]\nmesh = yes\n", THREE "[links]\nmesh = yes\n[link vm0-vm1]\ndelay = 5ms\n"), 0);
	assert_int_equal(g.new_links, 0);
	assert_false(g.restart_vmm[0] || g.restart_vmm[1] || g.restart_vmm[2]);
}

/* The second apply: vm3 and the vm0-vm2 link go. */
static void test_remove(void **state)
{
	(void)state;
	assert_int_equal(plan(THREE "[vm vm3]\n[links]\nvm0 = vm1 vm2 vm3\nvm1 = vm2 vm3\n",
			      THREE "[links]\nvm0 = vm1\nvm1 = vm2\n"), 0);
	assert_int_equal(g.first_gone, 3);
	assert_int_equal(g.old_nvms, 4);
	assert_int_equal(g.first_new, 3);	/* none new */
	assert_int_equal(g.nvms, 3);
	assert_int_equal(g.new_links, 0);
	assert_int_equal(g.gone_links, 3);	/* vm0-vm2, vm0-vm3, vm1-vm3 */
	assert_true(g.gone_link[1] && g.gone_link[2] && g.gone_link[4]);
	assert_false(g.gone_link[0] || g.gone_link[3]);
	/* vm0 and vm1 lose links (and vm2 one): their VMMs restart; vm3 just goes. */
	assert_true(g.restart_vmm[0] && g.restart_vmm[1] && g.restart_vmm[2]);
	assert_false(g.restart_vmm[3]);
	assert_int_equal(g.old_link[link_of("vm0", "vm1")], 0);
	assert_int_equal(g.old_link[link_of("vm1", "vm2")], 3);
}

/* Wires come and go on running VMs: both ends' VMMs restart (to serve
 * the NIC, which the CLI plugs); a wire that stays is the same by its
 * NICs' names, whatever their indices. */
static void test_wires(void **state)
{
	(void)state;
	assert_int_equal(plan(THREE "[links]\nvm0 = vm1\nvm0:eth2 = vm2:eth2\n",
			      THREE "[links]\nvm0 = vm1\nvm0:eth1 = vm1:eth1\nvm0:eth2 = vm2:eth2\n"), 0);
	assert_int_equal(g.new_links, 1);
	assert_int_equal(g.gone_links, 0);
	assert_int_equal(g.old_link[link_of("vm0", "vm1")], 0);
	assert_int_equal(g.old_link[2], 1);	/* vm0:eth2, its NIC now vm0's second */
	assert_int_equal(g.old_link[1], -1);
	assert_true(g.restart_vmm[0] && g.restart_vmm[1]);
	assert_false(g.restart_vmm[2]);
	/* and goes */
	assert_int_equal(plan(THREE "[links]\nvm0 = vm1\nvm0:eth1 = vm1:eth1\nvm0:eth2 = vm2:eth2\n",
			      THREE "[links]\nvm0 = vm1\nvm0:eth2 = vm2:eth2\n"), 0);
	assert_int_equal(g.new_links, 0);
	assert_int_equal(g.gone_links, 1);
	assert_true(g.gone_link[1]);
	assert_false(g.gone_link[0] || g.gone_link[2]);
	assert_true(g.restart_vmm[0] && g.restart_vmm[1]);
	assert_false(g.restart_vmm[2]);
}

static void refused(const char *a, const char *b, const char *why)
{
	assert_int_equal(plan(a, b), -1);
	if (!strstr(err, why))
		fail_msg("expected '%s' in '%s'", why, err);
}

/* What a reboot applies: that VM's guest reboots, nothing else moves. */
static void test_reboot(void **state)
{
	(void)state;
	assert_int_equal(plan(THREE "[links]\nmesh = yes\n",
			      "[vm vm0]\n[vm vm1]\nmemory = 512M\ncpus = 2\n[vm vm2]\nappend = quiet\n[links]\nmesh = yes\n"), 0);
	assert_false(g.reboot[0]);
	assert_true(g.reboot[1]);
	assert_true(g.reboot[2]);
	assert_int_equal(g.new_links + g.gone_links, 0);
	assert_false(g.restart_vmm[1]);	/* its VMM stays */
	assert_int_equal(plan(THREE "[links]\nmesh = yes\n", "[vm vm0]\nkernel = /k\ninitrd = /i\n[vm vm1]\n[vm vm2]\n"
			      "[vm vm3]\n[links]\nmesh = yes\n"), 0);
	assert_true(g.reboot[0]);
	assert_false(g.reboot[1]);
	assert_false(g.reboot[3]);	/* a new VM boots; it does not reboot */
	assert_true(grow_reboot_key("memory") && grow_reboot_key("cpus") && grow_reboot_key("kernel") &&
		    grow_reboot_key("initrd") && grow_reboot_key("append") && grow_reboot_key("image") &&
		    grow_reboot_key("firmware") && grow_reboot_key("user_data") && grow_reboot_key("address"));
	assert_true(grow_reboot_key("mac"));
	assert_false(grow_reboot_key("offloads") || grow_reboot_key("cpuset") || grow_reboot_key("persist") ||
		     grow_reboot_key("mtu") || grow_reboot_key(NULL));
	assert_true(grow_apply_key("cpuset") && grow_apply_key("persist") && grow_apply_key("image"));
	assert_false(grow_apply_key("offloads") || grow_apply_key("mtu") || grow_apply_key("passthrough"));
	/* Its disk, seed and firmware; its address and routes (the built-in
	 * guest's command line, an image's seed). */
	assert_int_equal(plan("[vm vm0]\nimage = /a\n[vm vm1]\n[vm vm2]\n[links]\nmesh = yes\n",
			      "[vm vm0]\nimage = /b\n[vm vm1]\naddress = 10.0.0.9/8\n[vm vm2]\nroute = 10.1.0.0/16 via 192.168.1.1\n"
			      "[links]\nmesh = yes\n"), 0);
	assert_true(g.reboot[0] && g.reboot[1] && g.reboot[2]);
	assert_false(g.restart_vmm[0] || g.restart_vmm[1] || g.restart_vmm[2]);	/* no tunnel: no VMM restarts */
	assert_int_equal(plan("[vm vm0]\nimage = /a\nfirmware = uefi\n[vm vm1]\nimage = /a\ncloud_init = no\n[vm vm2]\n",
			      "[vm vm0]\nimage = /a\n[vm vm1]\nimage = /a\n[vm vm2]\nip_forward = yes\n"), 0);
	assert_true(g.reboot[0] && g.reboot[1] && g.reboot[2]);
	/* persist and cpuset: no reboot; cpuset moves the running processes. */
	assert_int_equal(plan("[vm vm0]\nimage = /a\n[vm vm1]\n[vm vm2]\n",
			      "[vm vm0]\nimage = /a\npersist = yes\n[vm vm1]\ncpuset = 0\n[vm vm2]\n"), 0);
	assert_false(g.reboot[0] || g.reboot[1] || g.reboot[2]);
	assert_false(g.affinity[0] || g.affinity[2]);
	assert_true(g.affinity[1]);
}

/* A new MAC: the VM reboots, its VMM restarts, its linked peers' VMMs
 * are handed their links to it again (restart_vmm: lifecycle.c hands
 * them), vm2 not linked to it untouched. */
static void test_mac(void **state)
{
	(void)state;
	/* (vm2, the last: a MAC given shifts the default MACs of the VMs after it) */
	assert_int_equal(plan(THREE "[links]\nvm0 = vm1\nvm2 = vm0\n",
			      "[vm vm0]\n[vm vm1]\n[vm vm2]\nmac = 52:54:00:00:00:09\n[links]\nvm0 = vm1\nvm2 = vm0\n"), 0);
	assert_true(g.reboot[2] && g.new_vmm[2] && g.restart_vmm[2]);
	assert_true(g.restart_vmm[0]);
	assert_false(g.new_vmm[0] || g.reboot[0]);
	assert_false(g.restart_vmm[1] || g.new_vmm[1] || g.reboot[1]);
	assert_int_equal(g.new_links + g.gone_links, 0);
}

/* A tunnel's mac (the one VM behind it): the tunnel restarts, not
 * rebooted; the VM linked to it is handed the link again. */
static void test_tunnel_mac(void **state)
{
	const char *links = "[links]\nvm0 = vm1 t\n";
	char a[512], b[512];

	(void)state;
	snprintf(a, sizeof(a), THREE "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\n%s", links);
	snprintf(b, sizeof(b), THREE "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\nmac = 02:00:00:00:00:07\n%s",
		 links);
	assert_int_equal(plan(a, b), 0);
	assert_false(g.reboot[3]);
	assert_true(g.new_vmm[3] && g.restart_vmm[3]);
	assert_true(g.restart_vmm[0]);
	assert_false(g.restart_vmm[1] || g.restart_vmm[2] || g.reboot[0]);
}

/* Each tunnel knows every VM's address: a tunnel restarts when one changes. */
static void test_address_tunnel(void **state)
{
	const char *tun = "[tunnel t]\nlocal = 0.0.0.0\nremote = 203.0.113.7\nvni = 42\n[links]\nvm0 = vm1 t\n";
	char a[512], b[512];

	(void)state;
	snprintf(a, sizeof(a), THREE "%s", tun);
	snprintf(b, sizeof(b), "[vm vm0]\n[vm vm1]\naddress = 192.168.1.9/24\n[vm vm2]\n%s", tun);
	assert_int_equal(plan(a, b), 0);
	assert_true(g.reboot[1]);
	assert_true(g.restart_vmm[3]);
	assert_false(g.restart_vmm[0] || g.restart_vmm[1] || g.restart_vmm[2]);
	snprintf(b, sizeof(b), "[vm vm0]\n[vm vm1]\nmemory = 512M\n[vm vm2]\n%s", tun);
	assert_int_equal(plan(a, b), 0);
	assert_false(g.restart_vmm[3]);
}

static void test_refused(void **state)
{
	(void)state;
	/* A VM that goes from the middle would move the ones after it. */
	refused(THREE "[links]\nmesh = yes\n", "[vm vm0]\n[vm vm2]\n[links]\nvm0 = vm2\n",
		"vm1: only the last VMs (in [vm] order) are removed at run time yet");
	/* A VM put before a running one would move it (its index, MAC, address). */
	refused(THREE "[links]\nmesh = yes\n", "[vm vm3]\n" THREE "[links]\nvm0 = vm1 vm2\nvm1 = vm2\n",
		"vm0: a running VM keeps its place and settings");
	refused(THREE "[links]\nmesh = yes\n", "[vm vm0]\n[vm vm1]\nguest = external\n[vm vm2]\n[links]\nmesh = yes\n",
		"vm1: a running VM keeps its place and settings");
	/* A running VM's eth0 a wire's end: on the root bus from boot. */
	refused(THREE "[links]\nvm0 = vm1\nvm2:eth0 = vm1:eth1\n", THREE "[links]\nvm0 = vm1\nvm2:eth0 = vm0:eth1\n",
		"vm2: its eth0 (a wire's end) is not plugged or unplugged at run time");
	refused(THREE "[links]\nmesh = yes\n", "[system]\nlink_queue_size = 512\n" THREE "[links]\nmesh = yes\n",
		"link_queue_size does not change at run time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_vm),
		cmocka_unit_test(test_add_link),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_wires),
		cmocka_unit_test(test_reboot),
		cmocka_unit_test(test_address_tunnel),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_tunnel_mac),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
