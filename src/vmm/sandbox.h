/* The VMM's seccomp allow-list (libseccomp), entered once set-up is done:
 * its sockets, eventfds, memory it is sent, epoll and logging stay
 * possible; exec, opening files and new connections do not. See
 * docs/sandbox.md for each entry and why it is there. */
#ifndef MULTIVM_SANDBOX_H
#define MULTIVM_SANDBOX_H

/* Returns 0, or -errno if the filter could not be loaded. */
int sandbox_enter(void);

#endif
