/* Where spawn.c starts a VM's child (as root: namespaces and cgroups need
 * it): the init of a PID namespace of its own, with a /proc of that
 * namespace; in the cgroup it is given, joined before exec; and a child
 * that cannot join says so and does not run; without clone3 (before
 * Linux 5.3) the legacy clone does the same. Children end with the
 * supervisor (lifeline.h): a guarded one is killed once the lifeline is
 * cut, and none spawned after that runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/limits.h"
#include "supervisor/lifeline.h"
#include "supervisor/spawn.h"

static char *const sleeper[] = { "sleep", "30", NULL };

static long long ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static bool file_has(const char *path, const char *want)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (ssize_t i = 0; i < n; i++)	/* cmdline: NULs between words */
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, want) != NULL;
}

/* Waits (5 s at most) until pid has exec'd sleep: its set-up is done. */
static void wait_exec(pid_t pid)
{
	char p[64];
	long long end = ms() + 5000;

	snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
	while (!file_has(p, "sleep 30") && ms() < end)
		usleep(1000);
	assert_true(file_has(p, "sleep 30"));
}

static void kill_reap(pid_t pid)
{
	int st;

	assert_int_equal(kill(pid, SIGKILL), 0);	/* an init takes SIGKILL from its parent */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void own_pid_namespace_and_proc(void **state)
{
	struct spawn_how how = { .ns = SPAWN_NEWPID | SPAWN_NEWPROC, .cgroup_fd = -1 };
	char p[128], want[64], ours[64], its[64];
	struct dirent *e;
	unsigned seen = 0, ones = 0;
	DIR *d;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	pid = spawn_argv(sleeper, 2, &how);
	assert_true(pid > 0);
	wait_exec(pid);
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	snprintf(want, sizeof(want), "NSpid:\t%d\t1\n", (int)pid);
	assert_true(file_has(p, want));
	/* Its PID and mount namespaces are not ours. */
	assert_true(readlink("/proc/self/ns/pid", ours, sizeof(ours)) > 0);
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)pid);
	memset(its, 0, sizeof(its));
	assert_true(readlink(p, its, sizeof(its) - 1) > 0);
	assert_string_not_equal(its, ours);
	/* Its /proc holds one process: itself, pid 1. */
	snprintf(p, sizeof(p), "/proc/%d/root/proc", (int)pid);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
			seen++;
			ones += !strcmp(e->d_name, "1");
		}
	closedir(d);
	assert_int_equal(seen, 1);
	assert_int_equal(ones, 1);
	kill_reap(pid);
}

/* Where the kernel has no clone3 (before 5.3; here a seccomp filter of a
 * forked test process says ENOSYS for it), a child still starts as the
 * init of a PID namespace of its own, by the legacy clone. */
