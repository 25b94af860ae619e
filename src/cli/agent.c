/* Host side of the guest agent channel: a QGA client (docs/agent.md).
 * The guest is untrusted: every wait is bounded by the caller's deadline,
 * every reply by a size, and every reply is checked for its shape before
 * anything in it is used. */
#include "cli/agent.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/agent_proto.h"

#define EXEC_FAILED	255	/* agent-exec's own failure, apart from the command's status */

#define SYNC_WAIT_MS	1000	/* per guest-sync attempt: the guest may still be booting */
#define RECONNECT_MS	50	/* between attempts while the socket is not there */
#define POLL_FIRST_MS	10	/* guest-exec-status: first pause, doubling up to */
#define POLL_MAX_MS	250
#define SMALL_REPLY	65536	/* any reply but guest-exec-status's */
#define CHUNK		65536

struct qga {
	int fd;
	char *buf;
	size_t have, cap;
	size_t scanned;		/* bytes of buf known to hold no newline */
	long long sync_base;	/* the ids of this channel's guest-sync requests */
	unsigned syncs;
};

static char last_error[256];	/* the agent's own error, for agent_report */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int left(long long deadline)
{
	long long l = deadline - now_ms();

	return l < 0 ? 0 : l > 1000000 ? 1000000 : (int)l;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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
			return errno == EPIPE ? -ECONNRESET : -errno;
		c += n;
		len -= n;
	}
	return 0;
}

/* Sends one request: {"execute": name, "arguments": args} and a newline,
 * after the delimiter byte if delim. Takes args' reference. */
