/* `multivm top`: a snapshot every delay_s, drawn (top_view.c) as the rates
 * since the one before, until q, a signal or the last iteration. */
#include "cli/top.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/rate.h"
#include "cli/snapshot.h"
#include "cli/top_view.h"
#include "supervisor/state.h"

/* The terminal as it was, put back however top ends. */
static struct termios saved_tty;
static bool tty_saved, screen_on;
static volatile sig_atomic_t got_signal;

static void restore(void)
{
	if (screen_on) {	/* cursor back, leave the alternate screen */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_on = false;
	}
	if (tty_saved) {
		tcsetattr(0, TCSANOW, &saved_tty);
		tty_saved = false;
	}
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/* Keys one at a time without echo; signals (Ctrl-C) still work. */
static void terminal_start(void)
{
	struct termios t;

	atexit(restore);
	if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
		t = saved_tty;
		t.c_lflag &= ~(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tty_saved = tcsetattr(0, TCSANOW, &t) == 0;
	}
	fputs("\033[?1049h\033[?25l", stdout);
	screen_on = true;
}

/* INT, TERM, HUP and QUIT only arrive inside ppoll (they are blocked
 * elsewhere), so none is lost between a check and the wait. */
static void signals_catch(sigset_t *wait_mask)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(wait_mask, sigs[i]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until the monotonic time until; false if q was typed or a signal
 * came. Input is read only from a terminal in interactive mode. */
static bool wait_until(double until, bool keys, const sigset_t *mask)
{
	struct pollfd pfd = { .fd = keys ? 0 : -1, .events = POLLIN };
	double left;

	while (!got_signal && (left = until - now()) > 0) {
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
		char c;

		if (ppoll(&pfd, 1, &ts, mask) > 0 && (pfd.revents & POLLIN)) {
			if (read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				return false;
		} else if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pfd.fd = -1;	/* the terminal went away: keep the time only */
		}
	}
	return !got_signal;
}

/* Clears the terminal and shows text clipped to its size, so that a small
 * window neither wraps nor scrolls. */
static void show(const char *text)
{
	struct winsize ws;
	int rows = 0, cols = 0, row;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	fputs("\033[H\033[2J", stdout);
	for (row = 0; *text && (rows <= 0 || row < rows); row++) {
		int len = strcspn(text, "\n");

		if (row > 0)
			putchar('\n');
		fwrite(text, 1, cols > 0 && len > cols ? cols : len, stdout);
		text += len + (text[len] == '\n');
	}
}

/* Two snapshots, each read whole from the state directory. */
static struct snapshot snaps[2];
static struct rates rates;

/* One screen, rendered in memory first (bounded: what does not fit, with
 * 240 link directions in a 64 KiB buffer, is left off). */
static void render(const char *dir, const struct snapshot *s)
{
	static char text[1 << 16];
	FILE *f = fmemopen(text, sizeof(text), "w");

	if (!f)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	top_render(f, dir, s, &rates);
	fclose(f);
	text[sizeof(text) - 1] = 0;
	show(text);
}

static int loop(const struct top_opts *o, const sigset_t *mask)
{
	struct snapshot *prev = &snaps[0], *cur = &snaps[1], *tmp;
	bool keys = !o->batch && tty_saved;
	double t0, t1;
	long i;

	if (snapshot_read(o->state_dir, prev) < 0)
		return -ENOENT;
	t0 = now();
	if (!o->batch) {
		printf("\033[H\033[2Jmultivm top  %s  first report in %.1f s (q quits)\n", o->state_dir, o->delay_s);
		fflush(stdout);
	}
	for (i = 0; o->iterations == 0 || i < o->iterations; i++) {
		if (!wait_until(t0 + o->delay_s, keys, mask))
			return 0;
		if (!state_supervisor(o->state_dir) || snapshot_read(o->state_dir, cur) < 0)
			return -ENOENT;
		t1 = now();
		rates_compute(prev, cur, t1 - t0, &rates);
		if (o->batch) {
			if (i > 0)
				putchar('\n');
			top_render(stdout, o->state_dir, cur, &rates);
		} else {
			render(o->state_dir, cur);
		}
		if (fflush(stdout) == EOF)
			return -EIO;
		tmp = prev;
		prev = cur;
		cur = tmp;
		t0 = t1;
	}
	return 0;
}

int top_run(const struct top_opts *o)
{
	static char buf[1 << 16];	/* a whole screen goes out in one write */
	sigset_t mask;
	int rc;

	if (!state_supervisor(o->state_dir)) {
		fprintf(stderr, "multivm: no system running in %s\n", o->state_dir);
		return 1;
	}
	signals_catch(&mask);
	if (!o->batch) {
		setvbuf(stdout, buf, _IOFBF, sizeof(buf));
		terminal_start();
	}
	rc = loop(o, &mask);
	restore();
	if (rc == -ENOENT)
		fprintf(stderr, "multivm: no system running in %s\n", o->state_dir);
	else if (rc < 0)
		fprintf(stderr, "multivm: top: %s\n", strerror(-rc));
	if (got_signal)
		return 128 + got_signal;
	return rc < 0;
}
