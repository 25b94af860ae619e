/* QMP client: see qmp.h. */
#include "common/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int qmp_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {	/* a unix socket connects at once, or not */
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Waits for events on q->fd until the deadline: 1 ready, 0 late, -1 error. */
static int wait_fd(struct qmp *q, short events)
{
	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = events };
		long long left = q->deadline - qmp_now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int say(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -1;
}

static int send_all(struct qmp *q, const char *s, size_t len, char *err, size_t errlen)
{
	while (len) {
		ssize_t n = send(q->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			s += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return say(err, errlen, "QMP: QEMU %s", "closed the connection");
		if (n < 0 && errno != EAGAIN)
			return say(err, errlen, "QMP: cannot send: %s", strerror(errno));
		if (wait_fd(q, POLLOUT) <= 0)
			return say(err, errlen, "QMP: QEMU %s", "did not take the command in time");
	}
	return 0;
}

/* The next message: one line, a JSON object. NULL with err set. */
static json_t *read_msg(struct qmp *q, char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->have);
		ssize_t n;

		if (nl) {
			size_t len = nl - q->buf;
			json_error_t je;
			json_t *m = json_loadb(q->buf, len, JSON_REJECT_DUPLICATES, &je);

			memmove(q->buf, nl + 1, q->have - len - 1);
			q->have -= len + 1;
			if (!m || !json_is_object(m)) {
				json_decref(m);
				say(err, errlen, "QMP: QEMU sent %s", "something that is not a JSON object");
				return NULL;
			}
			return m;
		}
		if (q->have >= QMP_LINE_MAX) {
			snprintf(err, errlen, "QMP: QEMU sent a message longer than %d bytes", QMP_LINE_MAX);
			return NULL;
		}
		n = recv(q->fd, q->buf + q->have, QMP_LINE_MAX - q->have, MSG_DONTWAIT);
		if (n > 0) {
			q->have += n;
			continue;
		}
		if (n == 0) {
			say(err, errlen, "QMP: QEMU %s", "closed the connection");
			return NULL;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			say(err, errlen, "QMP: cannot read: %s", strerror(errno));
			return NULL;
		}
		if (wait_fd(q, POLLIN) <= 0) {
			say(err, errlen, "QMP: QEMU %s", "did not answer in time");
			return NULL;
		}
	}
}

/* Sends {"execute": cmd, "arguments": args, "id": N} (args stolen, may
 * be NULL) and waits for its answer, skipping events. 0, or -1. */
/* A DEVICE_DELETED event of the watched device? */
static void note_event(struct qmp *q, json_t *m)
{
	json_t *d = json_object_get(json_object_get(m, "data"), "device");

	if (q->watch[0] && json_is_string(json_object_get(m, "event")) &&
	    !strcmp(json_string_value(json_object_get(m, "event")), "DEVICE_DELETED") && json_is_string(d) &&
	    !strcmp(json_string_value(d), q->watch))
		q->watched = true;
}

static int execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret, char *err, size_t errlen)
{
	unsigned id = ++q->next_id;
	json_t *c = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	char *text;
	int rc;

	if (!c || (args && json_object_set_new(c, "arguments", args) < 0)) {
		json_decref(c);
		return say(err, errlen, "QMP: %s: out of memory", cmd);
	}
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!text)
		return say(err, errlen, "QMP: %s: out of memory", cmd);
	rc = send_all(q, text, strlen(text), err, errlen);
	if (rc == 0)
		rc = send_all(q, "\n", 1, err, errlen);
	free(text);
	if (rc < 0)
		return -1;
	for (;;) {
		json_t *m = read_msg(q, err, errlen), *e, *mid;

		if (!m)
			return -1;
		if (json_object_get(m, "event")) {	/* asynchronous: not ours */
			note_event(q, m);
			json_decref(m);
			continue;
		}
		mid = json_object_get(m, "id");
		if (!json_is_integer(mid) || json_integer_value(mid) != (json_int_t)id) {
			json_decref(m);
			return say(err, errlen, "QMP: %s: QEMU answered another command", cmd);
		}
		if (json_object_get(m, "return")) {
			if (ret)
				*ret = json_incref(json_object_get(m, "return"));
			json_decref(m);
			return 0;
		}
		e = json_object_get(m, "error");
		if (json_is_object(e) && json_is_string(json_object_get(e, "desc"))) {
			const char *d = json_string_value(json_object_get(e, "desc"));

			snprintf(err, errlen, "QMP: %s: %.200s", cmd, d);
		} else {
			say(err, errlen, "QMP: %s: QEMU's answer is neither a return nor an error", cmd);
		}
		json_decref(m);
		return -1;
	}
}