static int request(struct qga *q, const char *name, json_t *args, int delim, long long deadline)
{
	json_t *req = json_pack("{s:s}", "execute", name);
	char *text;
	int rc;

	if (!req) {
		json_decref(args);
		return -ENOMEM;
	}
	if (args && json_object_set_new(req, "arguments", args) < 0) {
		json_decref(req);
		return -ENOMEM;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return -ENOMEM;
	rc = 0;
	if (delim) {
		char d = (char)AGENT_DELIM;

		rc = send_all(q->fd, &d, 1, deadline);
	}
	if (!rc)
		rc = send_all(q->fd, text, strlen(text), deadline);
	if (!rc)
		rc = send_all(q->fd, "\n", 1, deadline);
	free(text);
	return rc;
}

/* Reads more into buf, growing it up to limit bytes. */
static int fill(struct qga *q, size_t limit, long long deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	ssize_t n;

	if (q->have >= limit)
		return -EMSGSIZE;
	if (q->cap - q->have < CHUNK && q->cap < limit + 1) {
		size_t cap = q->cap ? q->cap * 2 : 2 * CHUNK;
		char *b;

		if (cap > limit + 1)
			cap = limit + 1;
		b = realloc(q->buf, cap);
		if (!b)
			return -ENOMEM;
		q->buf = b;
		q->cap = cap;
	}
	for (;;) {
		size_t room = q->cap - q->have;

		if (room > limit - q->have)
			room = limit - q->have;
		if (poll(&pfd, 1, left(deadline)) <= 0)
			return -ETIMEDOUT;
		n = recv(q->fd, q->buf + q->have, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		q->have += n;
		return 0;
	}
}

static void consume(struct qga *q, size_t n)
{
	memmove(q->buf, q->buf + n, q->have - n);
	q->have -= n;
	q->scanned = 0;
}

/* The next line (without its newline) in *line, *len; the caller consumes
 * it with consume(q, *len + 1). A line longer than limit: -EMSGSIZE. */
static int next_line(struct qga *q, size_t limit, long long deadline, char **line, size_t *len)
{
	for (;;) {
		char *nl = q->have > q->scanned ? memchr(q->buf + q->scanned, '\n', q->have - q->scanned) : NULL;
		int rc;

		if (nl) {
			*line = q->buf;
			*len = nl - q->buf;
			return *len > limit ? -EMSGSIZE : 0;
		}
		q->scanned = q->have;
		if (q->have > limit)
			return -EMSGSIZE;
		rc = fill(q, limit + 1, deadline);
		if (rc)
			return rc;
	}
}

/* Drops everything up to and including the next delimiter byte. */
static int skip_to_delim(struct qga *q, long long deadline)
{
	for (;;) {
		char *d = q->have ? memchr(q->buf, AGENT_DELIM, q->have) : NULL;
		int rc;

		if (d) {
			consume(q, d + 1 - q->buf);
			return 0;
		}
		q->have = 0;
		q->scanned = 0;
		rc = fill(q, CHUNK, deadline);
		if (rc)
			return rc;
	}
}

/* guest-sync-delimited until the agent answers one of ours, every
 * SYNC_WAIT_MS, until deadline. The delimiter byte goes out only once:
 * it resets a real agent's parser, which may answer it with an error,
 * and that answer must come before our first delimited one. */
static int sync_channel(struct qga *q, long long deadline)
{
	while (now_ms() < deadline) {
		long long attempt = now_ms() + SYNC_WAIT_MS;
		int rc;

		if (attempt > deadline)
			attempt = deadline;
		rc = request(q, "guest-sync-delimited", json_pack("{s:I}", "id", (json_int_t)(q->sync_base + q->syncs)),
			     q->syncs == 0, attempt);
		if (rc == -ETIMEDOUT)	/* nobody reads: the guest may not be up yet */
			continue;
		if (rc)
			return rc;
		q->syncs++;
		while (!(rc = skip_to_delim(q, attempt))) {
			char *line;
			size_t len;
			json_t *v, *ret;

			rc = next_line(q, SMALL_REPLY, attempt, &line, &len);
			if (rc == -EMSGSIZE) {	/* not ours: skip on to the next delimiter */
				q->have = 0;
				continue;
			}
			if (rc)
				break;
			v = json_loadb(line, len, 0, NULL);
			consume(q, len + 1);
			ret = json_is_object(v) ? json_object_get(v, "return") : NULL;
			if (json_is_integer(ret) && json_integer_value(ret) >= q->sync_base &&
			    json_integer_value(ret) < q->sync_base + q->syncs) {
				json_decref(v);
				return 0;
			}
			json_decref(v);	/* an earlier client's, or garbage */
		}
		if (rc != -ETIMEDOUT)
			return rc;
	}
	return AGENT_ENOAGENT;
}

static void qga_init(struct qga *q, int fd)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	/* Distinct from an earlier client's ids; positive, below 2^53. */
	q->sync_base = (((long long)getpid() << 20) ^ (ts.tv_nsec & 0xfffff) ^ ((long long)ts.tv_sec << 24)) &
		       ((1LL << 52) - 1);
	q->sync_base += 1 + (rand() & 0xffff);
}

static void qga_free(struct qga *q)
{
	free(q->buf);
	q->buf = NULL;
	q->have = q->cap = 0;
}

/* The reply to the request just sent: its "return" member (a new
 * reference in *ret), or -EREMOTEIO for an "error" reply. Late replies to
 * our own earlier guest-sync attempts (delimited) are skipped. */
static int reply(struct qga *q, size_t limit, long long deadline, json_t **ret)
{
	for (;;) {
		json_error_t err;
		char *line;
		size_t len;
		json_t *v, *r, *e;
		int rc = next_line(q, limit, deadline, &line, &len);

		if (rc)
			return rc;
		if (len && (unsigned char)line[0] == AGENT_DELIM) {
			consume(q, len + 1);
			continue;
		}
		v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
		consume(q, len + 1);
		if (!json_is_object(v)) {
			snprintf(last_error, sizeof(last_error), "not a JSON object%s%s", v ? "" : ": ",
				 v ? "" : err.text);
			json_decref(v);
			return -EPROTO;
		}
		r = json_object_get(v, "return");
		e = json_object_get(v, "error");
		if (r && !e) {
			*ret = json_incref(r);
			json_decref(v);
			return 0;
		}
		if (e && !r) {
			const char *desc = json_string_value(json_object_get(e, "desc"));
			size_t i;

			snprintf(last_error, sizeof(last_error), "%s", desc ? desc : "(no description)");
			for (i = 0; last_error[i]; i++)	/* the guest's words go to a terminal */
				if ((unsigned char)last_error[i] < 0x20 || (unsigned char)last_error[i] >= 0x7f)
					last_error[i] = '?';
			json_decref(v);
			return -EREMOTEIO;
		}
		snprintf(last_error, sizeof(last_error), "a reply with neither or both of return and error");
		json_decref(v);
		return -EPROTO;
	}
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (RFC 4648 with padding, no whitespace) of s, decoded in
 * place into out (which may be s: it is never ahead of the reading).
 * Returns the decoded length, or -EPROTO. */
static ssize_t b64_decode(const char *s, size_t len, unsigned char *out)
{
	size_t i, o = 0;

	if (len % 4)
		return -EPROTO;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			unsigned char c = s[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(c)) < 0)
				return -EPROTO;
		}
		/* Bits that padding drops must be zero (one encoding per input). */
		if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
			return -EPROTO;
		out[o++] = v[0] << 2 | v[1] >> 4;
		if (pad < 2)
			out[o++] = (v[1] & 15) << 4 | v[2] >> 2;
		if (pad < 1)
			out[o++] = (v[2] & 3) << 6 | v[3];
	}
	return o;
}

