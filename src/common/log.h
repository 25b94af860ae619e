/* Logging: one line per event, to stderr, prefixed with the program tag.
 * Deep code returns errors; only the edges (main loops, CLI) call these. */
#ifndef MULTIVM_LOG_H
#define MULTIVM_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Lines a process may log at once, then per second (see log.c). */
#define LOG_BURST	100
#define LOG_PER_SEC	10

void log_set_tag(const char *tag);       /* e.g. "vmm vm0" */
void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
