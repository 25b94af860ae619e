/* Whether a system fits this host, checked before anything starts: open
 * files (the supervisor keeps three fds per link for its whole life, and
 * raises its soft RLIMIT_NOFILE as far as the hard limit allows) and
 * memory (guest RAM, plus every link's shared memory were it all
 * touched: link_shm_size() each, 4.02 MiB at link_queue_size = 256 in
 * link format v2, against MemAvailable). */
#ifndef MULTIVM_FIT_H
#define MULTIVM_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* File descriptors the supervisor needs for c. */
unsigned fit_fds_needed(const struct config *c);
/* Bytes of guest RAM (guests: QEMUs started) and of links for c. */
uint64_t fit_memory_needed(const struct config *c, bool guests);

/* 0, or -1 with err saying what does not fit and what to change.
 * meminfo: /proc/meminfo, or another file for tests. */
int fit_check(const struct config *c, bool guests, const char *meminfo, char *err, size_t errlen);

/* The same for a running system old becoming c (multivm apply): what c
 * needs beyond old against MemAvailable now. 0, or -1 with err set. */
int fit_check_more(const struct config *old, const struct config *c, bool guests, const char *meminfo, char *err,
		   size_t errlen);

#endif
