/* Host side of the guest agent channel (a virtio-serial port named
 * "multivm.agent" whose host end is the unix socket STATE/NAME.agent,
 * served by QEMU). Protocol: docs/agent.md. The guest side is guest/agent.c. */
#ifndef MULTIVM_AGENT_H
#define MULTIVM_AGENT_H

#include <stddef.h>

/* Waits until the agent behind sock answers a ping, or timeout_ms passes.
 * Returns 0, or -ETIMEDOUT / -errno. */
int agent_wait_ready(const char *sock, int timeout_ms);

/* Runs cmd with /bin/sh -c in the guest, copying its output (stdout and
 * stderr) to out_fd as it comes. Returns the exit status (0..255; 128+N
 * for a signal), or -ETIMEDOUT / -errno. Waits for readiness first, within
 * the same timeout. */
int agent_exec(const char *sock, const char *cmd, int timeout_ms, int out_fd);

/* The words of a command line joined with spaces, like ssh (exec). Returns
 * 0, or -E2BIG if they do not fit in len bytes. */
int agent_join_words(char *out, size_t len, int argc, char **argv);

/* multivm agent-exec [--timeout SECS] SOCKET -- CMD... (hidden): `exec`
 * for a guest that no multivm system runs, by its agent socket (the bare
 * QEMU guests of bench/tcp.sh). argv[0] is "agent-exec"; dir is unused.
 * Exits with CMD's status, 255 when it could not be run. */
int cmd_agent_exec(const char *dir, int argc, char **argv);

#endif
