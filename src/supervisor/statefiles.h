/* The files the supervisor keeps in the state directory of a running
 * system (names: state.h): its pid and log, the status file, each VM's
 * counters and capture ring, and the logs other processes write there. */
#ifndef MULTIVM_STATEFILES_H
#define MULTIVM_STATEFILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/statusline.h"
#include "config/config.h"

/* Writes STATE/status atomically, one line per VM. 0 or -errno. */
int statefiles_status(const char *dir, const struct vm_status *vms, unsigned n);

/* Our stderr (and so our log lines) to STATE/supervisor.log; our pid to
 * STATE/supervisor.pid. */
void statefiles_begin(const char *dir);

/* STATE/VM.stats, fresh for this run (its counters then survive VMM
 * restarts). An fd, or -errno. */
int statefiles_stats(const char *dir, const char *vm);
/* STATE/VM.capture: a new sparse ring file, never the old one truncated
 * (a `multivm capture` still mapping it would fault). An fd, or -errno. */
int statefiles_capture(const char *dir, const char *vm);

/* Keeps the VMM's and QEMU's logs of vm under max bytes; returns the
 * bytes thrown away. vm NULL: the supervisor's own log. */
uint64_t statefiles_trim_logs(const char *dir, const char *vm, uint64_t max);

/* At stop: sockets, capture rings (they hold guest traffic), status and
 * pid file go; logs and counters stay. */
void statefiles_remove(const char *dir, const struct config *cfg);

#endif
