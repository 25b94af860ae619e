#include "supervisor/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int state_path(char *out, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(out, STATE_PATH_MAX, "%s/%s%s", dir, name, suffix);

	return (n < 0 || n >= STATE_PATH_MAX) ? -ENAMETOOLONG : 0;
}

/* A pid file left by a supervisor that crashed may name a pid that has
 * since been reused: only a process running multivm counts. */
static bool is_multivm(long pid)
{
	char path[64], argv0[256] = "", *base;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return true;	/* cannot tell (no /proc): trust the pid file */
	if (!fgets(argv0, sizeof(argv0), f))	/* as a string: argv[0] alone */
		argv0[0] = 0;
	fclose(f);
	base = strrchr(argv0, '/');
	return strcmp(base ? base + 1 : argv0, "multivm") == 0;
}

pid_t state_supervisor(const char *dir)
{
	char path[STATE_PATH_MAX + 32], buf[32];
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/supervisor.pid", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 0;
	return is_multivm(pid) ? pid : 0;
}

int state_write_status(const char *dir, const char *text)
{
	char tmp[STATE_PATH_MAX + 32], path[STATE_PATH_MAX + 32];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.status.tmp", dir);
	snprintf(path, sizeof(path), "%s/status", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0;
}
