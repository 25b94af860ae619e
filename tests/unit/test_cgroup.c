/* Per-VM cgroups (supervisor/cgroup.c) against a directory tree standing
 * in for the cgroup file system: it holds the files the kernel would
 * make in each cgroup, so what the writer writes can be read back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/limits.h"
#include "supervisor/cgroup.h"

static char top[64], mnt[128], mi[128], self[128], why[1024];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void putf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *text, const char *fmt, ...)
{
	char p[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	put(p, text);
}

static void dirf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dirf(const char *fmt, ...)
{
	char p[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	assert_true(mkdir(p, 0755) == 0 || access(p, F_OK) == 0);
}

static const char *readf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *readf(const char *fmt, ...)
{
	static char buf[256];
	char p[512];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* A cgroup as the kernel makes it: its interface files, empty. */
static void cgroup_dir(const char *path, bool vm)
{
	dirf("%s", path);
	putf("", "%s/cgroup.procs", path);
	putf("", "%s/cgroup.subtree_control", path);
	if (vm) {
		putf("max\n", "%s/memory.max", path);
		putf("max\n", "%s/pids.max", path);
	}
}

/* A hierarchy at top/cg (a space in its name, escaped in mountinfo as
 * the kernel does), root controllers ctl, us in cgroup own. */
static int setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/test_cgroup.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(mnt, sizeof(mnt), "%s/c g", top);
	snprintf(mi, sizeof(mi), "%s/mountinfo", top);
	snprintf(self, sizeof(self), "%s/cgroup", top);
	dirf("%s", mnt);
	putf("cpu memory pids\n", "%s/cgroup.controllers", mnt);
	putf("", "%s/cgroup.subtree_control", mnt);
	putf("24 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	     "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	     "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n", "%s", mi);
	{
		FILE *f = fopen(mi, "a");

		assert_non_null(f);
		fprintf(f, "40 30 0:37 / %s/c\\040g rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", top);
		fclose(f);
	}
	put(self, "4:memory:/x\n0::/\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The kernel's part: the directories our mkdir would make, with files. */
static void kernel_tree(const char *base, const char *vm)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/multivm", base);
	cgroup_dir(p, false);
	snprintf(p, sizeof(p), "%s/multivm/77", base);
	cgroup_dir(p, false);
	if (vm) {
		snprintf(p, sizeof(p), "%s/multivm/77/%s", base, vm);
		cgroup_dir(p, true);
	}
}

static void limits_written(void **state)
{
	struct cgroups cg;
	char err[512];
	int fd;

	kernel_tree(mnt, "vm1");
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), 0);
	assert_true(cg.dir_fd >= 0);
	assert_true(strstr(cg.path, "/c g/multivm/77") != NULL);
	/* Controllers on for the children at each level. */
	assert_string_equal(readf("%s/cgroup.subtree_control", mnt), "+memory +pids");
	assert_string_equal(readf("%s/multivm/cgroup.subtree_control", mnt), "+memory +pids");
	assert_string_equal(readf("%s/multivm/77/cgroup.subtree_control", mnt), "+memory +pids");

	fd = cgroups_vm(&cg, "vm1", cgroups_mem_max(256, 2, 0), cgroups_pids_max(2), err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	/* 256 MiB of guest + QEMU's 256 + TCG's 1024. */
	assert_int_equal(cgroups_mem_max(256, 2, 0), (uint64_t)(256 + MV_CG_QEMU_MIB + MV_CG_TCG_MIB) << 20);
	assert_int_equal(cgroups_mem_max(256, 2, 1), (uint64_t)(256 + MV_CG_QEMU_MIB) << 20);
	assert_string_equal(readf("%s/multivm/77/vm1/memory.max", mnt), "1610612736");
	assert_string_equal(readf("%s/multivm/77/vm1/pids.max", mnt), "130");

	/* Removal: the kernel's files go with the directory; ours here. */
	putf("", "%s/multivm/77/vm1/.keep", mnt);
	assert_int_equal(cgroups_vm_remove(&cg, "vm1", err, sizeof(err)), -1);
	assert_true(strstr(err, "/c g/multivm/77/vm1: Directory not empty") != NULL);
	cgroups_close(&cg);
	assert_int_equal(cg.dir_fd, -1);
}

