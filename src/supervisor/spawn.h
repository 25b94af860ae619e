/* Starting the processes of one VM: its VMM (this binary, re-executed)
 * and its QEMU. Children get a clean signal state, die with the
 * supervisor, and inherit exactly the fds named here. */
#ifndef MULTIVM_SPAWN_H
#define MULTIVM_SPAWN_H

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

/* Starts `multivm vmm|tunnel ...` (this binary, re-executed) with the fds a names;
 * stdout and stderr go to log_fd (the write end of the pipe the
 * supervisor drains into the capped log); it runs on the CPUs of cpuset
 * (struct cfg_vm's, NULL: anywhere). Returns the pid or -errno. */
pid_t spawn_vmm(const struct node_args *a, int log_fd, const uint64_t *cpuset);

/* Runs argv (argv[0] looked up in PATH) with output to log_fd, on the
 * CPUs of cpuset (NULL: anywhere). */
pid_t spawn_argv(char *const argv[], int log_fd, const uint64_t *cpuset);

#endif