static int write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c += n;
		len -= n;
	}
	return 0;
}

/* out-data or err-data of a status reply, checked and decoded into *data
 * (malloc'd, or NULL when absent); its length in *len. */
static int stream(json_t *ret, const char *key, unsigned char **data, size_t *len)
{
	json_t *s = json_object_get(ret, key);
	ssize_t n;

	*data = NULL;
	*len = 0;
	if (!s)
		return 0;
	if (!json_is_string(s)) {
		snprintf(last_error, sizeof(last_error), "%s is not a string", key);
		return -EPROTO;
	}
	*data = malloc(json_string_length(s) / 4 * 3 + 1);
	if (!*data)
		return -ENOMEM;
	n = b64_decode(json_string_value(s), json_string_length(s), *data);
	if (n < 0) {
		snprintf(last_error, sizeof(last_error), "%s is not base64", key);
		free(*data);
		*data = NULL;
		return -EPROTO;
	}
	*len = n;
	return 0;
}

/* A finished guest-exec-status: the exit status, and the output written
 * out (only once all of the reply proved well-formed). */
static int finished(json_t *ret, int out_fd, int err_fd)
{
	json_t *code = json_object_get(ret, "exitcode"), *sig = json_object_get(ret, "signal");
	unsigned char *out = NULL, *err = NULL;
	size_t olen, elen;
	int status, rc;

	if (code && json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) <= 255)
		status = json_integer_value(code);
	else if (!code && json_is_integer(sig) && json_integer_value(sig) > 0 && json_integer_value(sig) < 128)
		status = 128 + json_integer_value(sig);
	else {
		snprintf(last_error, sizeof(last_error), "an exited process with no exit code (0..255) or signal (1..127)");
		return -EPROTO;
	}
	rc = stream(ret, "out-data", &out, &olen);
	if (!rc)
		rc = stream(ret, "err-data", &err, &elen);
	if (!rc && olen)
		rc = write_all(out_fd, out, olen);
	if (!rc && elen)
		rc = write_all(err_fd, err, elen);
	free(out);
	free(err);
	if (rc)
		return rc;
	if (json_is_true(json_object_get(ret, "out-truncated")) || json_is_true(json_object_get(ret, "err-truncated")))
		fprintf(stderr, "multivm: the guest agent truncated the command's output\n");
	return status;
}

static int exec_channel(struct qga *q, const char *cmd, long long deadline, int out_fd, int err_fd)
{
	json_t *ret = NULL;
	json_int_t pid;
	long pause = POLL_FIRST_MS;
	int rc;

	rc = request(q, "guest-exec",
		     json_pack("{s:s, s:[s,s], s:b}", "path", "/bin/sh", "arg", "-c", cmd, "capture-output", 1), 0,
		     deadline);
	if (!rc)
		rc = reply(q, SMALL_REPLY, deadline, &ret);
	if (rc)
		return rc;
	pid = json_integer_value(json_object_get(ret, "pid"));
	if (!json_is_integer(json_object_get(ret, "pid")) || pid <= 0 || pid > INT32_MAX) {
		snprintf(last_error, sizeof(last_error), "guest-exec returned no pid");
		json_decref(ret);
		return -EPROTO;
	}
	json_decref(ret);
	for (;;) {
		json_t *exited;

		rc = request(q, "guest-exec-status", json_pack("{s:I}", "pid", pid), 0, deadline);
		if (!rc)
			rc = reply(q, AGENT_MAX_REPLY, deadline, &ret);
		if (rc)
			return rc;
		exited = json_is_object(ret) ? json_object_get(ret, "exited") : NULL;
		if (!json_is_boolean(exited)) {
			snprintf(last_error, sizeof(last_error), "guest-exec-status without exited");
			json_decref(ret);
			return -EPROTO;
		}
		if (json_is_true(exited)) {
			rc = finished(ret, out_fd, err_fd);
			json_decref(ret);
			return rc;
		}
		json_decref(ret);
		if (left(deadline) <= 0)
			return -ETIMEDOUT;
		nap_ms(pause < left(deadline) ? pause : left(deadline));
		pause = pause * 2 > POLL_MAX_MS ? POLL_MAX_MS : pause * 2;
	}
}

static int ping_channel(struct qga *q, long long deadline)
{
	json_t *ret = NULL;
	int rc = request(q, "guest-ping", NULL, 0, deadline);

	if (!rc)
		rc = reply(q, SMALL_REPLY, deadline, &ret);
	json_decref(ret);
	return rc;
}

/* Connects to sock and syncs, reconnecting while the socket is not there
 * or QEMU closes it, until deadline. Leaves q connected and synced. */
