#include "console/vmconsole.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void vmcon_init(struct vm_console *c, const char *vm_name, int ep, uint32_t tag)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ep = ep;
	c->tag = tag;
	snprintf(c->ready, sizeof(c->ready), "multivm: %s ready", vm_name);
}

int vmcon_connect(struct vm_console *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = c->tag };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c->fd = fd;
	c->linelen = 0;
	return 0;
}

void vmcon_close(struct vm_console *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inq_len = 0;
	c->want_out = false;
}

/* QEMU reads the socket only as fast as the guest's UART takes bytes, so
 * a paste may not fit at once: the rest waits for EPOLLOUT rather than
 * being lost. */
int vmcon_flush(struct vm_console *c)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = c->tag };
	ssize_t w = c->inq_len ? write(c->fd, c->inq, c->inq_len) : 0;
	int rc = 0;

	if (w > 0) {
		memmove(c->inq, c->inq + w, c->inq_len - w);
		c->inq_len -= w;
	} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
		rc = -errno;
		c->inq_len = 0;
	}
	if (c->want_out != (c->inq_len > 0)) {
		c->want_out = c->inq_len > 0;
		if (c->want_out)
			e.events |= EPOLLOUT;
		epoll_ctl(c->ep, EPOLL_CTL_MOD, c->fd, &e);
	}
	return rc;
}

size_t vmcon_send(struct vm_console *c, const char *buf, size_t n)
{
	size_t dropped = 0;

	if (c->fd < 0)
		return 0;	/* QEMU is not running: nothing reads this console */
	if (n > sizeof(c->inq) - c->inq_len) {
		dropped = n - (sizeof(c->inq) - c->inq_len);
		n -= dropped;
	}
	memcpy(c->inq + c->inq_len, buf, n);
	c->inq_len += n;
	return dropped;
}

bool vmcon_scan(struct vm_console *c, const char *d, size_t n)
{
	bool seen = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (d[i] != '\n' && d[i] != '\r') {
			if (c->linelen < sizeof(c->line) - 1)
				c->line[c->linelen++] = d[i];
			continue;
		}
		c->line[c->linelen] = 0;
		seen |= strstr(c->line, c->ready) != NULL;
		c->linelen = 0;
	}
	return seen;
}

ssize_t vmcon_read(struct vm_console *c, char *buf, size_t len, bool *ready)
{
	ssize_t n = read(c->fd, buf, len);

	*ready = false;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		vmcon_close(c);
		return -1;
	}
	*ready = vmcon_scan(c, buf, n);
	return n;
}
