#include "supervisor/vmproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stats.h"
#include "supervisor/lifeline.h"
#include "supervisor/qemu.h"
#include "supervisor/spawn.h"
#include "supervisor/statefiles.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

const struct proc_ops proc_real = {
	.spawn_vmm = spawn_vmm, .spawn_argv = spawn_argv, .kill = kill, .waitpid = waitpid, .now_ms = mono_ms,
	.affinity = spawn_affinity,
};

void vmproc_init(struct vm_proc *p, const struct run_plan *plan, unsigned index)
{
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->cfg = &plan->cfg.vm[index];
	p->ready_fd = p->stats_fd = p->capture_fd = p->ctl_fd = p->handoff_fd = p->cgroup_fd = p->udp_fd = -1;
	p->log[CHILD_VMM].fd = p->log[CHILD_QEMU].fd = -1;
	p->log_fd[CHILD_VMM] = p->log_fd[CHILD_QEMU] = -1;
}

#define LOG_PIPE_SIZE	(256 << 10)	/* what a child may write before it waits for us */
#define LOG_BUDGET	(1 << 20)	/* read per event: a chatty child cannot hold the loop */
_Static_assert(LOG_PIPE_SIZE <= LOG_BUDGET, "a dead child's pipe is drained in one budget");

int vmproc_open_logs(struct vm_proc *p, const char *dir, uint64_t max)
{
	static const enum state_file f[2] = { [CHILD_VMM] = SF_VMM_LOG, [CHILD_QEMU] = SF_QEMU_LOG };
	enum vm_child c;
	int rc;

	for (c = CHILD_VMM; c <= CHILD_QEMU; c++) {
		if (state_file(p->log_path[c], dir, p->cfg->name, f[c]) < 0)
			return -ENAMETOOLONG;
		rc = caplog_open(&p->log[c], p->log_path[c], max);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A new pipe for child c: the read end, non-blocking, in the epoll; the
 * write end (for the child) in *wr. 0 or -errno. */
static int log_pipe(struct vm_proc *p, enum vm_child c, const struct vm_env *env, int *wr)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = env->tag_log + 2 * p->index + c };
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[0], F_SETPIPE_SZ, LOG_PIPE_SIZE);	/* a bigger cushion if allowed */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0 || epoll_ctl(env->ep, EPOLL_CTL_ADD, fds[0], &e) < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	p->log_fd[c] = fds[0];
	*wr = fds[1];
	return 0;
}

static void log_close(struct vm_proc *p, enum vm_child c, int ep)
{
	if (p->log_fd[c] < 0)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, p->log_fd[c], NULL);
	close(p->log_fd[c]);
	p->log_fd[c] = -1;
}

void vmproc_log_event(struct vm_proc *p, enum vm_child c, int ep)
{
	if (p->log_fd[c] >= 0 && caplog_drain(&p->log[c], p->log_fd[c], LOG_BUDGET) <= 0)
		log_close(p, c, ep);
}

uint64_t vmproc_logs_dropped(const struct vm_proc *p)
{
	return p->log[CHILD_VMM].dropped + p->log[CHILD_QEMU].dropped;
}

int vmproc_open(struct vm_proc *p, const char *dir, int *capture_err)
{
	p->stats_fd = statefiles_stats(dir, p->cfg->name);
	if (p->stats_fd < 0)
		return p->stats_fd;
	p->capture_fd = statefiles_capture(dir, p->cfg->name);
	*capture_err = p->capture_fd < 0 ? p->capture_fd : 0;
	if (p->capture_fd < 0)
		p->capture_fd = -1;
	return 0;
}

int vmproc_open_ctl(struct vm_proc *p, const struct vm_env *env)
{
	static struct node_args a;
	const struct run_plan *plan = env->plan;
	int rc = spawn_vmm_args(&a, &plan->cfg, p->index, env->links, &plan->runas, plan->dir);

	if (rc < 0)
		return rc;
	rc = statefiles_ctl(plan->dir, &a, &plan->cfg, p->index);
	if (rc < 0)
		return rc;
	p->ctl_fd = rc;
	return 0;
}

