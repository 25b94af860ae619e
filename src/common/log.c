#include "common/log.h"

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

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	struct timespec ts;
	va_list ap;

	if (lvl > level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so lines from concurrent processes do not mix.
	 * Log files get a timestamp; a person at a terminal does not need it.
	 * Asked each time: the supervisor moves stderr to its log file. */
	if (isatty(2))
		fprintf(stderr, "%s: %s: %s\n", tag, names[lvl], line);
	else
		fprintf(stderr, "%lld.%03ld %s: %s: %s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, tag, names[lvl], line);
}
