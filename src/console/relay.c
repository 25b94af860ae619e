#include "console/relay.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum { MID_LINE, LINE_START, AFTER_TILDE };

static struct termios saved;
static int saved_fd = -1;

void relay_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	saved_fd = -1;
}

static void on_fatal(int sig)
{
	relay_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int relay_raw(int fd)
{
	struct termios t;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &saved) < 0)
		return -1;
	saved_fd = fd;
	atexit(relay_restore);
	signal(SIGSEGV, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGBUS, on_fatal);
	t = saved;
	cfmakeraw(&t);
	/* Keep output post-processing so our own notices print sanely. */
	t.c_oflag |= OPOST;
	return tcsetattr(fd, TCSAFLUSH, &t);
}

void relay_init(struct relay *r)
{
	r->state = LINE_START;
}

size_t relay_input(struct relay *r, const char *in, size_t n, char *out, bool *quit)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = in[i];

		if (r->state == AFTER_TILDE) {
			r->state = MID_LINE;
			if (c == '.') {
				*quit = true;
				return o;
			}
			if (c != '~')
				out[o++] = '~';
			out[o++] = c;
			continue;
		}
		if (r->state == LINE_START && c == '~') {
			r->state = AFTER_TILDE;
			continue;
		}
		out[o++] = c;
		r->state = (c == '\r' || c == '\n') ? LINE_START : MID_LINE;
	}
	return o;
}