/* Where a VM's child runs: on its CPUs, in its cgroup, and started by
 * root (identities of their own) in namespaces of its own, ns. */
static struct spawn_how spawn_how_of(const struct vm_proc *p, const struct run_plan *plan, unsigned ns)
{
	struct spawn_how h = {
		.cpuset = p->cfg->cpuset_line ? p->cfg->cpuset : NULL,
		.ns = plan->runas.drop ? ns : 0,
		.cgroup_fd = p->cgroup_fd,
	};

	return h;
}

/* A peer VMM can write the header page of a link it shares: written anew
 * before this VM's VMM attaches, what a peer scribbled there cannot keep
 * that link down across restarts. */
static void refresh_link_headers(const struct vm_proc *p, const struct vm_env *env)
{
	const struct config *c = &env->plan->cfg;
	unsigned k;

	for (k = 0; k < c->nlinks; k++) {
		const struct cfg_link *l = &c->link[k];

		if ((l->a == p->index || l->b == p->index) &&
		    link_hdr_write(env->links[k].memfd, env->links[k].qsize, c->vm[l->a].name, c->vm[l->b].name) < 0)
			log_warn("link %s-%s: cannot rewrite its header", c->vm[l->a].name, c->vm[l->b].name);
	}
}

int vmproc_start_vmm(struct vm_proc *p, const struct vm_env *env, long long now)
{
	static struct node_args a;
	const struct run_plan *plan = env->plan;
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = env->tag_ready + p->index };
	char sock[STATE_PATH_MAX];
	struct spawn_how how;
	int fds[2], ho[2] = { -1, -1 }, log_wr,
		    rc = spawn_vmm_args(&a, &plan->cfg, p->index, env->links, &plan->runas, plan->dir);
	pid_t pid;

	if (rc < 0)
		return rc;
	if (state_file(sock, plan->dir, p->cfg->name, SF_VHOST) < 0)
		return -ENAMETOOLONG;
	log_close(p, CHILD_VMM, env->ep);	/* the last one's, if it outlived its reaping */
	rc = log_pipe(p, CHILD_VMM, env, &log_wr);
	if (rc < 0)
		return rc;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		close(log_wr);
		log_close(p, CHILD_VMM, env->ep);
		return rc;
	}
	a.stats_fd = p->stats_fd;
	a.ctl_fd = p->ctl_fd;	/* the node maps it read-only */
	if (a.kind == NODE_VMM)	/* a tunnel records nothing */
		a.vmm.capture_fd = p->capture_fd;
	else	/* the port stays ours across its restarts (tunnel/udpsock.h) */
		a.tunnel.udp_fd = p->udp_fd;
	a.ready_fd = fds[1];
	a.lifeline_fd = lifeline_fd();	/* it stops once we are gone, however we end */
	/* A VMM takes links at run time on this channel (common/handoff.h);
	 * without it, it still runs, and apply restarts it instead. */
	vmproc_handoff_close(p);
	if (a.kind == NODE_VMM && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ho) == 0)
		a.handoff_fd = ho[1];
	unlink(sock);	/* QEMU must not find the old one meanwhile */
	for (unsigned k = 0; k < p->cfg->nnics; k++)	/* nor those of its wire NICs */
		if (state_nic_socket(sock, plan->dir, p->cfg->name, p->cfg->nic[k].name) == 0)
			unlink(sock);
	refresh_link_headers(p, env);
	how = spawn_how_of(p, plan, SPAWN_NEWPID);
	pid = env->ops->spawn_vmm(&a, log_wr, &how);
	close(fds[1]);
	close(log_wr);
	if (ho[1] >= 0)
		close(ho[1]);
	p->handoff_fd = pid > 0 ? ho[0] : -1;
	if (pid <= 0 && ho[0] >= 0)
		close(ho[0]);
	rc = pid < 0 ? pid : epoll_ctl(env->ep, EPOLL_CTL_ADD, fds[0], &e) < 0 ? -errno : 0;
	if (rc < 0) {
		close(fds[0]);
		log_close(p, CHILD_VMM, env->ep);
		if (pid > 0) {	/* never leave an untracked VMM on the links */
			env->ops->kill(pid, SIGKILL);
			env->ops->waitpid(pid, NULL, 0);
		}
		return rc;
	}
	p->pid[CHILD_VMM] = pid;
	p->started[CHILD_VMM] = now;
	p->vmm_serving = false;
	p->hung_killed = false;
	p->ready_fd = fds[0];
	p->ready_due = now + VMM_READY_MS;
	return 0;
}