int qmp_open(struct qmp *q, int fd, long long deadline, char *err, size_t errlen)
{
	json_t *g;
	bool ok;

	q->fd = fd;
	q->deadline = deadline;
	q->next_id = 0;
	q->have = 0;
	q->watch[0] = 0;
	q->watched = false;
	g = read_msg(q, err, errlen);
	if (!g)
		return -1;
	ok = json_is_object(json_object_get(g, "QMP"));
	json_decref(g);
	if (!ok)
		return say(err, errlen, "QMP: %s", "the greeting is not QEMU's ({\"QMP\": ...})");
	return execute(q, "qmp_capabilities", NULL, NULL, err, errlen);
}

int qmp_set_link(struct qmp *q, const char *name, bool up, char *err, size_t errlen)
{
	json_t *args = json_pack("{s:s, s:b}", "name", name, "up", up);

	if (!args)
		return say(err, errlen, "QMP: set_link: %s", "out of memory");
	return execute(q, "set_link", args, NULL, err, errlen);
}

int qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret, char *err, size_t errlen)
{
	return execute(q, cmd, args, ret, err, errlen);
}

int qmp_device_del(struct qmp *q, const char *id, char *err, size_t errlen)
{
	json_t *args = json_pack("{s:s}", "id", id);
	int n = snprintf(q->watch, sizeof(q->watch), "%s", id);

	q->watched = false;
	if (n < 0 || (size_t)n >= sizeof(q->watch)) {
		q->watch[0] = 0;
		json_decref(args);
		return say(err, errlen, "QMP: device_del: %s: id too long", id);
	}
	if (!args || execute(q, "device_del", args, NULL, err, errlen) < 0) {
		if (!args)
			say(err, errlen, "QMP: device_del: %s", "out of memory");
		q->watch[0] = 0;
		return -1;
	}
	while (!q->watched) {
		json_t *m = read_msg(q, err, errlen);

		if (!m) {	/* "did not answer in time": the guest kept it */
			snprintf(err, errlen, "QMP: device_del %s: the guest did not let the device go in time", id);
			q->watch[0] = 0;
			return -1;
		}
		if (json_object_get(m, "event"))
			note_event(q, m);
		json_decref(m);	/* an answer to no command of ours: ignored */
	}
	q->watch[0] = 0;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

int qmp_set_links(const char *path, const char *const names[], const bool up[], unsigned n, int timeout_ms,
		  char *err, size_t errlen)
{
	static struct qmp q;	/* its buffer is large; callers are single-threaded */
	int fd = qmp_connect(path), rc = 0;
	unsigned i;

	if (fd < 0) {
		snprintf(err, errlen, "QMP: cannot connect to %s: %s", path, strerror(-fd));
		return fd == -ENOENT || fd == -ECONNREFUSED ? fd : -1;
	}
	if (qmp_open(&q, fd, qmp_now_ms() + timeout_ms, err, errlen) < 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = qmp_set_link(&q, names[i], up[i], err, errlen);
	qmp_close(&q);
	return rc;
}

int qmp_nic_id(char *out, size_t len, const char *ifname)
{
	int n = snprintf(out, len, "nic-%s", ifname);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int qmp_wire_ids(char netdev[MV_IFNAME_MAX + 8], char chardev[MV_IFNAME_MAX + 8], const char *ifname)
{
	int a = snprintf(netdev, MV_IFNAME_MAX + 8, "w-%s", ifname), b = snprintf(chardev, MV_IFNAME_MAX + 8, "vu-%s",
										 ifname);

	return a < 0 || b < 0 || a >= MV_IFNAME_MAX + 8 || b >= MV_IFNAME_MAX + 8 ? -1 : 0;
}