static void without_clone3(void **state)
{
	pid_t t, pid;
	int st;

	if (geteuid() != 0)
		skip();
	t = fork();
	assert_true(t >= 0);
	if (t == 0) {
		struct spawn_how how = { .ns = SPAWN_NEWPID, .cgroup_fd = -1 };
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		char p[64], want[64];
		long long end;

		if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
		    seccomp_load(ctx) < 0)
			_exit(2);
		if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
			_exit(3);	/* the filter is on */
		pid = spawn_argv(sleeper, 2, &how);
		if (pid <= 0) {
			fprintf(stderr, "spawn_argv: %s\n", strerror(-pid));
			_exit(4);
		}
		snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
		snprintf(want, sizeof(want), "NSpid:\t%d\t1\n", (int)pid);
		end = ms() + 5000;
		while (!file_has(p, want) && ms() < end)
			usleep(1000);
		st = file_has(p, want) ? 0 : 5;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		_exit(st);
	}
	assert_int_equal(waitpid(t, &st, 0), t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A writable cgroup2 directory of ours, or skip. */
static int cg_dir(char *path, size_t len)
{
	static const char *const mounts[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct statfs fs;
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (statfs(mounts[i], &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		snprintf(path, len, "%s/multivm-test-%d", mounts[i], (int)getpid());
		if (mkdir(path, 0755) == 0)
			return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return -1;
}

static void joins_its_cgroup(void **state)
{
	char dir[128], p[64], want[160];
	struct spawn_how how = { .ns = SPAWN_NEWPID };
	pid_t pid;

	if (geteuid() != 0 || (how.cgroup_fd = cg_dir(dir, sizeof(dir))) < 0)
		skip();
	pid = spawn_argv(sleeper, 2, &how);
	assert_true(pid > 0);
	wait_exec(pid);
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof(want), "0::/%s\n", strrchr(dir, '/') + 1);
	assert_true(file_has(p, want));
	kill_reap(pid);
	close(how.cgroup_fd);
	assert_int_equal(rmdir(dir), 0);	/* empty once it is reaped */
}

static void says_why_it_cannot_join(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", out[512] = "";
	struct spawn_how how = { .cgroup_fd = -1 };
	int lp[2], st;
	ssize_t n;
	pid_t pid;

	assert_non_null(mkdtemp(dir));	/* no cgroup.procs: not a cgroup */
	how.cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(how.cgroup_fd >= 0);
	assert_int_equal(pipe2(lp, O_CLOEXEC), 0);
	pid = spawn_argv(sleeper, lp[1], &how);
	assert_true(pid > 0);
	close(lp[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 127);	/* it never ran */
	n = read(lp[0], out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = 0;
	assert_string_equal(out, "multivm: cannot join the VM's cgroup (cgroup.procs): No such file or directory\n");
	close(lp[0]);
	close(how.cgroup_fd);
	rmdir(dir);
}

/* A guarded child (a QEMU) is killed by the guard once the lifeline is
 * cut, as the supervisor's death cuts it; the guard then ends too. */
static void guard_kills_when_lifeline_cut(void **state)
{
	struct spawn_how how = { .cgroup_fd = -1, .guard = true };
	long long end;
	pid_t pid, r;
	int st;

	assert_int_equal(lifeline_start(), 0);
	assert_true(lifeline_fd() >= 0);
	pid = spawn_argv(sleeper, 2, &how);
	assert_true(pid > 0);
	wait_exec(pid);
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);	/* held, running */
	lifeline_cut();
	end = ms() + 5000;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && ms() < end)
		usleep(1000);
	assert_int_equal(r, pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	end = ms() + 5000;	/* the guard, our other child */
	while ((r = waitpid(-1, &st, WNOHANG)) == 0 && ms() < end)
		usleep(1000);
	assert_true(r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The guard lets go of each child that exited: more are spawned, one at
 * a time, than it holds at once (MV_GUARD_MAX), and all are held. */
static void guard_drops_the_exited(void **state)
{
	static char *const quick[] = { "true", NULL };
	struct spawn_how how = { .cgroup_fd = -1, .guard = true };
	unsigned i;
	pid_t pid;
	int st;

	assert_int_equal(lifeline_start(), 0);
	for (i = 0; i < 2 * MV_GUARD_MAX + 1; i++) {
		pid = spawn_argv(quick, 2, &how);
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

/* Spawned once the supervisor is gone: neither kind ever execs. */
static void never_execs_once_gone(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", file[64];
	char *const toucher[] = { "touch", file, NULL };
	struct spawn_how how = { .cgroup_fd = -1 };
	pid_t pid;
	int st;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/ran", dir);
	pid = spawn_argv(toucher, 2, &how);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	how.guard = true;	/* no guard to hold it: refused, and reaped */
	assert_int_equal(spawn_argv(toucher, 2, &how), -ENOTCONN);
	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(access(file, F_OK), -1);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_pid_namespace_and_proc),
		cmocka_unit_test(without_clone3),
		cmocka_unit_test(joins_its_cgroup),
		cmocka_unit_test(says_why_it_cannot_join),
		cmocka_unit_test(guard_drops_the_exited),
		cmocka_unit_test(guard_kills_when_lifeline_cut),	/* these two last: the lifeline stays cut */
		cmocka_unit_test(never_execs_once_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