int vmproc_start_qemu(struct vm_proc *p, const struct vm_env *env, long long now)
{
	static char buf[QEMU_ARGBUF_MAX];
	const struct run_plan *plan = env->plan;
	const struct ident *id = &plan->runas.qemu[p->index];
	char *argv[QEMU_MAX_ARGS], runas[32];
	struct qemu_opts q = {
		.cfg = &plan->cfg, .vm = p->cfg, .state_dir = plan->dir, .kvm = plan->kvm,
		.kernel = plan->kernel, .initrd = plan->initrd,
		.runas = plan->runas.drop ? runas : NULL,
	};
	struct spawn_how how;
	int log_wr, rc;
	pid_t pid;

	/* QEMU's own identity (runas.h), as numbers: no account has it. */
	snprintf(runas, sizeof(runas), "%u:%u", (unsigned)id->uid, (unsigned)id->gid);
	rc = qemu_argv(&q, buf, sizeof(buf), argv, QEMU_MAX_ARGS);
	if (rc < 0)
		return rc;
	log_close(p, CHILD_QEMU, env->ep);
	rc = log_pipe(p, CHILD_QEMU, env, &log_wr);
	if (rc < 0)
		return rc;
	how = spawn_how_of(p, plan, SPAWN_NEWPROC);
	how.guard = true;	/* its -runas clears its parent-death signal */
	pid = env->ops->spawn_argv(argv, log_wr, &how);
	close(log_wr);
	if (pid < 0) {
		log_close(p, CHILD_QEMU, env->ep);
		return pid;
	}
	p->pid[CHILD_QEMU] = pid;
	p->started[CHILD_QEMU] = now;
	return 0;
}

void vmproc_handoff_close(struct vm_proc *p)
{
	if (p->handoff_fd >= 0)
		close(p->handoff_fd);
	p->handoff_fd = -1;
}

void vmproc_forget_ready(struct vm_proc *p, int ep)
{
	if (p->ready_fd < 0)
		return;
	/* Explicitly: a child forked meanwhile may hold the pipe until exec. */
	epoll_ctl(ep, EPOLL_CTL_DEL, p->ready_fd, NULL);
	close(p->ready_fd);
	p->ready_fd = -1;
}

static int read_beat(const struct vm_proc *p, uint64_t *beat)
{
	return pread(p->stats_fd, beat, sizeof(*beat), offsetof(struct vm_stats, heartbeat)) ==
	       (ssize_t)sizeof(*beat) ? 0 : -1;
}

enum vmm_word vmproc_ready_event(struct vm_proc *p, int ep, long long now)
{
	char c;
	ssize_t n = read(p->ready_fd, &c, 1);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return VMM_NO_WORD;
	vmproc_forget_ready(p, ep);
	p->vmm_serving = n == 1;
	if (read_beat(p, &p->beat) < 0)
		p->beat = 0;
	p->beat_moved = now;	/* its loop starts now: judged from here */
	return n == 1 ? VMM_SERVES : VMM_GAVE_UP;
}

