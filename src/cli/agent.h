/* Host side of the guest agent channel: a virtio-serial port named
 * org.qemu.guest_agent.0 whose host end is the unix socket STATE/NAME.agent,
 * served by QEMU, and qemu-guest-agent's protocol (QGA) on it, whichever
 * agent answers: qemu-ga in an image, or the built-in guest's
 * guest/agent.c. Protocol and limits: docs/agent.md.
 *
 * Everything the guest sends is untrusted: every read and write is bounded
 * by the caller's deadline, every reply by AGENT_MAX_REPLY bytes, and a
 * reply of the wrong shape ends the exchange. */
#ifndef MULTIVM_AGENT_H
#define MULTIVM_AGENT_H

#include <errno.h>
#include <stddef.h>

/* Errors, besides -errno:
 *   AGENT_ENOAGENT  no agent answered guest-sync-delimited in the time (no
 *                   socket, nobody reading the port, or only wrong answers)
 *   -ETIMEDOUT      the agent answered, the command did not finish in time
 *   -EPROTO         a reply that is not QGA (JSON, shape, base64)
 *   -EMSGSIZE       a reply longer than AGENT_MAX_REPLY
 *   -EREMOTEIO      the agent answered with an error (agent_report says it)
 *   -E2BIG          a command longer than AGENT_MAX_CMD
 *   -ECONNRESET     the channel closed in the middle */
#define AGENT_ENOAGENT	(-EHOSTDOWN)

/* guest-sync-delimited, then guest-ping, within timeout_ms. Returns 0 when
 * the agent behind sock answered, else one of the errors above. */
int agent_ping(const char *sock, int timeout_ms);

/* Runs cmd as /bin/sh -c CMD in the guest (guest-exec, capture-output),
 * polls guest-exec-status until it exited or timeout_ms passed (which also
 * bounds waiting for the agent), then writes its stdout to out_fd and its
 * stderr to err_fd. Returns its exit status (0..255; 128+N for signal N),
 * or one of the errors above. */
int agent_exec(const char *sock, const char *cmd, int timeout_ms, int out_fd, int err_fd);

/* The same over an already connected channel fd (a socketpair in tests);
 * fd is not closed. */
int agent_ping_fd(int fd, int timeout_ms);
int agent_exec_fd(int fd, const char *cmd, int timeout_ms, int out_fd, int err_fd);

/* Says on stderr why agent_exec or agent_ping failed with rc:
 * "multivm: WHAT: WHO: ...". For AGENT_ENOAGENT: "WHO: no guest agent
 * answered on org.qemu.guest_agent.0 in N s; install qemu-guest-agent in
 * the image". */
void agent_report(const char *what, const char *who, int rc, int timeout_s);

/* The words of a command line joined with spaces, like ssh (exec). Returns
 * 0, or -E2BIG if they do not fit in len bytes. */
int agent_join_words(char *out, size_t len, int argc, char **argv);

/* multivm agent-exec [--timeout SECS] SOCKET -- CMD... (hidden): `exec`
 * for a guest that no multivm system runs, by its agent socket (the bare
 * QEMU guests of bench/tcp.sh). argv[0] is "agent-exec"; dir is unused.
 * Exits with CMD's status, 255 when it could not be run. */
int cmd_agent_exec(const char *dir, int argc, char **argv);

/* multivm agent-ping [--timeout SECS] SOCKET (hidden): whether the agent
 * behind SOCKET answers guest-ping within SECS (default 5): exits 0 if
 * so, 1 if not, silently. The supervisor's readiness probe for image
 * guests (status: agent=up). */
int cmd_agent_ping(const char *dir, int argc, char **argv);

#endif
