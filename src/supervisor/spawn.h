/* Starting the processes of one VM: its VMM (this binary, re-executed)
 * and its QEMU. Children get a clean signal state, die with the
 * supervisor, and inherit exactly the fds named here. */
#ifndef MULTIVM_SPAWN_H
#define MULTIVM_SPAWN_H

#include <sys/types.h>

#include "config/config.h"
#include "link/link.h"
#include "supervisor/runas.h"

/* Starts `multivm vmm ...` for VM i of cfg with its links, its stats file
 * and its capture ring (capture_fd < 0: none); it drops to ra's user after
 * set-up. stdout and stderr go to log_path. Returns the pid or -errno. */
pid_t spawn_vmm(const struct config *cfg, unsigned i, const struct link_res *links,
		const struct runas *ra, const char *state_dir, int stats_fd, int capture_fd,
		const char *log_path);

/* Runs argv (argv[0] looked up in PATH) with output to log_path. */
pid_t spawn_argv(char *const argv[], const char *log_path);

#endif
