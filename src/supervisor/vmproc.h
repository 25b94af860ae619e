/* One VM's processes, its VMM and its QEMU, as the supervisor runs them:
 * starting each (the VMM with a readiness pipe the caller's epoll
 * watches), hearing the VMM's word, noticing an exit, and the back-off
 * before a restart. It reports what happened; what that means for the VM
 * and the system (states, restarts, stopping) the supervisor decides. */
#ifndef MULTIVM_VMPROC_H
#define MULTIVM_VMPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/logcap.h"
#include "config/config.h"
#include "link/link.h"
#include "supervisor/preflight.h"

#define VMM_READY_MS		10000	/* a VMM serves its socket within this, or is given up */
#define BACKOFF_MIN_MS		200
#define BACKOFF_MAX_MS		5000
#define BACKOFF_RESET_MS	10000	/* a process that ran this long starts over at the minimum */
/* Liveness: a serving node's loop bumps its heartbeat (stats.h) every
 * pass, at least twice a second even when idle. The supervisor looks
 * every LIVENESS_CHECK_MS; unmoved for VMM_UNRESPONSIVE_MS the VM is
 * degraded (vmm_unresponsive), for VMM_HUNG_MS the node is killed and
 * restarted. A look sees a stop up to a period late: 500 ms keeps a
 * stopped VMM's degradation within 3.5 s, well inside 5. */
#define LIVENESS_CHECK_MS	500
#define VMM_UNRESPONSIVE_MS	3000
#define VMM_HUNG_MS		10000
/* A wire's NICs lose carrier, as a cable whose far end is unplugged,
 * while the peer node has been gone this long: its VMM not running (a
 * VMM killed and restarted in a fraction of a second does not flap it),
 * unresponsive (its heartbeat unmoved VMM_UNRESPONSIVE_MS, which is this
 * long), or, for a tunnel, its remote's heartbeat unheard as long
 * (VXLAN_HB_DEAD_MS: the tunnel shows the link up=0). Seen at the next
 * look: within LIVENESS_CHECK_MS more. */
#define WIRE_PEER_GONE_MS	3000

enum vm_child { CHILD_VMM, CHILD_QEMU };

struct vm_proc {
	unsigned index;			/* in plan->cfg */
	const struct cfg_vm *cfg;
	pid_t pid[2];			/* by enum vm_child; 0: not running */
	long long started[2];
	long long due[2];		/* restart time, 0: none */
	int backoff[2];			/* ms, the last one used */
	bool asked[2];			/* we stopped it to restart it (apply): at once, no back-off */
	bool vmm_serving;		/* the VMM said so on its readiness pipe */
	int ready_fd;			/* that pipe while we wait, else -1 */
	long long ready_due;		/* when a silent VMM is given up */
	int stats_fd;			/* STATE/NAME.stats, kept for every VMM start */
	int capture_fd;			/* STATE/NAME.capture, -1: none */
	int ctl_fd;			/* STATE/NAME.ctl, kept for every VMM start; -1: not made yet */
	int handoff_fd;			/* our end of the running VMM's link handoff channel; -1: none */
	int cgroup_fd;			/* its cgroup's directory (supervisor/cgroup.h), -1: none */
	int udp_fd;			/* a tunnel's UDP socket, bound for the system's life; -1: none */
	/* What each child writes (stdout, stderr) comes through a pipe into
	 * STATE/NAME.vmm.log and NAME.qemu.log, capped at log_max. */
	struct capped_log log[2];	/* by enum vm_child */
	char log_path[2][STATE_PATH_MAX];
	int log_fd[2];			/* the pipe's read end while a child may write, else -1 */
	uint64_t beat;			/* the VMM's heartbeat as last read */
	long long beat_moved;		/* when it was last seen moving (or the VMM began serving) */
	bool hung_killed;		/* this VMM was killed for hanging: once */
};

struct node_args;
struct spawn_how;

/* The process layer under vmproc and the lifecycle: every call that starts,
 * signals or waits for a child, and the clock. run.c hands proc_real to
 * sup_init(); tests/unit/test_lifecycle.c hands a fake that starts nothing
 * and keeps the time, so the lifecycle's decisions are tested without a
 * process or a wait.
 *
 * A table rather than link-time substitution: every unit test links all
 * of src/ (the Makefile's LIBSRCS), so spawn_vmm() or kill() could be
 * replaced for one test only with a second library or per-test --wrap
 * rules. Five pointers, set once, also name in one place every way this
 * process touches a VM's processes. */
