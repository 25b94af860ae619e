/* Sending bytes with file descriptors attached (SCM_RIGHTS), and one
 * vhost-user request, for the test and bench programs that play a
 * vhost-user frontend. Header-only. */
#ifndef MULTIVM_TEST_SCM_H
#define MULTIVM_TEST_SCM_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define SCM_MAX_FDS 16

static inline ssize_t send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SCM_MAX_FDS)] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > SCM_MAX_FDS)
		return -1;
	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &m, flags);
}

/* Sends vhost-user request req with n bytes of payload p (at most 500) and
 * fds; with reply, waits for the answer's header and rlen payload bytes.
 * 0, or -1 on any failure. */
static inline int vu_request(int sock, uint32_t req, const void *p, uint32_t n, const int *fds, int nfds,
			     void *reply, size_t rlen)
{
	uint8_t buf[512];
	uint32_t hdr[3] = { req, 1, n };

	if (n > sizeof(buf) - 12)
		return -1;
	memcpy(buf, hdr, 12);
	if (n)
		memcpy(buf + 12, p, n);
	if (send_fds(sock, buf, 12 + n, fds, nfds, MSG_NOSIGNAL) < 0)
		return -1;
	if (reply && (recv(sock, buf, 12, MSG_WAITALL) != 12 ||
		      recv(sock, reply, rlen, MSG_WAITALL) != (ssize_t)rlen))
		return -1;
	return 0;
}

#endif
