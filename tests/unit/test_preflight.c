/* Every refusal `multivm run` makes before it starts anything, against a
 * temporary directory (state directory, PATH, guest image) and a fake
 * sysfs (as tests/e2e/fake_sysfs.sh builds one), with the KVM probes
 * replaced; and the names of the files in a state directory, whose
 * lengths preflight checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/preflight.h"

#define BDF "0000:03:00.0"

static char root[64], state[256], cfgfile[128], err[1024];
static struct run_plan plan;
static bool boots, usable;

static bool fake_boots(const char *kernel, int timeout_ms)
{
	return boots;
}

static bool fake_usable(void)
{
	return usable;
}

static struct preflight_host host = { .kvm_boots = fake_boots, .kvm_usable = fake_usable };

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void symlink_in(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* One NIC, BDF, bound to drv ("" unbound), in IOMMU group 12 or none. */
static void fake_sysfs(const char *drv, bool group)
{
	char target[128];

	snprintf(target, sizeof(target), "/bin/rm -rf '%s/sys'", root);
	assert_int_equal(system(target), 0);
	dir("sys");
	dir("sys/bus");
	dir("sys/bus/pci");
	dir("sys/bus/pci/devices");
	dir("sys/bus/pci/drivers");
	dir("sys/bus/pci/devices/" BDF);
	dir("sys/kernel");
	dir("sys/kernel/iommu_groups");
	put("sys/bus/pci/devices/" BDF "/vendor", "0x8086\n", 0644);
	put("sys/bus/pci/devices/" BDF "/device", "0x10d3\n", 0644);
	put("sys/bus/pci/devices/" BDF "/irq", "16\n", 0644);
	if (*drv) {
		snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s", drv);
		dir(target);
		snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s", drv);
		symlink_in(target, "sys/bus/pci/devices/" BDF "/driver");
	}
	if (group) {
		dir("sys/kernel/iommu_groups/12");
		dir("sys/kernel/iommu_groups/12/devices");
		symlink_in("../../../../kernel/iommu_groups/12", "sys/bus/pci/devices/" BDF "/iommu_group");
		symlink_in("../../../../bus/pci/devices/" BDF, "sys/kernel/iommu_groups/12/devices/" BDF);
	}
}

