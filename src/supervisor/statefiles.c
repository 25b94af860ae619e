#include "supervisor/statefiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/stats.h"
#include "common/logcap.h"
#include "supervisor/state.h"

int statefiles_status(const char *dir, const struct vm_status *vms, unsigned n)
{
	char text[MV_NODES_MAX * STATUS_LINE_MAX] = "";
	size_t used = 0;
	unsigned i;

	for (i = 0; i < n && i < MV_NODES_MAX; i++) {
		int k = status_line_format(text + used, sizeof(text) - used, &vms[i]);

		if (k < 0)
			return k;	/* names and paths were checked long before */
		used += k;
	}
	return state_write_status(dir, text);
}

void statefiles_begin(const char *dir)
{
	char p[STATE_PATH_MAX];
	FILE *f;
	int fd;

	if (state_file(p, dir, NULL, SF_SUPERVISOR_LOG) == 0) {
		fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	if (state_file(p, dir, NULL, SF_SUPERVISOR_PID) == 0 && (f = fopen(p, "w")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

int statefiles_stats(const char *dir, const char *vm)
{
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, vm, SF_STATS) < 0)
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct vm_stats)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Sparse: pages are allocated only as frames are recorded. */
int statefiles_capture(const char *dir, const char *vm)
{
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, vm, SF_CAPTURE) < 0)
		return -ENAMETOOLONG;
	unlink(p);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, CAP_FILE_SIZE) < 0) {
		rc = -errno;
		close(fd);
		unlink(p);
		return rc;
	}
	return fd;
}

uint64_t statefiles_trim_logs(const char *dir, const char *vm, uint64_t max)
{
	static const enum state_file logs[] = { SF_VMM_LOG, SF_QEMU_LOG };
	char p[STATE_PATH_MAX];
	uint64_t dropped = 0;
	unsigned k;

	if (!vm)
		return state_file(p, dir, NULL, SF_SUPERVISOR_LOG) == 0 ? caplog_trim(p, max) : 0;
	for (k = 0; k < sizeof(logs) / sizeof(logs[0]); k++)
		if (state_file(p, dir, vm, logs[k]) == 0)
			dropped += caplog_trim(p, max);
	return dropped;
}

void statefiles_remove(const char *dir, const struct config *cfg)
{
	static const enum state_file per_vm[] = { SF_VHOST, SF_CONSOLE, SF_AGENT, SF_CAPTURE };
	static const enum state_file sys[] = { SF_STATUS, SF_CONSOLE_SOCK, SF_SUPERVISOR_PID };
	char p[STATE_PATH_MAX];
	unsigned i, k;

	for (i = 0; i < cfg->nvms; i++) {
		for (k = 0; k < sizeof(per_vm) / sizeof(per_vm[0]); k++)
			if (state_file(p, dir, cfg->vm[i].name, per_vm[k]) == 0)
				unlink(p);
		for (k = 0; k < cfg->vm[i].nnics; k++)
			if (state_nic_socket(p, dir, cfg->vm[i].name, cfg->vm[i].nic[k].name) == 0)
				unlink(p);
	}
	for (k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
		if (state_file(p, dir, NULL, sys[k]) == 0)
			unlink(p);
}
