#include "console/server.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG	4
#define INPUT_CHUNK	1024

void conserver_init(struct con_server *cs, struct mux *m, int ep, uint32_t tag_listen, uint32_t tag_viewer)
{
	cs->mux = m;
	cs->ep = ep;
	cs->tag_listen = tag_listen;
	cs->tag_viewer = tag_viewer;
	cs->listen_fd = -1;
	cs->terminal = -1;
}

int conserver_listen(struct con_server *cs, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = cs->tag_listen };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	cs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->listen_fd < 0 || bind(cs->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(cs->listen_fd, LISTEN_BACKLOG) < 0 ||
	    epoll_ctl(cs->ep, EPOLL_CTL_ADD, cs->listen_fd, &e) < 0)
		return -errno;
	return 0;
}

void conserver_accept(struct con_server *cs)
{
	int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;
	struct epoll_event e = { .events = EPOLLIN };

	if (fd < 0)
		return;
	i = mux_add_viewer(cs->mux, fd, fd, -1, false);
	e.data.u32 = cs->tag_viewer + i;
	if (i < 0 || epoll_ctl(cs->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		if (i >= 0)
			mux_remove_viewer(cs->mux, i);
		close(fd);
	}
}

int conserver_add_terminal(struct con_server *cs, int in_fd, int out_fd, unsigned shown)
{
	struct epoll_event e = { .events = EPOLLIN };
	int i = mux_add_viewer(cs->mux, in_fd, out_fd, shown, true);

	if (i < 0)
		return -1;
	e.data.u32 = cs->tag_viewer + i;
	cs->terminal = i;
	/* Without input (not a terminal, say) it still shows the console. */
	epoll_ctl(cs->ep, EPOLL_CTL_ADD, in_fd, &e);
	return 0;
}

bool conserver_input(struct con_server *cs, int i)
{
	int fd = cs->mux->v[i].in_fd;
	char in[INPUT_CHUNK];
	ssize_t n;

	if (fd < 0)
		return false;	/* removed earlier in this batch of events */
	n = read(fd, in, sizeof(in));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (i == cs->terminal) {
		if (n <= 0) {
			/* No terminal any more: keep running until told to stop. */
			epoll_ctl(cs->ep, EPOLL_CTL_DEL, fd, NULL);
			return false;
		}
		return !mux_input(cs->mux, i, in, n);
	}
	if (n > 0 && mux_input(cs->mux, i, in, n))
		return false;
	mux_remove_viewer(cs->mux, i);
	close(fd);
	return false;
}
