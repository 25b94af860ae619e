/* Host side of the guest agent channel. Protocol: docs/agent.md.
 * Every wait is bounded by the caller's deadline. */
#include "cli/agent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/agent_proto.h"

#define EXEC_FAILED	255	/* agent-exec's own failure, apart from the command's status */

#define PING_WAIT_MS 1000	/* per attempt; QEMU may be serving someone else */
#define RECONNECT_MS 50		/* between attempts while the socket is not there */

struct chan {
	int fd;
	char nonce[AGENT_NONCE_MAX];
	char buf[AGENT_MAX_HDR + AGENT_MAX_PAYLOAD];
	size_t have;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int left(long long deadline)
{
	long long l = deadline - now_ms();

	return l < 0 ? 0 : (int)l;
}

static int connect_once(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int send_all(int fd, const void *p, size_t len, long long deadline)
{
	const char *c = p;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&pfd, 1, left(deadline)) <= 0)
			return -ETIMEDOUT;
		n = send(fd, c, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		c += n;
		len -= n;
	}
	return 0;
}

static int send_frame(struct chan *c, char type, const char *data, size_t len, long long deadline)
{
	char hdr[AGENT_MAX_HDR];
	int n = snprintf(hdr, sizeof(hdr), AGENT_MAGIC "%c %s %zu\n", type, c->nonce, len);
	int rc = send_all(c->fd, hdr, n, deadline);

	return rc ? rc : send_all(c->fd, data, len, deadline);
}

/* Next frame carrying our nonce; frames for other nonces (left over from
 * an earlier client) and garbage are skipped. Returns type, or -errno. */
static int recv_frame(struct chan *c, long long deadline, const char **data, size_t *len)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->have < AGENT_MAX_HDR ? c->have : AGENT_MAX_HDR);
		char type, nonce[AGENT_NONCE_MAX];
		size_t plen, hlen;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (nl && c->have >= strlen(AGENT_MAGIC) && memcmp(c->buf, AGENT_MAGIC, strlen(AGENT_MAGIC)) == 0 &&
		    sscanf(c->buf + strlen(AGENT_MAGIC), AGENT_HDR_SCAN, &type, nonce, &plen) == 3 &&
		    plen <= AGENT_MAX_PAYLOAD) {
			hlen = nl + 1 - c->buf;
			if (c->have >= hlen + plen) {
				static char out[AGENT_MAX_PAYLOAD + 1];

				memcpy(out, c->buf + hlen, plen);
				out[plen] = 0;
				memmove(c->buf, c->buf + hlen + plen, c->have - hlen - plen);
				c->have -= hlen + plen;
				if (strcmp(nonce, c->nonce) != 0)
					continue;
				*data = out;
				*len = plen;
				return type;
			}
		} else if (nl || c->have >= AGENT_MAX_HDR) {
			/* Not a frame header: drop through the end of this line. */
			size_t skip = nl ? (size_t)(nl + 1 - c->buf) : c->have;

			memmove(c->buf, c->buf + skip, c->have - skip);
			c->have -= skip;
			continue;
		}
		if (poll(&pfd, 1, left(deadline)) <= 0)
			return -ETIMEDOUT;
		n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->have += n;
	}
}

static void new_nonce(struct chan *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(c->nonce, sizeof(c->nonce), "%x%lx%x", (unsigned)getpid(), (long)ts.tv_nsec,
		 (unsigned)rand());
}

/* Connects and pings until the agent answers. Leaves c connected. */
static int ready(struct chan *c, const char *sock, long long deadline)
{
	int rc = -ETIMEDOUT;

	do {
		long long attempt = now_ms() + PING_WAIT_MS;
		const char *d;
		size_t len;

		c->fd = connect_once(sock);
		c->have = 0;
		if (c->fd >= 0) {
			new_nonce(c);
			if (attempt > deadline)
				attempt = deadline;
			rc = send_frame(c, AGENT_PING, "", 0, attempt);
			if (!rc)
				rc = recv_frame(c, attempt, &d, &len);
			if (rc == AGENT_READY)
				return 0;
			close(c->fd);
			c->fd = -1;
			if (rc != -ETIMEDOUT && rc != -ECONNRESET && rc >= 0)
				rc = -EPROTO;
		} else {
			rc = c->fd;
			struct timespec ts = { 0, RECONNECT_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
	} while (now_ms() < deadline);
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ECONNRESET ? -ETIMEDOUT : rc;
}

int agent_wait_ready(const char *sock, int timeout_ms)
{
	static struct chan c;
	int rc = ready(&c, sock, now_ms() + timeout_ms);

	if (!rc)
		close(c.fd);
	return rc;
}

int agent_exec(const char *sock, const char *cmd, int timeout_ms, int out_fd)
{
	static struct chan c;
	long long deadline = now_ms() + timeout_ms;
	size_t clen = strlen(cmd);
	int rc;

	if (clen > AGENT_MAX_PAYLOAD)
		return -E2BIG;
	rc = ready(&c, sock, deadline);
	if (rc)
		return rc;
	rc = send_frame(&c, AGENT_EXEC, cmd, clen, deadline);
	while (!rc) {
		const char *d;
		size_t len;
		int t = recv_frame(&c, deadline, &d, &len);

		if (t < 0) {
			rc = t;
		} else if (t == AGENT_OUTPUT) {
			if (write(out_fd, d, len) < 0)
				rc = -errno;
		} else if (t == AGENT_EXIT) {
			rc = atoi(d);
			break;
		}
	}
	close(c.fd);
	return rc;
}

int agent_join_words(char *out, size_t len, int argc, char **argv)
{
	size_t used = 0;
	int i;

	out[0] = 0;
	for (i = 0; i < argc; i++) {
		int n = snprintf(out + used, len - used, "%s%s", used ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= len - used)
			return -E2BIG;
		used += n;
	}
	return 0;
}

int cmd_agent_exec(const char *dir, int argc, char **argv)
{
	static char cmd[AGENT_MAX_PAYLOAD + 1];
	char *end;
	long secs = 120;
	int i = 1, rc;
	const char *sock;

	if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
		secs = strtol(argv[i + 1], &end, 10);
		if (!*argv[i + 1] || *end || secs <= 0 || secs > 86400)
			goto usage;
		i += 2;
	}
	if (i >= argc || argv[i][0] == '-')
		goto usage;
	sock = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		goto usage;
	if (agent_join_words(cmd, sizeof(cmd), argc - i, argv + i) < 0) {
		fprintf(stderr, "multivm: agent-exec: command too long\n");
		return EXEC_FAILED;
	}
	rc = agent_exec(sock, cmd, secs * 1000, 1);
	if (rc < 0) {
		fprintf(stderr, "multivm: agent-exec: %s: %s\n", sock,
			rc == -ETIMEDOUT ? "timed out waiting for the guest" : strerror(-rc));
		return EXEC_FAILED;
	}
	return rc;
usage:
	fprintf(stderr, "usage: multivm agent-exec [--timeout SECS] SOCKET -- CMD...\n");
	return EXEC_FAILED;
}
