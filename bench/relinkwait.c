/* make bench (bench/relink.sh): how soon a link handed to a running VMM
 * carries frames. Runs CMD (`multivm apply NEW.ini`) and watches the
 * VMM's counters file (STATE/NAME.stats, read-only) every 100 us for a
 * link to PEER that has carried a frame (tx_frames > 0); prints the ms
 * from starting CMD to that frame, and from CMD's return to it
 * (negative: before CMD returned), and the wall-clock time of that frame
 * (CLOCK_REALTIME, s.ms, as the supervisor's log lines are stamped).
 *
 * Usage: relinkwait STATSFILE PEER TIMEOUT_MS CMD [ARG...] */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/stats.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Whether the link to peer carried a frame. */
static int carried(int fd, const char *peer)
{
	static struct link_stats l[MV_NODE_LINKS_MAX];
	uint32_t n;
	unsigned k;

	if (pread(fd, &n, sizeof(n), offsetof(struct vm_stats, nlinks)) != (ssize_t)sizeof(n) ||
	    pread(fd, l, sizeof(l), offsetof(struct vm_stats, link)) != (ssize_t)sizeof(l))
		return 0;
	for (k = 0; k < n && k < MV_NODE_LINKS_MAX; k++)
		if (!strncmp(l[k].peer, peer, sizeof(l[k].peer)) && l[k].tx_frames > 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	double t0, t_ret = -1, t_frame = -1, limit, wall = 0;
	struct timespec rt;
	int fd, status = 0;
	pid_t pid;

	if (argc < 5) {
		fprintf(stderr, "usage: relinkwait STATSFILE PEER TIMEOUT_MS CMD [ARG...]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (carried(fd, argv[2])) {
		fprintf(stderr, "relinkwait: the link to %s carries frames already\n", argv[2]);
		return 1;
	}
	limit = atof(argv[3]);
	t0 = now_ms();
	if (posix_spawn(&pid, argv[4], NULL, NULL, argv + 4, environ) != 0) {
		perror(argv[4]);
		return 1;
	}
	while (now_ms() - t0 < limit && (t_ret < 0 || t_frame < 0)) {
		if (t_ret < 0 && waitpid(pid, &status, WNOHANG) == pid)
			t_ret = now_ms();
		if (t_frame < 0 && carried(fd, argv[2])) {
			t_frame = now_ms();
			clock_gettime(CLOCK_REALTIME, &rt);
			wall = rt.tv_sec + rt.tv_nsec / 1e9;
		}
		usleep(100);
	}
	if (t_ret < 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		fprintf(stderr, "relinkwait: %s did not return within %s ms\n", argv[4], argv[3]);
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "relinkwait: %s failed\n", argv[4]);
		return 1;
	}
	if (t_frame < 0) {
		fprintf(stderr, "relinkwait: no frame on the link to %s within %s ms\n", argv[2], argv[3]);
		return 1;
	}
	printf("apply_ms=%.1f first_frame_ms=%.1f after_return_ms=%.1f first_frame_wall=%.4f\n", t_ret - t0,
	       t_frame - t0, t_frame - t_ret, wall);
	return 0;
}
