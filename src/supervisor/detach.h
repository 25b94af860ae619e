/* `run --detach`: the caller's process waits, on a pipe, until the
 * detached supervisor says every VM is up ("ok") or why not ("fail: ..."),
 * or until its timeout; then it prints the status, or the reason and stops
 * what was started. */
#ifndef MULTIVM_DETACH_H
#define MULTIVM_DETACH_H

#include <stdbool.h>
#include <sys/types.h>

#define DETACH_OK	"ok\n"
#define DETACH_FAIL	"fail: "	/* then the reason and a newline */

struct detach {
	int fd;		/* child: where to report, -1 once done or when not detached */
};

/* Forks. The child (0 returned) has its own session, stdin and stdout on
 * /dev/null, and reports with detach_report(). The parent gets the
 * child's pid (or -errno) and then calls detach_wait(). */
pid_t detach_fork(struct detach *d);

/* Child: says msg (DETACH_OK, or DETACH_FAIL "reason\n") once; later
 * calls do nothing. */
void detach_report(struct detach *d, const char *msg);

/* Parent: waits up to timeout_s for the child's word. On "ok" prints the
 * status file and returns true; otherwise says why, stops the child and
 * waits for it (so an immediate `run` does not find it), false. */
bool detach_wait(struct detach *d, pid_t child, const char *dir, int timeout_s);

#endif