struct proc_ops {
	pid_t (*spawn_vmm)(const struct node_args *a, int log_fd, const struct spawn_how *how);
	pid_t (*spawn_argv)(char *const argv[], int log_fd, const struct spawn_how *how);
	int (*kill)(pid_t pid, int sig);
	pid_t (*waitpid)(pid_t pid, int *status, int options);
	long long (*now_ms)(void);	/* monotonic, in ms */
	int (*affinity)(pid_t pid, const uint64_t *cpuset);	/* spawn_affinity() */
};

/* spawn.c's spawn_vmm(), spawn_argv() and spawn_affinity(), kill(2), waitpid(2), CLOCK_MONOTONIC. */
extern const struct proc_ops proc_real;

/* What starting any VM's processes needs. */
struct vm_env {
	const struct run_plan *plan;
	const struct link_res *links;	/* one per plan->cfg.link */
	int ep;				/* readiness pipes are watched here ... */
	uint32_t tag_ready;		/* ... with data.u32 = tag_ready + index */
	uint32_t tag_log;		/* log pipes: tag_log + 2 * index + enum vm_child */
	const struct proc_ops *ops;	/* how children are started, signalled and reaped */
};

void vmproc_init(struct vm_proc *p, const struct run_plan *plan, unsigned index);

/* Opens the VM's counters and capture ring in the state directory
 * (without a capture ring the VM runs, without capture: *capture_err is
 * then set). 0, or -errno when the counters cannot be created. */
int vmproc_open(struct vm_proc *p, const char *dir, int *capture_err);

/* Opens the VM's VMM and QEMU logs (appending), each capped at max bytes
 * plus one older PATH.1. 0, or -errno (the children then run, unlogged). */
int vmproc_open_logs(struct vm_proc *p, const char *dir, uint64_t max);
/* Child c's log pipe is readable: moves at most a budget's worth into
 * its log; at EOF the pipe is closed. */
void vmproc_log_event(struct vm_proc *p, enum vm_child c, int ep);
/* Bytes thrown away to keep the VMM's and QEMU's logs under the cap. */
uint64_t vmproc_logs_dropped(const struct vm_proc *p);

/* Makes the node's link control file (statefiles_ctl) from the command
 * line its VMM will get, with the config's [link] settings. 0 or -errno. */
int vmproc_open_ctl(struct vm_proc *p, const struct vm_env *env);

/* Spawns the VMM (fresh link headers first: a peer may have scribbled on
 * them). It is not serving until vmproc_ready_event() says so. 0/-errno. */
int vmproc_start_vmm(struct vm_proc *p, const struct vm_env *env, long long now);
/* Spawns QEMU. 0 or -errno. */
int vmproc_start_qemu(struct vm_proc *p, const struct vm_env *env, long long now);

enum vmm_word { VMM_NO_WORD, VMM_SERVES, VMM_GAVE_UP };
/* The readiness pipe is readable: the VMM serves, or closed it first
 * (it died or is dying). Either way the pipe is done with. */
enum vmm_word vmproc_ready_event(struct vm_proc *p, int ep, long long now);
/* Stops waiting for the VMM's word (it exited, or is late). */
void vmproc_forget_ready(struct vm_proc *p, int ep);

enum vmm_liveness { VMM_ALIVE, VMM_UNRESPONSIVE, VMM_HUNG };
/* Reads the serving VMM's heartbeat: has it moved lately? A VMM that is
 * not serving is VMM_ALIVE here (its readiness deadline covers it); so is
 * one whose counters cannot be read (nothing to judge by). */
enum vmm_liveness vmproc_liveness(struct vm_proc *p, long long now);

/* pid exited: which of ours it was (now marked not running, the rest of
 * what it wrote logged), or -1. */
int vmproc_reaped(struct vm_proc *p, pid_t pid, int ep);

/* Whether the link record in p's counters naming peer and peer_nic says
 * up: 1, 0, or -1 when there is no such record or it cannot be read.
 * For a tunnel, 0 is its remote gone silent. */
int vmproc_link_up(const struct vm_proc *p, const char *peer, const char *peer_nic);

/* Schedules child c's restart after its back-off: doubled each time,
 * from BACKOFF_MIN_MS to BACKOFF_MAX_MS, fresh after a long run. A child
 * we stopped ourselves to restart it (asked) did not fail: it restarts at
 * once, and its back-off starts over. Returns the delay in ms. */
int vmproc_restart_later(struct vm_proc *p, enum vm_child c, long long now);

/* Closes everything of a VM whose processes are gone (multivm apply
 * removed it): its pipes, logs, counters, capture ring, control file,
 * its cgroup's fd. */
void vmproc_close(struct vm_proc *p, int ep);

/* Closes our end of the VMM's link handoff channel (it exited, or is
 * started anew with another). */
void vmproc_handoff_close(struct vm_proc *p);

/* The earliest time something here is due (restart, VMM deadline), or 0. */
long long vmproc_next_due(const struct vm_proc *p);

#endif
