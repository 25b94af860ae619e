/* Children end with the supervisor, however it ends (SIGKILL too).
 *
 * The lifeline is a pipe whose write end only the supervisor holds
 * (close-on-exec, and each spawned child closes its copy first): when the
 * supervisor dies, the kernel closes it and the read end hangs up. A VMM
 * or tunnel watches the read end in its loop (--lifeline-fd) and stops:
 * its uid drop clears its parent-death signal, and as the init of its PID
 * namespace getppid() tells it nothing.
 *
 * A QEMU cannot watch it, and its own uid drop (-runas) clears the
 * parent-death signal too; so the guard, a child of the supervisor that
 * keeps root and never execs, holds a pidfd of each QEMU and SIGKILLs
 * those still running once the lifeline hangs up. A guarded child waits
 * before exec until the supervisor has handed the guard its pidfd, so
 * there is no moment at which it could outlive the supervisor unseen. */
#ifndef MULTIVM_LIFELINE_H
#define MULTIVM_LIFELINE_H

#include <stdbool.h>
#include <sys/types.h>

/* Supervisor, once: makes the pipe and starts the guard. 0 or -errno. */
int lifeline_start(void);

/* The read end children are given (-1 before lifeline_start). */
int lifeline_fd(void);

/* In a spawned child, before anything else: drops its copy of the write
 * end. Then true if the supervisor is already gone (the child must not
 * exec). */
bool lifeline_child_gone(void);

/* Supervisor: hands the guard a pidfd of pid, which has not exec'd yet.
 * 0 or -errno (no guard, full, or the pid is gone). */
int lifeline_guard(pid_t pid);

/* For tests: closes the supervisor's write end as its death would. */
void lifeline_cut(void);

#endif
