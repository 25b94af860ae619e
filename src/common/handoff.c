#include "common/handoff.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ifname.h"

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

static bool is_nic_op(unsigned op)
{
	return op == HANDOFF_ADD_NIC || op == HANDOFF_DROP_NIC;
}

static bool is_add(unsigned op)
{
	return op == HANDOFF_ADD || op == HANDOFF_ADD_NIC;
}

/* A NIC's part: checked, and into m->nic and m->link's wire fields. */
static int decode_nic(const struct handoff_nic_wire *w, struct handoff_msg *m, char *err, size_t errlen)
{
	bool add = w->link.op == HANDOFF_ADD_NIC;

	if (!ifname_valid(w->name, sizeof(w->name)) || !strcmp(w->name, "eth0"))
		return bad(err, errlen, "not a wire NIC's name");
	if (add ? (w->peer_nic[0] && !ifname_valid(w->peer_nic, sizeof(w->peer_nic))) :
		  memchr(w->peer_nic, 0, sizeof(w->peer_nic)) != w->peer_nic)
		return bad(err, errlen, "not a peer NIC's name");
	if (add ? (w->offloads > 1 || w->pad || w->mtu < MV_MTU_MIN || w->mtu > MV_MTU_MAX || (w->mac[0] & 1)) :
		  (w->offloads || w->pad || w->mtu || memcmp(w->mac, "\0\0\0\0\0\0", 6)))
		return bad(err, errlen, "NIC settings: MTU %u, offloads %u", (unsigned)w->mtu, w->offloads);
	memcpy(m->nic.name, w->name, strlen(w->name) + 1);
	m->link.wire = true;
	if (add) {
		memcpy(m->nic.mac, w->mac, sizeof(w->mac));
		m->nic.mtu = w->mtu;
		m->nic.offloads = w->offloads;
		memcpy(m->link.peer_nic, w->peer_nic, strlen(w->peer_nic) + 1);
	}
	return 0;
}

int handoff_decode(const void *buf, size_t len, const int *fds, unsigned nfds, struct handoff_msg *m, char *err,
		   size_t errlen)
{
	struct handoff_nic_wire nw;
	struct handoff_wire w;
	unsigned want;
	size_t size;

	if (len < sizeof(w))
		return bad(err, errlen, "%zu bytes, not %zu", len, sizeof(w));
	memcpy(&w, buf, sizeof(w));
	if (w.magic != HANDOFF_MAGIC || w.version != HANDOFF_VERSION)
		return bad(err, errlen, "magic 0x%x version %u, not ours", (unsigned)w.magic, (unsigned)w.version);
	if (w.op < HANDOFF_ADD || w.op > HANDOFF_DROP_NIC)
		return bad(err, errlen, "unknown operation %u", (unsigned)w.op);
	size = is_nic_op(w.op) ? sizeof(nw) : sizeof(w);
	if (len != size)
		return bad(err, errlen, "%zu bytes, operation %u has %zu", len, (unsigned)w.op, size);
	want = w.op == HANDOFF_ADD ? HANDOFF_FDS : w.op == HANDOFF_ADD_NIC ? HANDOFF_NIC_FDS : 0;
	if (nfds != want)
		return bad(err, errlen, "%u fds, operation %u carries %u", nfds, (unsigned)w.op, want);
	if (w.index >= MV_NODE_LINKS_MAX)
		return bad(err, errlen, "link index %u, at most %u", (unsigned)w.index, MV_NODE_LINKS_MAX - 1);
	if (!peer_ok(w.peer, sizeof(w.peer)))
		return bad(err, errlen, "not a peer name");
	if (w.tunnel > 1 || w.side > 1 || (!is_add(w.op) && (w.tunnel || w.side)))
		return bad(err, errlen, "tunnel %u side %u", w.tunnel, w.side);
	memset(m, 0, sizeof(*m));
	m->op = w.op;
	m->seq = w.seq;
	m->index = w.index;
	m->listen_fd = -1;
	memcpy(m->link.peer, w.peer, strlen(w.peer) + 1);
	m->link.tunnel = w.tunnel;
	m->link.side = w.side;
	if (!w.tunnel && is_add(w.op))
		memcpy(m->link.peer_mac, w.peer_mac, sizeof(w.peer_mac));
	if (is_nic_op(w.op)) {
		memcpy(&nw, buf, sizeof(nw));
		if (decode_nic(&nw, m, err, errlen) < 0)
			return -EBADMSG;
	}
	m->link.memfd = want ? fds[0] : -1;
	m->link.rx_kick = want ? fds[1] : -1;
	m->link.tx_kick = want ? fds[2] : -1;
	m->listen_fd = want == HANDOFF_NIC_FDS ? fds[3] : -1;
	return 0;
}

