#include "console/client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "console/relay.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

int console_attach(const char *sock_path, const char *vm)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd[2] = { { .fd = 0, .events = POLLIN }, { .events = POLLIN } };
	char buf[4096];
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return 1;
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "multivm: console: cannot connect to %s: %s (is the system running?)\n",
			sock_path, strerror(errno));
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s\n", vm);
	if (write_all(fd, buf, strlen(buf)) < 0)
		return 1;
	/* A closed connection must end the loop (EPIPE), not the process. */
	signal(SIGPIPE, SIG_IGN);
	relay_raw(0);
	pfd[1].fd = fd;
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				pfd[0].fd = -1;	/* no more input; keep showing */
			else if (write_all(fd, buf, n) < 0)
				break;
		}
		if (pfd[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || write_all(1, buf, n) < 0)
				break;
		}
	}
	relay_restore();
	close(fd);
	fprintf(stderr, "\r\nmultivm: left the console\n");
	return 0;
}
