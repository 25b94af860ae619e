/* Sending bytes with file descriptors attached (SCM_RIGHTS), for the test
 * programs that play a vhost-user frontend. Header-only. */
#ifndef MULTIVM_TEST_SCM_H
#define MULTIVM_TEST_SCM_H

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

#endif
