#include "console/relay.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>


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
	static const int fatal[] = {
		SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGTRAP, SIGXCPU, SIGXFSZ,
		SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
		SIGPROF, SIGIO, SIGPIPE,
	};
	struct termios t;
	size_t i;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &saved) < 0)
		return -1;
	saved_fd = fd;
	atexit(relay_restore);
	/* Every signal whose default ends the process restores first (those
	 * the caller blocks for its signalfd never get here). */
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction old;

		if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			signal(fatal[i], on_fatal);
	}
	t = saved;
	cfmakeraw(&t);
	/* Keep output post-processing so our own notices print sanely. */
	t.c_oflag |= OPOST;
	return tcsetattr(fd, TCSAFLUSH, &t);
}

void relay_init(struct relay *r)
{
	r->line_start = true;
	r->pending = 0;
	r->ndigits = 0;
	r->esc = RELAY_ESC_NONE;
}

static int vm_index(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* After Return @ #: digits, then Return switches to that decimal index.
 * Anything else (or a fourth digit, or no digit) is not an escape: the
 * guest gets every key typed. Returns bytes put in out. */
static size_t index_key(struct relay *r, char c, char *out, enum relay_event *ev, int *vm)
{
	size_t o = 0;
	unsigned i;

	if (c >= '0' && c <= '9' && r->ndigits < RELAY_DIGITS) {
		r->digits[r->ndigits++] = c;
		return 0;
	}
	r->pending = 0;
	if ((c == '\r' || c == '\n') && r->ndigits) {
		*ev = RELAY_SWITCH;
		*vm = 0;
		for (i = 0; i < r->ndigits; i++)
			*vm = *vm * 10 + (r->digits[i] - '0');
		r->ndigits = 0;
		r->line_start = true;
		return 0;
	}
	out[o++] = '@';
	out[o++] = '#';
	for (i = 0; i < r->ndigits; i++)
		out[o++] = r->digits[i];
	out[o++] = c;
	r->ndigits = 0;
	r->line_start = c == '\r' || c == '\n';
	return o;
}

/* Terminal escape sequences (ESC x, or CSI ... final byte) pass through
 * and change nothing: the shell's cursor-position query after each prompt
 * makes the terminal answer ESC [ row ; col R at any moment. */
static bool in_sequence(struct relay *r, char c)
{
	if (r->esc == RELAY_ESC_SEEN) {
		r->esc = c == '[' ? RELAY_ESC_CSI : RELAY_ESC_NONE;
		return true;
	}
	if (r->esc == RELAY_ESC_CSI) {
		if (c >= 0x40 && c <= 0x7e)	/* the final byte */
			r->esc = RELAY_ESC_NONE;
		return true;
	}
	if (c == 0x1b) {
		r->esc = RELAY_ESC_SEEN;
		return true;
	}
	return false;
}

size_t relay_input(struct relay *r, const char *in, size_t n, char *out, size_t *outlen,
		   enum relay_event *ev, int *vm)
{
	size_t i, o = 0;

	*ev = RELAY_NONE;
	for (i = 0; i < n && *ev == RELAY_NONE; i++) {
		char c = in[i], lead = r->pending;

		if (in_sequence(r, c)) {
			out[o++] = c;
			continue;
		}
		if (lead == '#') {
			o += index_key(r, c, out + o, ev, vm);
			continue;
		}
		if (lead == '@' && c == '#') {
			r->pending = '#';
			continue;
		}
		if (lead) {
			r->pending = 0;
			r->line_start = false;
			if (lead == '~' && c == '.') {
				*ev = RELAY_QUIT;
			} else if (lead == '@' && c == '?') {
				*ev = RELAY_LIST;
			} else if (lead == '@' && vm_index(c) >= 0) {
				*ev = RELAY_SWITCH;
				*vm = vm_index(c);
			} else {
				/* Not an escape: the guest gets both keys (one if doubled). */
				if (c != lead)
					out[o++] = lead;
				out[o++] = c;
				r->line_start = c == '\r' || c == '\n';
			}
			if (*ev != RELAY_NONE)
				r->line_start = true;	/* ready for the next escape */
			continue;
		}
		if (r->line_start && (c == '~' || c == '@')) {
			r->pending = c;
			continue;
		}
		out[o++] = c;
		r->line_start = c == '\r' || c == '\n';
	}
	*outlen = o;
	return i;
}