enum vmm_liveness vmproc_liveness(struct vm_proc *p, long long now)
{
	uint64_t b;

	if (!p->vmm_serving || p->pid[CHILD_VMM] <= 0 || read_beat(p, &b) < 0)
		return VMM_ALIVE;
	if (b != p->beat) {
		p->beat = b;
		p->beat_moved = now;
	}
	return now - p->beat_moved >= VMM_HUNG_MS ? VMM_HUNG :
	       now - p->beat_moved >= VMM_UNRESPONSIVE_MS ? VMM_UNRESPONSIVE : VMM_ALIVE;
}

int vmproc_link_up(const struct vm_proc *p, const char *peer, const char *peer_nic)
{
	static struct link_stats l[MV_NODE_LINKS_MAX];
	uint32_t n;
	unsigned k;

	if (p->stats_fd < 0 ||
	    pread(p->stats_fd, &n, sizeof(n), offsetof(struct vm_stats, nlinks)) != (ssize_t)sizeof(n) ||
	    pread(p->stats_fd, l, sizeof(l), offsetof(struct vm_stats, link)) != (ssize_t)sizeof(l))
		return -1;
	for (k = 0; k < n && k < MV_NODE_LINKS_MAX; k++)
		if (!strncmp(l[k].peer, peer, sizeof(l[k].peer)) && !strncmp(l[k].peer_nic, peer_nic, sizeof(l[k].peer_nic)))
			return l[k].up != 0;
	return -1;
}

int vmproc_reaped(struct vm_proc *p, pid_t pid, int ep)
{
	enum vm_child c;

	for (c = CHILD_VMM; c <= CHILD_QEMU; c++)
		if (p->pid[c] > 0 && p->pid[c] == pid) {
			p->pid[c] = 0;
			/* Its last words are in the pipe: log them (a pipe holds
			 * at most LOG_PIPE_SIZE, within one budget), then it is
			 * done with. */
			if (p->log_fd[c] >= 0)
				caplog_drain(&p->log[c], p->log_fd[c], LOG_BUDGET);
			log_close(p, c, ep);
			if (c == CHILD_VMM) {
				p->vmm_serving = false;
				vmproc_handoff_close(p);
			}
			return c;
		}
	return -1;
}

int vmproc_restart_later(struct vm_proc *p, enum vm_child c, long long now)
{
	if (p->asked[c]) {
		p->asked[c] = false;
		p->backoff[c] = 0;
		p->due[c] = now;
		return 0;
	}
	if (now - p->started[c] > BACKOFF_RESET_MS || p->backoff[c] == 0)
		p->backoff[c] = BACKOFF_MIN_MS;
	else
		p->backoff[c] = p->backoff[c] * 2 < BACKOFF_MAX_MS ? p->backoff[c] * 2 : BACKOFF_MAX_MS;
	p->due[c] = now + p->backoff[c];
	return p->backoff[c];
}

static long long earlier(long long a, long long b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

long long vmproc_next_due(const struct vm_proc *p)
{
	return earlier(earlier(p->due[CHILD_VMM], p->due[CHILD_QEMU]), p->ready_fd >= 0 ? p->ready_due : 0);
}

void vmproc_close(struct vm_proc *p, int ep)
{
	enum vm_child c;

	vmproc_forget_ready(p, ep);
	for (c = CHILD_VMM; c <= CHILD_QEMU; c++) {
		log_close(p, c, ep);
		caplog_close(&p->log[c]);
	}
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	if (p->capture_fd >= 0)
		close(p->capture_fd);
	if (p->ctl_fd >= 0)
		close(p->ctl_fd);
	if (p->cgroup_fd >= 0)
		close(p->cgroup_fd);
	if (p->udp_fd >= 0)
		close(p->udp_fd);
	p->stats_fd = p->capture_fd = p->ctl_fd = p->cgroup_fd = p->udp_fd = -1;
	vmproc_handoff_close(p);
}
