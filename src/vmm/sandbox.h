/* The VMM's seccomp allow-list (libseccomp), entered once set-up is done:
 * its sockets, eventfds, memory it is sent, epoll and logging stay
 * possible; exec, opening files and new connections do not. See
 * docs/sandbox.md for each entry and why it is there. */
#ifndef MULTIVM_SANDBOX_H
#define MULTIVM_SANDBOX_H

#include <sys/types.h>

/* Becomes uid:gid for good (no supplementary groups, no capabilities
 * left): for a VMM started by root. 0, or -errno. */
int sandbox_drop_user(uid_t uid, gid_t gid);

/* Returns 0, or -errno if the filter could not be loaded. */
int sandbox_enter(void);

/* The same, plus recvmmsg and sendmmsg: for the tunnel process, on the
 * UDP socket it bound before. */
int sandbox_enter_datagrams(void);

#endif
