/* Starting the processes of one VM: its VMM (this binary, re-executed)
 * and its QEMU. Children get a clean signal state, die with the
 * supervisor, and inherit exactly the fds named here. */
#ifndef MULTIVM_SPAWN_H
#define MULTIVM_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"
#include "link/link.h"
#include "supervisor/runas.h"
#include "node/args.h"

/* The VMM command line for VM i of cfg: its name, MAC, socket, queue size,
 * user (ra) and its ends of its links; for a [tunnel NAME] the tunnel
 * process's (a->tunnel: its endpoints, VNI and every VM's MAC). The caller
 * adds the fds it opened
 * (stats, capture, ready). 0, or -ENAMETOOLONG / -E2BIG. */
int spawn_vmm_args(struct node_args *a, const struct config *cfg, unsigned i,
		   const struct link_res *links, const struct runas *ra, const char *state_dir);

/* Where a child runs. Namespaces need CAP_SYS_ADMIN: the supervisor
 * asks for them when started by root (runas.drop). */
#define SPAWN_NEWPID	0x1	/* a PID namespace of its own, the child its init */
#define SPAWN_NEWPROC	0x2	/* and a mount namespace with a /proc of that PID namespace only */
struct spawn_how {
	const uint64_t *cpuset;	/* the CPUs it may run on (struct cfg_vm's), NULL: anywhere */
	unsigned ns;		/* SPAWN_NEW* */
	int cgroup_fd;		/* the VM's cgroup directory, the child joins it before exec; -1: ours */
	bool guard;		/* spawn_argv: held by the guard before exec (supervisor/lifeline.h) */
};

/* Starts `multivm vmm|tunnel ...` (this binary, re-executed) with the fds a names;
 * stdout and stderr go to log_fd (the write end of the pipe the
 * supervisor drains into the capped log); it runs as how says (NULL:
 * where we do). Returns the pid (ours, not the namespace's) or -errno.
 * A VMM is its namespace's init, which ignores the signals it has no
 * handler for: it starts with SIGTERM, SIGINT and SIGHUP blocked, so
 * one sent before its loop takes them (a signalfd) waits for it. */
pid_t spawn_vmm(const struct node_args *a, int log_fd, const struct spawn_how *how);

/* Runs argv (argv[0] looked up in PATH) with output to log_fd, as how
 * says (NULL: where we do). Every child (this and spawn_vmm's) ends
 * before exec if the supervisor is already gone, and has SIGTERM as its
 * parent-death signal until it changes its uid; a VMM then watches the
 * lifeline, and a child spawned with how->guard (QEMU) is killed by the
 * guard (supervisor/lifeline.h). */
pid_t spawn_argv(char *const argv[], int log_fd, const struct spawn_how *how);

/* Moves every thread of running process pid to the CPUs of cpuset
 * (CFG_CPUSET_WORDS words), or, NULL, to the CPUs the caller may run on
 * (cpuset = none: as the scheduler places it). Threads it starts later
 * inherit it. 0, or -errno (the first thread that could not be moved). */
int spawn_affinity(pid_t pid, const uint64_t *cpuset);

#endif