static int open_synced(struct qga *q, const char *sock, long long deadline)
{
	int rc = AGENT_ENOAGENT;

	while (now_ms() < deadline) {
		int fd = connect_once(sock);

		if (fd == -ENAMETOOLONG)
			return fd;
		if (fd < 0) {
			nap_ms(RECONNECT_MS);
			continue;
		}
		qga_init(q, fd);
		rc = sync_channel(q, deadline);
		if (!rc)
			return 0;
		close(fd);
		qga_free(q);
		if (rc != -ECONNRESET && rc != AGENT_ENOAGENT)
			return rc;
		rc = AGENT_ENOAGENT;
		nap_ms(RECONNECT_MS);
	}
	return rc;
}

int agent_ping_fd(int fd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct qga q;
	int rc;

	qga_init(&q, fd);
	rc = sync_channel(&q, deadline);
	if (!rc)
		rc = ping_channel(&q, deadline);
	qga_free(&q);
	return rc;
}

int agent_exec_fd(int fd, const char *cmd, int timeout_ms, int out_fd, int err_fd)
{
	long long deadline = now_ms() + timeout_ms;
	struct qga q;
	int rc;

	if (strlen(cmd) > AGENT_MAX_CMD)
		return -E2BIG;
	qga_init(&q, fd);
	rc = sync_channel(&q, deadline);
	if (!rc)
		rc = exec_channel(&q, cmd, deadline, out_fd, err_fd);
	qga_free(&q);
	return rc;
}

int agent_ping(const char *sock, int timeout_ms)
{
	struct qga q;
	int rc = open_synced(&q, sock, now_ms() + timeout_ms);

	if (rc)
		return rc;
	rc = ping_channel(&q, now_ms() + timeout_ms);
	close(q.fd);
	qga_free(&q);
	return rc;
}

int agent_exec(const char *sock, const char *cmd, int timeout_ms, int out_fd, int err_fd)
{
	long long deadline = now_ms() + timeout_ms;
	struct qga q;
	int rc;

	if (strlen(cmd) > AGENT_MAX_CMD)
		return -E2BIG;
	rc = open_synced(&q, sock, deadline);
	if (rc)
		return rc;
	rc = exec_channel(&q, cmd, deadline, out_fd, err_fd);
	close(q.fd);
	qga_free(&q);
	return rc;
}

void agent_report(const char *what, const char *who, int rc, int timeout_s)
{
	switch (rc) {
	case AGENT_ENOAGENT:
		fprintf(stderr, "multivm: %s: %s: no guest agent answered on " AGENT_PORT_NAME
			" in %d s; install qemu-guest-agent in the image\n", what, who, timeout_s);
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "multivm: %s: %s: the command did not finish in %d s (it may still run in the guest)\n",
			what, who, timeout_s);
		break;
	case -EPROTO:
		fprintf(stderr, "multivm: %s: %s: the guest agent's reply is not QGA: %s\n", what, who, last_error);
		break;
	case -EMSGSIZE:
		fprintf(stderr, "multivm: %s: %s: the guest agent's reply is longer than %d MiB\n", what, who,
			AGENT_MAX_REPLY >> 20);
		break;
	case -EREMOTEIO:
		fprintf(stderr, "multivm: %s: %s: the guest agent refused: %s\n", what, who, last_error);
		break;
	case -E2BIG:
		fprintf(stderr, "multivm: %s: command too long (at most %d bytes)\n", what, AGENT_MAX_CMD);
		break;
	case -ECONNRESET:
		fprintf(stderr, "multivm: %s: %s: the guest agent's channel closed\n", what, who);
		break;
	default:
		fprintf(stderr, "multivm: %s: %s: %s\n", what, who, strerror(-rc));
	}
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
	static char cmd[AGENT_MAX_CMD + 1];
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
		agent_report("agent-exec", sock, -E2BIG, secs);
		return EXEC_FAILED;
	}
	rc = agent_exec(sock, cmd, secs * 1000, 1, 2);
	if (rc < 0) {
		agent_report("agent-exec", sock, rc, secs);
		return EXEC_FAILED;
	}
	return rc;
usage:
	fprintf(stderr, "usage: multivm agent-exec [--timeout SECS] SOCKET -- CMD...\n");
	return EXEC_FAILED;
}

int cmd_agent_ping(const char *dir, int argc, char **argv)
{
	char *end;
	long secs = 5;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
		secs = strtol(argv[i + 1], &end, 10);
		if (!*argv[i + 1] || *end || secs <= 0 || secs > 86400)
			goto usage;
		i += 2;
	}
	if (i + 1 != argc || argv[i][0] == '-')
		goto usage;
	return agent_ping(argv[i], secs * 1000) == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: multivm agent-ping [--timeout SECS] SOCKET\n");
	return 2;
}
