#include "supervisor/detach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/state.h"

pid_t detach_fork(struct detach *d)
{
	int p[2], null;
	pid_t pid;

	d->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid > 0) {
		close(p[1]);
		d->fd = p[0];
		return pid;
	}
	close(p[0]);
	d->fd = p[1];
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	return 0;
}

void detach_report(struct detach *d, const char *msg)
{
	if (d->fd < 0)
		return;
	if (write(d->fd, msg, strlen(msg)) < 0)
		log_warn("cannot tell the waiting parent: %s", strerror(errno));
	close(d->fd);
	d->fd = -1;
}

static void print_status(const char *dir)
{
	char p[STATE_PATH_MAX], line[512];
	FILE *f;

	if (state_file(p, dir, NULL, SF_STATUS) < 0 || !(f = fopen(p, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
}

bool detach_wait(struct detach *d, pid_t child, const char *dir, int timeout_s)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	char buf[512] = "";
	ssize_t n = 0;
	int r;

	r = poll(&pfd, 1, timeout_s * 1000);
	if (r > 0)
		n = read(d->fd, buf, sizeof(buf) - 1);
	close(d->fd);
	d->fd = -1;
	if (n > 0 && strncmp(buf, DETACH_OK, 2) == 0) {
		print_status(dir);
		return true;
	}
	buf[n > 0 ? n : 0] = 0;
	/* The parent is `multivm run` itself: these lines are its output. */
	if (n > 0)
		fprintf(stderr, "multivm: %s",
			buf + (strncmp(buf, DETACH_FAIL, strlen(DETACH_FAIL)) ? 0 : strlen(DETACH_FAIL)));
	else if (r > 0)
		fprintf(stderr, "multivm: the supervisor exited before every VM was up\n");
	else
		fprintf(stderr, "multivm: the system did not come up in %d s\n", timeout_s);
	fprintf(stderr, "multivm: see the logs in %s; stopping what was started\n", dir);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	return false;
}
