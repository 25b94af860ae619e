#include "supervisor/lifeline.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"

static int line[2] = { -1, -1 };	/* the pipe: [0] children's, [1] ours alone */
static int guard_sock = -1;		/* ours: pidfds go to the guard on it */

int lifeline_fd(void)
{
	return line[0];
}

void lifeline_cut(void)
{
	if (line[1] >= 0)
		close(line[1]);
	line[1] = -1;
	if (guard_sock >= 0)
		close(guard_sock);
	guard_sock = -1;
}

bool lifeline_child_gone(void)
{
	struct pollfd p = { .fd = line[0] };

	lifeline_cut();
	/* No write end but the supervisor's is open now: hung up, it died. */
	return line[0] >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Takes every pidfd waiting on the socket into held[], answering each
 * (held, or full); -1 at its end (the supervisor closed it: it is gone
 * or going). */
static int take(int sock, int *held, unsigned *n)
{
	for (;;) {
		char byte, cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &byte, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		int fd = -1;

		if (r < 0)
			return errno == EINTR || errno == EAGAIN ? 0 : -1;
		if (r == 0)
			return -1;
		c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		if (fd < 0)
			continue;
		if (*n == MV_GUARD_MAX) {
			close(fd);
			send(sock, "F", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			continue;
		}
		held[(*n)++] = fd;
		send(sock, "H", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
}

/* The guard: holds the QEMUs' pidfds, drops each once its QEMU exits,
 * and kills those left when the supervisor is gone. */
static void guard(int sock)
{
	static struct pollfd p[2 + MV_GUARD_MAX];
	static int held[MV_GUARD_MAX];
	unsigned n = 0, i, killed = 0;

	for (;;) {
		p[0] = (struct pollfd){ .fd = line[0] };	/* POLLHUP is always reported */
		p[1] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (i = 0; i < n; i++)
			p[2 + i] = (struct pollfd){ .fd = held[i], .events = POLLIN };
		if (poll(p, 2 + n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		/* Exited (readable, kernel 5.3+), before new ones are taken: p
		 * and held still match. Downwards: the one moved in was seen. */
		for (i = n; i-- > 0;)
			if (p[2 + i].revents & (POLLIN | POLLHUP)) {
				close(held[i]);
				held[i] = held[--n];
			}
		if ((p[1].revents & (POLLIN | POLLHUP)) && take(sock, held, &n) < 0)
			break;
	}
	take(sock, held, &n);	/* handed over just before the end */
	for (i = 0; i < n; i++)
		killed += pidfd_send_signal(held[i], SIGKILL, NULL, 0) == 0;
	if (killed)
		log_warn("the supervisor is gone: killed %u QEMU%s", killed, killed == 1 ? "" : "s");
}

/* The fds the guard keeps: stdio, the lifeline's read end and its socket;
 * the rest (ports, link memory, logs) are the supervisor's to let go. */
static void keep_only(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0u, 0);
}

int lifeline_start(void)
{
	int sv[2], sig;
	pid_t pid;

	if (line[0] >= 0)
		return 0;
	if (pipe2(line, O_CLOEXEC) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sv[0]);
		close(line[1]);
		keep_only(line[0], sv[1]);
		/* Not stopped by what stops the supervisor: only by its end. */
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
				signal(sig, SIG_IGN);
		prctl(PR_SET_NAME, "multivm-guard");
		log_set_tag("guard");
		guard(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	guard_sock = sv[0];
	/* The guard answers at once; never wait on it for long. */
	setsockopt(guard_sock, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 2 }, sizeof(struct timeval));
	return 0;
}

int lifeline_guard(pid_t pid)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd, rc = 0;

	if (guard_sock < 0)
		return -ENOTCONN;
	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -errno;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	if (sendmsg(guard_sock, &m, MSG_NOSIGNAL) != 1)
		rc = -errno;
	close(fd);
	if (rc < 0)
		return rc;
	/* Its word: held ('H'), or full. Until then the child waits. */
	while ((rc = (int)recv(guard_sock, &byte, 1, 0)) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return -errno;
	return rc == 1 && byte == 'H' ? 0 : rc == 1 ? -ENOSPC : -EPIPE;
}
