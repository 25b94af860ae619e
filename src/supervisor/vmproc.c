#include "supervisor/vmproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stats.h"
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
};

void vmproc_init(struct vm_proc *p, const struct run_plan *plan, unsigned index)
{
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->cfg = &plan->cfg.vm[index];
	p->ready_fd = p->stats_fd = p->capture_fd = p->ctl_fd = -1;
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
		    link_hdr_write(env->links[k].memfd, c->link_queue_size, c->vm[l->a].name, c->vm[l->b].name) < 0)
			log_warn("link %s-%s: cannot rewrite its header", c->vm[l->a].name, c->vm[l->b].name);
	}
}

int vmproc_start_vmm(struct vm_proc *p, const struct vm_env *env, long long now)
{
	static struct node_args a;
	const struct run_plan *plan = env->plan;
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = env->tag_ready + p->index };
	char log[STATE_PATH_MAX], sock[STATE_PATH_MAX];
	int fds[2], rc = spawn_vmm_args(&a, &plan->cfg, p->index, env->links, &plan->runas, plan->dir);
	pid_t pid;

	if (rc < 0)
		return rc;
	if (state_file(log, plan->dir, p->cfg->name, SF_VMM_LOG) < 0 ||
	    state_file(sock, plan->dir, p->cfg->name, SF_VHOST) < 0)
		return -ENAMETOOLONG;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	a.stats_fd = p->stats_fd;
	a.ctl_fd = p->ctl_fd;	/* the node maps it read-only */
	if (a.kind == NODE_VMM)	/* a tunnel records nothing */
		a.vmm.capture_fd = p->capture_fd;
	a.ready_fd = fds[1];
	unlink(sock);	/* QEMU must not find the old one meanwhile */
	for (unsigned k = 0; k < p->cfg->nnics; k++)	/* nor those of its wire NICs */
		if (state_nic_socket(sock, plan->dir, p->cfg->name, p->cfg->nic[k].name) == 0)
			unlink(sock);
	refresh_link_headers(p, env);
	pid = env->ops->spawn_vmm(&a, log, p->cfg->cpuset_line ? p->cfg->cpuset : NULL);
	close(fds[1]);
	rc = pid < 0 ? pid : epoll_ctl(env->ep, EPOLL_CTL_ADD, fds[0], &e) < 0 ? -errno : 0;
	if (rc < 0) {
		close(fds[0]);
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
	char *argv[QEMU_MAX_ARGS], log[STATE_PATH_MAX];
	struct qemu_opts q = {
		.cfg = &plan->cfg, .vm = p->cfg, .state_dir = plan->dir, .kvm = plan->kvm,
		.kernel = plan->kernel, .initrd = plan->initrd,
		.runas = plan->runas.drop ? plan->runas.name : NULL,
	};
	int rc = qemu_argv(&q, buf, sizeof(buf), argv, QEMU_MAX_ARGS);
	pid_t pid;

	if (rc < 0)
		return rc;
	if (state_file(log, plan->dir, p->cfg->name, SF_QEMU_LOG) < 0)
		return -ENAMETOOLONG;
	pid = env->ops->spawn_argv(argv, log, p->cfg->cpuset_line ? p->cfg->cpuset : NULL);
	if (pid < 0)
		return pid;
	p->pid[CHILD_QEMU] = pid;
	p->started[CHILD_QEMU] = now;
	return 0;
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

int vmproc_reaped(struct vm_proc *p, pid_t pid)
{
	enum vm_child c;

	for (c = CHILD_VMM; c <= CHILD_QEMU; c++)
		if (p->pid[c] > 0 && p->pid[c] == pid) {
			p->pid[c] = 0;
			if (c == CHILD_VMM)
				p->vmm_serving = false;
			return c;
		}
	return -1;
}

int vmproc_restart_later(struct vm_proc *p, enum vm_child c, long long now)
{
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
