/* The lifecycle of a running system's processes (lifecycle.c): starting
 * every VMM and, once it serves, its QEMU; restarting what dies after a
 * back-off; each VM's state and the status file; stopping it all. The
 * event loop (run.c) tells it what happened; nothing here waits. */
#ifndef MULTIVM_LIFECYCLE_H
#define MULTIVM_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "console/consoles.h"
#include "supervisor/detach.h"
#include "supervisor/preflight.h"

#define BOOT_FAILURES_MAX	3	/* QEMU exits before "ready" in a row; then run --detach gives up */
#define STOP_GRACE_MS		5000	/* from SIGTERM to SIGKILL, for the QEMUs and then the VMMs */
/* An image guest (image =) is up once its QEMU has run this long (it took
 * its devices); its agent (status: agent=up) says when the guest is. */
#define IMAGE_SETTLE_MS		2000
#define AGENT_PROBE_S		5	/* one `multivm agent-ping` waits this long ... */
#define AGENT_RETRY_MS		1000	/* ... and the next starts this much later */

struct sup;
struct proc_ops;

/* The one system of this process. VMMs' readiness pipes are watched in
 * ep with data.u32 = tag_ready + VM index, the pipes each VMM and QEMU
 * writes its stdout and stderr into with tag_log + 2 * VM index (+ 1 for
 * QEMU); children are started, signalled and reaped through ops
 * (&proc_real, or a test's fake: vmproc.h). */
struct sup *sup_init(struct run_plan *plan, int ep, uint32_t tag_ready, uint32_t tag_log,
		     struct consoles *cons, struct detach *d, const struct proc_ops *ops);

/* Creates the links and each VM's files (counters, capture ring,
 * transcript) and writes the first status. 0, or -errno (logged). */
int sup_open(struct sup *s);
/* Starts every VMM; each VM's QEMU follows when its VMM serves. 0 or
 * -errno (logged); then the caller calls sup_start_failed(). */
int sup_start(struct sup *s);
/* The system cannot come up: say so (--detach too) and stop. */
void sup_start_failed(struct sup *s);
bool sup_failed(const struct sup *s);

/* VM vm's readiness pipe is readable. */
void sup_vmm_word(struct sup *s, unsigned vm);
/* The log pipe of VM vm's VMM (child 0) or QEMU (child 1) is readable:
 * into its capped log. */
void sup_child_log(struct sup *s, unsigned vm, unsigned child);
/* VM vm's guest printed its ready line. */
void sup_guest_ready(struct sup *s, unsigned vm);
/* A child exited (status from waitpid). */
void sup_reaped(struct sup *s, pid_t pid, int status);
/* Asked to stop (signal, or Return ~ . at the terminal). */
void sup_stop(struct sup *s);

/* multivm apply: the running system becomes next (supervisor/grow.h:
 * VMs and tunnels added after the running ones or the last ones removed,
 * links added or removed on the segment): new links are made first (one
 * not made: nothing changed); the VMs that go are killed, reaped and
 * their files removed, the links that go closed; next becomes plan's
 * config, the new VMs start as at run, and each node that stays and
 * gains or loses a link has its running VMM handed the change
 * (common/handoff.h) or, if it cannot take it, its VMM restarted with its
 * links as they now are (bit i of *restarted), their run-time settings
 * kept; its guest keeps running. 0, or -1 with err set (nothing changed). */
int sup_apply(struct sup *s, const struct config *next, uint64_t *restarted, char *err, size_t errlen);

/* The nodes (bit i) whose running VMM the last sup_apply could not hand
 * their links (refused, or gone): restarted with them (in *restarted),
 * but the step failed, and `multivm apply` undoes the change. */
uint64_t sup_apply_failed(const struct sup *s);

/* Does what is due (restarts, late VMMs, consoles to reach, heartbeats
 * to read, our log to trim). Returns how many ms the loop may sleep. */
int sup_tick(struct sup *s);
/* Drives a stop; true once every child is gone. */
bool sup_stopped(struct sup *s);

#endif
