/* Log files a guest can make grow (its console transcript; its VMM's and
 * QEMU's logs) live in the state directory, by default on a RAM-backed
 * /run: each is capped at [system] log_max bytes, with one old file kept
 * as PATH.1. What is thrown away is counted, never silently lost. */
#ifndef MULTIVM_LOGCAP_H
#define MULTIVM_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

/* A log the supervisor writes itself: the console transcript, and what
 * each VMM and QEMU writes into its pipe (caplog_drain). */
struct capped_log {
	const char *path;	/* the caller's storage */
	int fd;
	uint64_t size, max;
	uint64_t dropped;	/* bytes thrown away by rotation */
};

/* Opens (appends to) path. 0 or -errno. */
int caplog_open(struct capped_log *l, const char *path, uint64_t max);
/* Appends, rotating first if the file would pass max. */
void caplog_write(struct capped_log *l, const void *buf, size_t n);
void caplog_close(struct capped_log *l);

/* Moves what waits on fd (the non-blocking read end of a pipe a child
 * writes its stdout and stderr into) into l, at most budget bytes, so a
 * child's log is capped exactly as the transcript is. Returns 1 if more
 * may come, 0 at EOF (every writer is gone), or -errno. */
int caplog_drain(struct capped_log *l, int fd, size_t budget);

/* A log appended to through O_APPEND (the supervisor's own stderr): once
 * it is past max, its contents move to PATH.1 and it is emptied in place;
 * the writer goes on at offset 0. Returns the bytes thrown away (the old
 * PATH.1). */
uint64_t caplog_trim(const char *path, uint64_t max);

#endif
