#include "common/handoff.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static bool peer_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max), i;

	if (n == 0 || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int handoff_decode(const void *buf, size_t len, const int *fds, unsigned nfds, struct handoff_msg *m, char *err,
		   size_t errlen)
{
	struct handoff_wire w;
	unsigned want;

	if (len != sizeof(w))
		return bad(err, errlen, "%zu bytes, not %zu", len, sizeof(w));
	memcpy(&w, buf, sizeof(w));
	if (w.magic != HANDOFF_MAGIC || w.version != HANDOFF_VERSION)
		return bad(err, errlen, "magic 0x%x version %u, not ours", (unsigned)w.magic, (unsigned)w.version);
	if (w.op != HANDOFF_ADD && w.op != HANDOFF_DROP)
		return bad(err, errlen, "unknown operation %u", (unsigned)w.op);
	want = w.op == HANDOFF_ADD ? HANDOFF_FDS : 0;
	if (nfds != want)
		return bad(err, errlen, "%u fds, an %s carries %u", nfds, w.op == HANDOFF_ADD ? "add" : "drop", want);
	if (w.index >= MV_NODE_LINKS_MAX)
		return bad(err, errlen, "link index %u, at most %u", (unsigned)w.index, MV_NODE_LINKS_MAX - 1);
	if (!peer_ok(w.peer, sizeof(w.peer)))
		return bad(err, errlen, "not a peer name");
	if (w.tunnel > 1 || w.side > 1 || (w.op == HANDOFF_DROP && (w.tunnel || w.side)))
		return bad(err, errlen, "tunnel %u side %u", w.tunnel, w.side);
	memset(m, 0, sizeof(*m));
	m->op = w.op;
	m->seq = w.seq;
	m->index = w.index;
	memcpy(m->link.peer, w.peer, strlen(w.peer) + 1);
	m->link.tunnel = w.tunnel;
	m->link.side = w.side;
	if (!w.tunnel && w.op == HANDOFF_ADD)
		memcpy(m->link.peer_mac, w.peer_mac, sizeof(w.peer_mac));
	m->link.memfd = want ? fds[0] : -1;
	m->link.rx_kick = want ? fds[1] : -1;
	m->link.tx_kick = want ? fds[2] : -1;
	return 0;
}

int handoff_send(int sock, const struct handoff_msg *m)
{
	union {
		char buf[CMSG_SPACE(HANDOFF_FDS * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct handoff_wire w = { .magic = HANDOFF_MAGIC, .version = HANDOFF_VERSION };
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[HANDOFF_FDS] = { m->link.memfd, m->link.rx_kick, m->link.tx_kick };
	struct handoff_msg back;
	char err[8];
	ssize_t n;

	if ((m->op != HANDOFF_ADD && m->op != HANDOFF_DROP) || strlen(m->link.peer) >= sizeof(w.peer))
		return -EINVAL;
	w.op = m->op;
	w.seq = m->seq;
	w.index = m->index;
	memcpy(w.peer, m->link.peer, strlen(m->link.peer) + 1);
	if (m->op == HANDOFF_ADD) {
		w.tunnel = m->link.tunnel;
		w.side = m->link.side;
		if (!m->link.tunnel)
			memcpy(w.peer_mac, m->link.peer_mac, sizeof(w.peer_mac));
		if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
			return -EINVAL;
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = sizeof(c.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, sizeof(fds));
	}
	/* The decoder is the one judge: what it would refuse is our bug. */
	if (handoff_decode(&w, sizeof(w), fds, m->op == HANDOFF_ADD ? HANDOFF_FDS : 0, &back, err, sizeof(err)) < 0)
		return -EINVAL;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(w) ? 0 : -EIO;
}

int handoff_recv(int sock, struct handoff_msg *m, uint32_t *seq, char *err, size_t errlen)
{
	union {
		char buf[CMSG_SPACE((HANDOFF_FDS + 1) * sizeof(int))];
		struct cmsghdr align;
	} c;
	char buf[sizeof(struct handoff_wire) + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	int fds[HANDOFF_FDS + 1];
	unsigned nfds = 0, k;
	struct cmsghdr *h;
	ssize_t n;
	int rc;

	*seq = 0;
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN :
		       errno == ECONNRESET ? -EPIPE : -errno;
	if (n == 0)
		return -EPIPE;
	/* Every fd that arrived is ours to close if the message is refused. */
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t len = h->cmsg_len >= CMSG_LEN(0) ? h->cmsg_len - CMSG_LEN(0) : 0;
		unsigned cnt = len / sizeof(int);
		int got[HANDOFF_FDS + 1];

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		if (cnt > HANDOFF_FDS + 1)
			cnt = HANDOFF_FDS + 1;
		memcpy(got, CMSG_DATA(h), cnt * sizeof(int));
		for (k = 0; k < cnt; k++) {
			if (nfds < HANDOFF_FDS + 1)
				fds[nfds++] = got[k];
			else
				close(got[k]);
		}
	}
	if ((size_t)n >= sizeof(struct handoff_wire))
		memcpy(seq, buf + offsetof(struct handoff_wire, seq), sizeof(*seq));
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		rc = bad(err, errlen, "too long or too many fds (%zd bytes)", n);
	else
		rc = handoff_decode(buf, (size_t)n, fds, nfds, m, err, errlen);
	if (rc < 0)
		for (k = 0; k < nfds; k++)
			close(fds[k]);
	return rc;
}

int handoff_reply(int sock, uint32_t seq, int status)
{
	struct handoff_reply r = { .magic = HANDOFF_MAGIC, .seq = seq, .status = status };
	ssize_t n;

	do
		n = send(sock, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(r) ? 0 : n < 0 ? -errno : -EIO;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int handoff_wait_reply(int sock, uint32_t seq, int timeout_ms, int *status)
{
	long long end = mono_ms() + timeout_ms;
	struct handoff_reply r;
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;

	for (;;) {
		long long left = end - mono_ms();
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		n = recv(sock, &r, sizeof(r), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (n == (ssize_t)sizeof(r) && r.magic == HANDOFF_MAGIC && r.seq == seq) {
			*status = r.status > 0 || r.status < -4095 ? -EPROTO : r.status;
			return 0;
		}
		/* a late answer to an earlier message, or garbage: skip it */
	}
}
