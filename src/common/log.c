#include "common/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char tag[48] = "multivm";
static enum log_level level = LOG_INFO;

void log_set_tag(const char *t)
{
	snprintf(tag, sizeof(tag), "%s", t);
}

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

/* A guest that makes its VMM log in a loop (break the ring, reset the
 * device, again) must not grow the log without bound: a token bucket of
 * LOG_BURST lines, refilled at LOG_PER_SEC. What it holds back is
 * counted and said on the next line that passes. */
static long long tokens = LOG_BURST * 1000LL;	/* in thousandths of a line */
static long long last_ms = -1;
static unsigned long held_back;

static bool may_log(void)
{
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	if (last_ms >= 0)
		tokens += (now - last_ms) * LOG_PER_SEC;
	last_ms = now;
	if (tokens > LOG_BURST * 1000LL)
		tokens = LOG_BURST * 1000LL;
	if (tokens < 1000) {
		held_back++;
		return false;
	}
	tokens -= 1000;
	return true;
}

static void emit(const char *level_name, const char *line)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* One fprintf per line so lines from concurrent processes do not mix.
	 * Log files get a timestamp; a person at a terminal does not need it.
	 * Asked each time: the supervisor moves stderr to its log file. */
	if (isatty(2))
		fprintf(stderr, "%s: %s: %s\n", tag, level_name, line);
	else
		fprintf(stderr, "%lld.%03ld %s: %s: %s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, tag, level_name, line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;

	if (lvl > level || !may_log())
		return;
	if (held_back) {
		snprintf(line, sizeof(line), "%lu lines held back by the log rate limit (%d lines/s)",
			 held_back, LOG_PER_SEC);
		emit("warning", line);
		held_back = 0;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(names[lvl], line);
}