static void errors_name_the_file(void **state)
{
	struct cgroups cg;
	char err[512], want[512];
	int fd;

	kernel_tree(mnt, NULL);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), 0);
	/* A VM's cgroup without memory.max (the kernel did not enable it). */
	dirf("%s/multivm/77/vm2", mnt);
	fd = cgroups_vm(&cg, "vm2", 1 << 30, 129, err, sizeof(err));
	assert_int_equal(fd, -1);
	snprintf(want, sizeof(want), "%s/multivm/77/vm2/memory.max: No such file or directory", mnt);
	assert_string_equal(err, want);
	putf("max\n", "%s/multivm/77/vm2/memory.max", mnt);
	assert_int_equal(cgroups_vm(&cg, "vm2", 1 << 30, 129, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/multivm/77/vm2/pids.max: No such file or directory", mnt);
	assert_string_equal(err, want);
	/* Removed when empty, as rmdir of a cgroup whose processes are gone. */
	snprintf(want, sizeof(want), "%s/multivm/77/vm2/memory.max", mnt);
	unlink(want);
	assert_int_equal(cgroups_vm_remove(&cg, "vm2", err, sizeof(err)), 0);
	assert_null(readf("%s/multivm/77/vm2/memory.max", mnt));
	cgroups_close(&cg);

	/* The parent's subtree_control cannot be written. */
	snprintf(want, sizeof(want), "%s/cgroup.subtree_control", mnt);
	unlink(want);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), -1);
	assert_int_equal(cg.dir_fd, -1);
	snprintf(want, sizeof(want), "%s/cgroup.subtree_control: No such file or directory", mnt);
	assert_string_equal(why, want);
}

/* This machine's case: cgroup v1 for memory and pids, v2 with hugetlb. */
static void notice_without_controllers(void **state)
{
	struct cgroups cg;
	char want[512];

	putf("hugetlb\n", "%s/cgroup.controllers", mnt);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), -1);
	assert_int_equal(cg.dir_fd, -1);
	snprintf(want, sizeof(want),
		 "cgroup v2 at %s offers no memory or pids controller (cgroup.controllers: hugetlb)", mnt);
	assert_string_equal(why, want);
	assert_null(readf("%s/multivm/cgroup.subtree_control", mnt));	/* nothing made */
	putf("memory\n", "%s/cgroup.controllers", mnt);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), -1);
	assert_true(strstr(why, "offers no pids controller (cgroup.controllers: memory)") != NULL);
	putf("", "%s/cgroup.controllers", mnt);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), -1);
	assert_true(strstr(why, "offers no memory or pids controller (cgroup.controllers: none)") != NULL);

	/* No cgroup2 mount at all. */
	put(mi, "24 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), -1);
	snprintf(want, sizeof(want), "no cgroup v2 hierarchy is mounted (%s)", mi);
	assert_string_equal(why, want);
}

/* Our own cgroup first (a delegation); its root when ours has none. */
static void own_cgroup_first(void **state)
{
	struct cgroups cg;
	char sub[256];

	snprintf(sub, sizeof(sub), "%s/svc", mnt);
	cgroup_dir(sub, false);
	putf("memory pids\n", "%s/cgroup.controllers", sub);
	kernel_tree(sub, NULL);
	put(self, "0::/svc\n");
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), 0);
	assert_true(strstr(cg.path, "/c g/svc/multivm/77") != NULL);
	cgroups_close(&cg);

	putf("cpu\n", "%s/cgroup.controllers", sub);
	kernel_tree(mnt, NULL);
	assert_int_equal(cgroups_open(&cg, mi, self, "77", why, sizeof(why)), 0);
	assert_true(strstr(cg.path, "/c g/multivm/77") != NULL);
	assert_null(strstr(cg.path, "svc"));
	cgroups_close(&cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(limits_written, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_name_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(notice_without_controllers, setup, teardown),
		cmocka_unit_test_setup_teardown(own_cgroup_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
