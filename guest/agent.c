/* multivm guest agent: runs commands for `multivm exec` over the
 * virtio-serial port "multivm.agent". Protocol: docs/agent.md.
 * Static, single-threaded, one command at a time. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/agent_proto.h"

static char in[AGENT_MAX_HDR + AGENT_MAX_PAYLOAD + 1];
static size_t have;

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* /dev/vportNpM whose sysfs name is multivm.agent. */
static int open_port(void)
{
	char path[300], name[64];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && strcmp(name, AGENT_PORT_NAME "\n") == 0) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

/* Best effort: if the host went away, output is lost, the command is not. */
static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

static void send_frame(int fd, char type, const char *nonce, const void *data, size_t len)
{
	char hdr[AGENT_MAX_HDR];
	int n = snprintf(hdr, sizeof(hdr), AGENT_MAGIC "%c %s %zu\n", type, nonce, len);

	write_all(fd, hdr, n);
	if (len)
		write_all(fd, data, len);
}

/* Pipes of commands whose shell exited while something it started in the
 * background still holds the output open (udhcpc, `cmd &`). Kept open and
 * drained, so those processes neither block nor die of SIGPIPE. */
#define MAX_ORPHANS 16
static int orphans[MAX_ORPHANS];
static unsigned norphans;

static void adopt(int fd)
{
	if (norphans == MAX_ORPHANS) {	/* the oldest goes: it gets SIGPIPE */
		close(orphans[0]);
		memmove(orphans, orphans + 1, sizeof(orphans) - sizeof(orphans[0]));
		norphans--;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	orphans[norphans++] = fd;
}

/* Reads and discards what orphans wrote (a bounded amount per pass, so a
 * writer that never stops cannot keep us here); forgets those that closed,
 * keeping the others in age order. */
static void drain_orphans(void)
{
	char buf[4096];
	unsigned i = 0;

	while (i < norphans) {
		ssize_t n = 0;
		int k;

		for (k = 0; k < 16 && (n = read(orphans[i], buf, sizeof(buf))) > 0; k++)
			;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(orphans[i]);
			memmove(orphans + i, orphans + i + 1, (norphans - i - 1) * sizeof(orphans[0]));
			norphans--;
			continue;
		}
		i++;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Forwards the command's output until its shell has exited and the pipe
 * went quiet (EOF, 200 ms of silence, or 1 s after the exit: only
 * background processes are left). The command is done when its shell
 * is, not when they are. */
static void run(int port, const char *nonce, const char *cmd)
{
	char buf[4096], st[16];
	int p[2], status = 0, exited = 0, quiet = 0, owed = 0;
	long exit_ms = 0;
	pid_t pid;
	ssize_t n;

	/* Close-on-exec: later commands must not hold earlier pipes. */
	if (pipe2(p, O_CLOEXEC) < 0) {
		send_frame(port, AGENT_EXIT, nonce, "255", 3);
		return;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		send_frame(port, AGENT_EXIT, nonce, "255", 3);
		return;
	}
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			exit_ms = now_ms();
			/* What the command wrote before it exited is its output,
			 * however slowly the host takes it: the limits below are
			 * only for what comes after. */
			if (ioctl(p[0], FIONREAD, &owed) < 0)
				owed = 0;
		}
		if (exited && owed <= 0 && (quiet >= 4 || now_ms() - exit_ms > 1000))
			break;
		r = poll(&pfd, 1, exited ? 50 : 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			quiet += exited && r == 0;
			continue;
		}
		n = read(p[0], buf, sizeof(buf));
		if (n > 0) {
			send_frame(port, AGENT_OUTPUT, nonce, buf, n);
			quiet = 0;
			if (owed > 0 && (owed -= n) <= 0)
				exit_ms = now_ms();	/* the 1 s starts now */
		} else if (n == 0 || errno != EINTR) {	/* EOF: everyone is done */
			close(p[0]);
			p[0] = -1;
			break;
		}
	}
	if (!exited && waitpid(pid, &status, 0) < 0)
		status = 255 << 8;
	if (p[0] >= 0)
		adopt(p[0]);
	n = snprintf(st, sizeof(st), "%d",
		     WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
	send_frame(port, AGENT_EXIT, nonce, st, n);
}

/* Handles every complete frame at the start of in[]; drops garbage up to
 * the next line that starts with the magic. */
static void parse(int port)
{
	for (;;) {
		char type, nonce[AGENT_NONCE_MAX], *nl;
		size_t len, hlen;

		if (have < strlen(AGENT_MAGIC))
			return;
		if (memcmp(in, AGENT_MAGIC, strlen(AGENT_MAGIC)) != 0) {
			char *next = memmem(in + 1, have - 1, "\n" AGENT_MAGIC, strlen(AGENT_MAGIC) + 1);
			size_t skip = next ? (size_t)(next + 1 - in) : have;

			memmove(in, in + skip, have - skip);
			have -= skip;
			continue;
		}
		nl = memchr(in, '\n', have < AGENT_MAX_HDR ? have : AGENT_MAX_HDR);
		if (!nl) {
			if (have < AGENT_MAX_HDR)
				return;
			in[0] = '#';	/* overlong header: resynchronise */
			continue;
		}
		*nl = 0;
		hlen = nl + 1 - in;
		if (sscanf(in + strlen(AGENT_MAGIC), AGENT_HDR_SCAN, &type, nonce, &len) != 3 || len > AGENT_MAX_PAYLOAD) {
			memmove(in, in + hlen, have - hlen);
			have -= hlen;
			continue;
		}
		if (have < hlen + len) {
			*nl = '\n';
			return;
		}
		if (type == AGENT_PING) {
			send_frame(port, AGENT_READY, nonce, NULL, 0);
		} else if (type == AGENT_EXEC) {
			char *cmd = in + hlen, save = cmd[len];

			cmd[len] = 0;
			run(port, nonce, cmd);
			cmd[len] = save;
		}
		memmove(in, in + hlen + len, have - hlen - len);
		have -= hlen + len;
	}
}

int main(void)
{
	int port;

	signal(SIGPIPE, SIG_IGN);
	while ((port = open_port()) < 0)
		nap(200);
	for (;;) {
		struct pollfd pfd[1 + MAX_ORPHANS] = { { .fd = port, .events = POLLIN } };
		unsigned i;
		ssize_t n;

		for (i = 0; i < norphans; i++)
			pfd[1 + i] = (struct pollfd){ .fd = orphans[i], .events = POLLIN };
		if (poll(pfd, 1 + norphans, 1000) < 0 && errno != EINTR)
			nap(50);
		drain_orphans();
		if (!(pfd[0].revents & POLLIN)) {
			/* Host side closed: Linux reports POLLHUP until it returns. */
			if (pfd[0].revents & (POLLHUP | POLLERR))
				nap(50);
			continue;
		}
		n = read(port, in + have, sizeof(in) - 1 - have);
		if (n <= 0) {
			nap(50);
			continue;
		}
		have += n;
		parse(port);
		if (have == sizeof(in) - 1)
			have = 0;	/* cannot be a valid frame: start over */
	}
}