static int setup(void **st)
{
	char p[256];

	snprintf(root, sizeof(root), "/tmp/mvpf.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(cfgfile, sizeof(cfgfile), "%s/system.ini", root);
	dir("bin");
	put("bin/qemu-system-x86_64", "#!/bin/sh\nexit 1\n", 0755);
	dir("guest");
	put("guest/vmlinuz", "kernel", 0644);
	put("guest/initramfs.cpio.gz", "initrd", 0644);
	snprintf(p, sizeof(p), "%s/bin", root);
	setenv("PATH", p, 1);
	snprintf(p, sizeof(p), "%s/guest", root);
	setenv("MULTIVM_GUEST_DIR", p, 1);
	snprintf(p, sizeof(p), "%s/sys", root);
	host.sysfs = strdup(p);
	boots = usable = false;
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free((char *)host.sysfs);
	return 0;
}

/* A config of two VMs; extra goes into [system], vm1 into [vm vm1]. */
static void config(const char *extra, const char *vm1)
{
	char text[1024];

	snprintf(text, sizeof(text), "[system]\nuser = root\n%s\n[vm vm0]\n[vm vm1]\n%s\n[links]\nvm0 = vm1\n",
		 extra, vm1);
	put("system.ini", text, 0644);
}

static enum preflight_result run(bool no_guests)
{
	err[0] = 0;
	return preflight_run(&plan, state, cfgfile, NULL, no_guests, &host, err, sizeof(err));
}

static void refused(enum preflight_result want, bool no_guests, const char *why)
{
	assert_int_equal(run(no_guests), want);
	if (!strstr(err, why))
		fail_msg("expected '%s' in '%s'", why, err);
}

static void test_ok_tcg(void **st)
{
	struct stat sb;
	char want[256];

	config("engine = tcg", "");
	assert_int_equal(run(false), PREFLIGHT_OK);
	assert_false(plan.kvm);
	assert_int_equal(plan.cfg.nvms, 2);
	assert_string_equal(plan.dir, state);
	snprintf(want, sizeof(want), "%s/guest/vmlinuz", root);
	assert_string_equal(plan.kernel, want);
	assert_int_equal(stat(state, &sb), 0);	/* made, and made private */
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_true(plan_needs_qemu(&plan));
	/* The text parsed is the one kept as STATE/run. */
	assert_string_equal(plan.text, "[system]\nuser = root\nengine = tcg\n[vm vm0]\n[vm vm1]\n\n[links]\nvm0 = vm1\n");
	assert_non_null(realpath(cfgfile, want));	/* and the name its relative paths are relative to */
	assert_string_equal(plan.abspath, want);
}

/* apply checks a config as run does, in a state directory a system runs in. */
static void test_apply_checks(void **st)
{
	config("engine = tcg", "memory = 512M");
	assert_int_equal(preflight_run(&plan, state, cfgfile, NULL, false, &host, err, sizeof(err)), PREFLIGHT_OK);
	put("state/supervisor.pid", "1\n", 0600);	/* not ours: preflight_apply does not look */
	assert_int_equal(preflight_apply(&plan, state, cfgfile, NULL, &host, err, sizeof(err)), PREFLIGHT_OK);
	assert_int_equal(plan.cfg.vm[1].memory_mib, 512);
	put("system.ini", "[vm vm0]\nmemory = lots\n", 0644);
	assert_int_equal(preflight_apply(&plan, state, cfgfile, NULL, &host, err, sizeof(err)), PREFLIGHT_BAD_CONFIG);
	assert_non_null(strstr(err, "system.ini:2: [vm vm0] memory:"));
	config("engine = tcg", "cpuset = 100000");
	assert_int_equal(preflight_apply(&plan, state, cfgfile, NULL, &host, err, sizeof(err)), PREFLIGHT_BAD_CONFIG);
	config("engine = tcg", "cpuset = 1000");
	assert_int_equal(preflight_apply(&plan, state, cfgfile, NULL, &host, err, sizeof(err)), PREFLIGHT_REFUSED);
	assert_non_null(strstr(err, "[vm vm1] cpuset: CPU 1000 is not one multivm may run on here"));
}

static void test_engine(void **st)
{
	config("engine = auto", "");
	boots = true;
	assert_int_equal(run(false), PREFLIGHT_OK);
	assert_true(plan.kvm);
	boots = false;
	assert_int_equal(run(false), PREFLIGHT_OK);
	assert_false(plan.kvm);
	config("engine = kvm", "");
	refused(PREFLIGHT_REFUSED, false, "engine = kvm but /dev/kvm cannot be opened read-write");
	usable = true;
	refused(PREFLIGHT_REFUSED, false, "engine = kvm but a guest does not boot under KVM here");
}

static void test_bad_config(void **st)
{
	put("system.ini", "[vm vm0]\nmemory = lots\n", 0644);
	refused(PREFLIGHT_BAD_CONFIG, false, "system.ini:2:");
	snprintf(cfgfile, sizeof(cfgfile), "%s/missing.ini", root);
	refused(PREFLIGHT_BAD_CONFIG, false, "missing.ini");
}

/* cpuset names only CPUs we may run on; a CPU outside is refused with
 * its line and the CPUs there are. */
static void test_cpuset(void **st)
{
	cpu_set_t have;
	char line[64];
	int cpu = 0;

	assert_int_equal(sched_getaffinity(0, sizeof(have), &have), 0);
	while (!CPU_ISSET(cpu, &have))
		cpu++;
	snprintf(line, sizeof(line), "cpuset = %d", cpu);
	config("engine = tcg", line);
	assert_int_equal(run(false), PREFLIGHT_OK);
	assert_int_equal(plan.cfg.vm[1].cpuset[cpu / 64], 1ULL << (cpu % 64));
	assert_int_equal(plan.cfg.vm[0].cpuset_line, 0);
	config("engine = tcg", "cpuset = 1023");
	refused(PREFLIGHT_REFUSED, false, "system.ini:6: [vm vm1] cpuset: CPU 1023 is not one multivm may run on here (");
}

static void test_state_dir(void **st)
{
	char longer[200];

	config("engine = tcg", "");
	assert_int_equal(mkdir(state, 0700), 0);
	assert_int_equal(chmod(state, 0777), 0);
	refused(PREFLIGHT_REFUSED, false, "must be a directory owned by uid");
	assert_int_equal(chmod(state, 0755), 0);	/* merely readable: made private */
	assert_int_equal(run(false), PREFLIGHT_OK);

	snprintf(longer, sizeof(longer), "%s/%0100d", root, 7);
	snprintf(state, sizeof(state), "%s", longer);
	refused(PREFLIGHT_REFUSED, false, "is too long for the paths it must hold");
}

/* Started by root with a user to drop to, QEMU must pass through every
 * directory above the state directory (the temporary one is 0700). */
static void test_unreachable_state_dir(void **st)
{
	if (geteuid() != 0 || !getpwnam("multivm"))
		skip();
	put("system.ini", "[system]\nengine = tcg\n[vm vm0]\n", 0644);
	refused(PREFLIGHT_REFUSED, false, "which cannot pass through");
	assert_int_equal(run(true), PREFLIGHT_OK);	/* no QEMU: nothing reconnects */
	assert_true(plan.runas.drop);
}

static void test_qemu_and_guest(void **st)
{
	char p[256];

	config("engine = tcg", "");
	snprintf(p, sizeof(p), "%s/guest", root);
	setenv("PATH", p, 1);	/* no QEMU there */
	refused(PREFLIGHT_REFUSED, false, "qemu-system-x86_64 not found");
	assert_int_equal(run(true), PREFLIGHT_OK);	/* --no-guests needs none */
	assert_false(plan_needs_qemu(&plan));
	config("engine = tcg", "guest = external");
	refused(PREFLIGHT_REFUSED, false, "qemu-system-x86_64 not found");	/* vm0 is ours */

	snprintf(p, sizeof(p), "%s/bin", root);
	setenv("PATH", p, 1);
	snprintf(p, sizeof(p), "%s/guest/initramfs.cpio.gz", root);
	assert_int_equal(unlink(p), 0);
	refused(PREFLIGHT_REFUSED, false, "no guest image in");
}

static void test_pci(void **st)
{
	config("engine = auto", "passthrough = pci:" BDF);
	refused(PREFLIGHT_REFUSED, false, "PCI passthrough needs KVM");
	boots = usable = true;
	refused(PREFLIGHT_REFUSED, false, "passthrough: no PCI device " BDF);
	fake_sysfs("e1000e", true);
	refused(PREFLIGHT_REFUSED, false, "is bound to e1000e, not vfio-pci");
	fake_sysfs("vfio-pci", false);
	refused(PREFLIGHT_REFUSED, false, "is in no IOMMU group");
	fake_sysfs("vfio-pci", true);
	assert_int_equal(run(false), PREFLIGHT_OK);
	assert_true(plan.kvm);
}

static void test_state_paths(void **st)
{
	char p[STATE_PATH_MAX], dir[200];

	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_VHOST), 0);
	assert_string_equal(p, "/run/multivm/vm0.vhost");
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_CONSOLE_LOG), 0);
	assert_string_equal(p, "/run/multivm/vm0.console.log");
	assert_int_equal(state_file(p, "/run/multivm", NULL, SF_CONSOLE_SOCK), 0);
	assert_string_equal(p, "/run/multivm/console.sock");
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_STATUS), 0);	/* vm ignored */
	assert_string_equal(p, "/run/multivm/status");
	assert_int_equal(state_file(p, "/run/multivm", NULL, SF_STATS), -EINVAL);
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_COUNT), -EINVAL);
	memset(dir, 'd', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = 0;
	assert_int_equal(state_file(p, dir, "vm0", SF_VHOST), -ENAMETOOLONG);
	assert_string_equal(p, "");
	state_dir(dir, sizeof(dir), "/tmp/given");
	assert_string_equal(dir, "/tmp/given");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_tcg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_and_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci, setup, teardown),
		cmocka_unit_test(test_state_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