int handoff_send(int sock, const struct handoff_msg *m)
{
	union {
		char buf[CMSG_SPACE(HANDOFF_NIC_FDS * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct handoff_nic_wire w = { .link = { .magic = HANDOFF_MAGIC, .version = HANDOFF_VERSION } };
	bool nic = is_nic_op(m->op);
	struct iovec iov = { .iov_base = &w, .iov_len = nic ? sizeof(w) : sizeof(w.link) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[HANDOFF_NIC_FDS] = { m->link.memfd, m->link.rx_kick, m->link.tx_kick, m->listen_fd };
	unsigned nfds = m->op == HANDOFF_ADD ? HANDOFF_FDS : m->op == HANDOFF_ADD_NIC ? HANDOFF_NIC_FDS : 0, k;
	struct handoff_msg back;
	char err[8];
	ssize_t n;

	if (m->op < HANDOFF_ADD || m->op > HANDOFF_DROP_NIC ||
	    strnlen(m->link.peer, sizeof(m->link.peer)) >= sizeof(w.link.peer) || strnlen(m->nic.name, sizeof(m->nic.name)) >= sizeof(w.name) ||
	    strnlen(m->link.peer_nic, sizeof(m->link.peer_nic)) >= sizeof(w.peer_nic))
		return -EINVAL;
	w.link.op = m->op;
	w.link.seq = m->seq;
	w.link.index = m->index;
	memcpy(w.link.peer, m->link.peer, strlen(m->link.peer) + 1);
	if (nic)
		memcpy(w.name, m->nic.name, strlen(m->nic.name) + 1);
	if (is_add(m->op)) {
		w.link.tunnel = m->link.tunnel;
		w.link.side = m->link.side;
		if (!m->link.tunnel)
			memcpy(w.link.peer_mac, m->link.peer_mac, sizeof(w.link.peer_mac));
		for (k = 0; k < nfds; k++)
			if (fds[k] < 0)
				return -EINVAL;
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, nfds * sizeof(int));
	}
	if (m->op == HANDOFF_ADD_NIC) {
		memcpy(w.peer_nic, m->link.peer_nic, strlen(m->link.peer_nic) + 1);
		memcpy(w.mac, m->nic.mac, sizeof(w.mac));
		w.offloads = m->nic.offloads;
		w.mtu = m->nic.mtu;
	}
	/* The decoder is the one judge: what it would refuse is our bug. */
	if (handoff_decode(&w, iov.iov_len, fds, nfds, &back, err, sizeof(err)) < 0)
		return -EINVAL;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)iov.iov_len ? 0 : -EIO;
}

int handoff_recv(int sock, struct handoff_msg *m, uint32_t *seq, char *err, size_t errlen)
{
	union {
		char buf[CMSG_SPACE((HANDOFF_NIC_FDS + 1) * sizeof(int))];
		struct cmsghdr align;
	} c;
	char buf[sizeof(struct handoff_nic_wire) + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	int fds[HANDOFF_NIC_FDS + 1];
	unsigned nfds = 0, extra = 0, k;
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
	/* Every fd that arrived is ours to close if the message is refused;
	 * beyond the most a message carries (and one), closed now. */
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		size_t len = h->cmsg_len >= CMSG_LEN(0) ? h->cmsg_len - CMSG_LEN(0) : 0;
		unsigned cnt = len / sizeof(int);

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof(fd));
			if (nfds < HANDOFF_NIC_FDS + 1) {
				fds[nfds++] = fd;
			} else {
				close(fd);
				extra++;
			}
		}
	}
	if ((size_t)n >= sizeof(struct handoff_wire))
		memcpy(seq, buf + offsetof(struct handoff_wire, seq), sizeof(*seq));
	if ((mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || extra)
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
