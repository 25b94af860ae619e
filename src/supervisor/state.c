#include "supervisor/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void state_dir(char *out, size_t len, const char *opt)
{
	const char *env = getenv("MULTIVM_STATE"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (opt && *opt)
		snprintf(out, len, "%s", opt);
	else if (env && *env)
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "/run/multivm");
	else if (xdg && *xdg)
		snprintf(out, len, "%s/multivm", xdg);
	else
		snprintf(out, len, "/tmp/multivm-%u", (unsigned)geteuid());
}

int state_prepare_dir(const char *dir, bool search, char *err, size_t errlen)
{
	mode_t want = search ? 0711 : 0700;
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen, "state directory %s must be a directory owned by uid %u and "
			 "writable by it alone", dir, (unsigned)geteuid());
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((st.st_mode & 07777) != want && fchmod(fd, want) < 0) {
		snprintf(err, errlen, "cannot make state directory %s mode %04o: %s", dir, (unsigned)want,
			 strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int state_reachable(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char path[STATE_PATH_MAX], *slash;
	struct stat st;

	if (dir[0] != '/' || strlen(dir) >= sizeof(path))
		return 0;	/* relative: the kernel will tell; too long: checked elsewhere */
	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) != NULL) {
		slash[slash == path] = 0;	/* the parent; "/" stays "/" */
		if (stat(path, &st) < 0)
			break;
		if (!((st.st_uid == uid && (st.st_mode & S_IXUSR)) ||
		      (st.st_uid != uid && st.st_gid == gid && (st.st_mode & S_IXGRP)) ||
		      (st.st_uid != uid && st.st_gid != gid && (st.st_mode & S_IXOTH)))) {
			snprintf(err, errlen, "state directory %s: QEMU runs as uid %u, which cannot pass "
				 "through %s (mode %04o) to reconnect to its VMM; use -S with another directory "
				 "or make %s searchable", dir, (unsigned)uid, path,
				 (unsigned)(st.st_mode & 07777), path);
			return -1;
		}
		if (path[1] == 0)
			break;
	}
	return 0;
}

int state_file(char out[STATE_PATH_MAX], const char *dir, const char *vm, enum state_file f)
{
	static const char *const names[SF_COUNT] = {
		[SF_VHOST] = ".vhost", [SF_CONSOLE] = ".console", [SF_AGENT] = ".agent",
		[SF_STATS] = ".stats", [SF_CAPTURE] = ".capture", [SF_VMM_LOG] = ".vmm.log",
		[SF_QEMU_LOG] = ".qemu.log", [SF_CONSOLE_LOG] = ".console.log", [SF_CTL] = ".ctl",
		[SF_QMP] = ".qmp",
		[SF_OVERLAY] = ".overlay.qcow2", [SF_PERSIST] = ".persist.qcow2",
		[SF_VARS] = ".vars.fd", [SF_PERSIST_VARS] = ".persist.vars.fd", [SF_SEED] = ".seed.img",
		[SF_OVERLAY_OLD] = ".overlay.old.qcow2", [SF_PERSIST_OLD] = ".persist.old.qcow2",
		[SF_STATUS] = "status", [SF_STATUS_TMP] = ".status.tmp",
		[SF_SUPERVISOR_PID] = "supervisor.pid", [SF_SUPERVISOR_LOG] = "supervisor.log",
		[SF_CONSOLE_SOCK] = "console.sock", [SF_RUN] = "run", [SF_RUN_TMP] = ".run.tmp",
		[SF_RUN_NAME] = "run.name", [SF_RUN_NAME_TMP] = ".run.name.tmp",
		[SF_APPLY_REQ] = "apply.req", [SF_APPLY_REQ_NAME] = "apply.req.name", [SF_APPLY_RES] = "apply.res",
		[SF_APPLY_TMP] = ".apply.tmp",
	};
	bool per_vm = f < SF_PER_VM;
	int n;

	if ((unsigned)f >= SF_COUNT || (per_vm && !vm)) {
		out[0] = 0;
		return -EINVAL;
	}
	n = snprintf(out, STATE_PATH_MAX, "%s/%s%s", dir, per_vm ? vm : "", names[f]);
	if (n < 0 || n >= STATE_PATH_MAX) {
		out[0] = 0;
		return -ENAMETOOLONG;
	}
	return 0;
}

int state_nic_socket(char out[STATE_PATH_MAX], const char *dir, const char *vm, const char *nic)
{
	int n = snprintf(out, STATE_PATH_MAX, "%s/%s.%s.vhost", dir, vm, nic);

	if (n < 0 || n >= STATE_PATH_MAX) {
		out[0] = 0;
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A pid file left by a supervisor that crashed may name a pid that has
 * since been reused: only a process running `multivm ... run` counts (not
 * another program, nor one of our VMMs, `multivm vmm ...`). */
static bool is_supervisor(long pid)
{
	char path[64], cmd[4096], *base, *a;
	bool run = false;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return true;	/* cannot tell (no /proc): trust the pid file */
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[n] = 0;	/* NUL-separated arguments; a cut-off last one is fine */
	base = strrchr(cmd, '/');
	if (strcmp(base ? base + 1 : cmd, "multivm") != 0)
		return false;
	for (a = cmd + strlen(cmd) + 1; a < cmd + n; a += strlen(a) + 1) {
		if (a == cmd + strlen(cmd) + 1 && strcmp(a, "vmm") == 0)
			return false;
		run |= strcmp(a, "run") == 0;
	}
	return run;
}

pid_t state_supervisor(const char *dir)
{
	char path[STATE_PATH_MAX], buf[32];
	long pid;
	FILE *f;

	if (state_file(path, dir, NULL, SF_SUPERVISOR_PID) < 0)
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 0;
	return is_supervisor(pid) ? pid : 0;
}

int state_write_atomic(const char *dir, enum state_file name, enum state_file tmpname, const char *text)
{
	char tmp[STATE_PATH_MAX], path[STATE_PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (state_file(tmp, dir, NULL, tmpname) < 0 || state_file(path, dir, NULL, name) < 0)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0;
}

int state_write_status(const char *dir, const char *text)
{
	return state_write_atomic(dir, SF_STATUS, SF_STATUS_TMP, text);
}

int state_write_run(const char *dir, const char *name, const char *text)
{
	int rc = state_write_atomic(dir, SF_RUN_NAME, SF_RUN_NAME_TMP, name);

	return rc < 0 ? rc : state_write_atomic(dir, SF_RUN, SF_RUN_TMP, text);
}
