/* `multivm run`: preflight, then (in the foreground or detached) the one
 * event loop of the supervisor: a signalfd, the VMMs' readiness pipes and
 * every console and viewer in one epoll, with the lifecycle's timers as
 * its timeout. Nothing it calls waits for a child. */
#include "supervisor/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "config/text.h"
#include "console/consoles.h"
#include "console/relay.h"
#include "supervisor/detach.h"
#include "supervisor/image.h"
#include "supervisor/lifecycle.h"
#include "supervisor/lifeline.h"
#include "supervisor/grow.h"
#include "supervisor/overlay.h"
#include "supervisor/preflight.h"
#include "supervisor/statefiles.h"
#include "supervisor/vmproc.h"

/* epoll data.u32 of what the loop watches. */
_Static_assert(1200 + 2 * MV_NODES_MAX <= 2000, "log pipe tags stay below the viewers'");
enum {
	TAG_CONSOLE = 0,	/* + VM index */
	TAG_SIGNAL = 1000,
	TAG_LISTEN,
	TAG_READY = 1100,	/* + VM index: its VMM's readiness pipe */
	TAG_LOG = 1200,		/* + 2 * VM index (+ 1: QEMU): a child's stdout and stderr */
	TAG_VIEWER = 2000,	/* + viewer index */
};

#define MAX_EVENTS	16

struct run {
	struct run_plan plan;
	struct detach detach;
	struct consoles cons;
	struct sup *sup;
	int ep, sig_fd;
	int tty_fd;		/* the terminal of a foreground run, else -1 */
};

static int setup_loop(struct run *r)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = TAG_SIGNAL };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);	/* multivm apply asks */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	r->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->sig_fd < 0 || r->ep < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, r->sig_fd, &e) < 0)
		return -errno;
	return 0;
}

/* A VM apply adds with an image: its images settled (format, size: as
 * preflight settles them; apply checked them already), then its overlay,
 * seed and variables made as run makes them, before it starts. made[i]:
 * VM i is new here, its files to remove if apply fails; fresh[i]: its
 * persist overlay is new too. */
static int apply_files(struct run *r, struct config *next, bool *made, bool *fresh, bool *changed, char *err,
		       size_t errlen)
{
	static struct grow g;
	unsigned i;

	if (!image_any(next) && !image_any(&r->plan.cfg))
		return 0;
	if (image_any(next) && image_check_all(next, &r->plan.runas, err, errlen) < 0)
		return -1;
	if (grow_plan(&r->plan.cfg, next, &g, err, errlen) < 0)
		return -1;
	for (i = 0; i < next->nvms; i++) {
		if (i < g.first_gone) {	/* running: its files change if it reboots or persist does */
			if (g.reboot[i] || r->plan.cfg.vm[i].persist != next->vm[i].persist) {
				if (overlay_change_vm(&r->plan.cfg, next, r->plan.dir, i, err, errlen) < 0)
					return -1;
				changed[i] = true;
			}
			continue;
		}
		made[i] = true;
		if (overlay_make_vm(next, r->plan.dir, i, &fresh[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* multivm apply's request (STATE/apply.req, apply.req.name): the new
 * config, checked by apply as run checks one; the answer in
 * STATE/apply.res. The new text becomes STATE/run. */
static void apply_request(struct run *r)
{
	static char text[CFG_TEXT_MAX], name[PATH_MAX];
	static struct config next;
	char p[STATE_PATH_MAX], err[CFG_ERR_MAX], res[CFG_ERR_MAX + 16 + 2 * MV_NODES_MAX * (MV_NAME_MAX + 9)];
	const char *dir = r->plan.dir;
	bool made[MV_NODES_MAX] = { false }, fresh[MV_NODES_MAX] = { false }, changed[MV_NODES_MAX] = { false };
	char e2[CFG_ERR_MAX];
	uint64_t restarted = 0;
	size_t used;
	unsigned i;

	err[0] = 0;
	if (state_file(p, dir, NULL, SF_APPLY_REQ_NAME) < 0 || config_read_text(p, name, sizeof(name), err, sizeof(err)) < 0 ||
	    state_file(p, dir, NULL, SF_APPLY_REQ) < 0 || config_read_text(p, text, sizeof(text), err, sizeof(err)) < 0 ||
	    config_load_string(&next, text, name, err, sizeof(err)) < 0 ||
	    apply_files(r, &next, made, fresh, changed, err, sizeof(err)) < 0 ||
	    sup_apply(r->sup, &next, &restarted, err, sizeof(err)) < 0) {
		for (i = 0; i < next.nvms && i < MV_NODES_MAX; i++)
			if (made[i])
				overlay_unmake_vm(&next, dir, i, fresh[i]);
			else if (changed[i] && overlay_change_vm(&next, &r->plan.cfg, dir, i, e2, sizeof(e2)) < 0)
				log_warn("apply: cannot put back %s's files: %s", next.vm[i].name, e2);
		log_warn("apply: %s", err);
		snprintf(res, sizeof(res), "error: %s\n", err);
	} else {
		snprintf(r->plan.text, sizeof(r->plan.text), "%s", text);
		snprintf(r->plan.abspath, sizeof(r->plan.abspath), "%s", name);
		if (state_write_run(dir, name, text) < 0)
			log_warn("cannot write %s/run: `multivm config` shows the old configuration", dir);
		/* ok, then each node whose VMM restarted (apply waits for it). */
		used = (size_t)snprintf(res, sizeof(res), "ok\n");
		for (i = 0; i < next.nvms && i < MV_NODES_MAX && used < sizeof(res); i++)
			if (restarted & (1ull << i))
				used += (size_t)snprintf(res + used, sizeof(res) - used, "restart %s\n", next.vm[i].name);
		/* and each whose running VMM failed a handoff (apply undoes). */
		for (i = 0; i < next.nvms && i < MV_NODES_MAX && used < sizeof(res); i++)
			if (sup_apply_failed(r->sup) & (1ull << i))
				used += (size_t)snprintf(res + used, sizeof(res) - used, "failed %s\n", next.vm[i].name);
	}
	if (state_file(p, dir, NULL, SF_APPLY_REQ) == 0)
		unlink(p);
	if (state_write_atomic(dir, SF_APPLY_RES, SF_APPLY_TMP, res) < 0)
		log_warn("cannot write %s/apply.res", dir);
}

static void on_signal(struct run *r)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(r->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGUSR1)
			apply_request(r);
		else if (si.ssi_signo != SIGCHLD)
			sup_stop(r->sup);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		sup_reaped(r->sup, pid, status);
}

static void dispatch(struct run *r, uint32_t tag, uint32_t events)
{
	unsigned vm;

	if (tag == TAG_SIGNAL) {
		on_signal(r);
	} else if (tag >= TAG_READY && tag < TAG_READY + r->plan.cfg.nvms) {
		sup_vmm_word(r->sup, tag - TAG_READY);
	} else if (tag >= TAG_LOG && tag < TAG_LOG + 2 * r->plan.cfg.nvms) {
		sup_child_log(r->sup, (tag - TAG_LOG) / 2, (tag - TAG_LOG) % 2);
	} else if (consoles_owns(&r->cons, tag)) {
		switch (consoles_event(&r->cons, tag, events, &vm)) {
		case CONSOLE_READY:
			sup_guest_ready(r->sup, vm);
			break;
		case CONSOLE_LEAVE:	/* Return ~ . at the terminal of `multivm run` */
			sup_stop(r->sup);
			break;
		case CONSOLE_NONE:
			break;
		}
	}
}

static void loop(struct run *r)
{
	for (;;) {
		struct epoll_event ev[MAX_EVENTS];
		int wait = sup_tick(r->sup), i, n;

		if (sup_stopped(r->sup))
			return;
		n = epoll_wait(r->ep, ev, MAX_EVENTS, wait);
		for (i = 0; i < n; i++)
			dispatch(r, ev[i].data.u32, ev[i].events);
	}
}

/* The supervisor proper, in the foreground or as the detached child. */
static enum run_result supervise(struct run *r)
{
	struct console_tags tags = { .vm = TAG_CONSOLE, .listen = TAG_LISTEN, .viewer = TAG_VIEWER };
	char p[STATE_PATH_MAX];
	int rc;

	statefiles_begin(r->plan.dir);
	log_set_tag("supervisor");
	/* Before any child: each gets the lifeline, each QEMU the guard. */
	rc = lifeline_start();
	if (rc < 0)
		log_err("cannot start the guard of its children: %s", strerror(-rc));
	if (!rc)
		rc = setup_loop(r);
	if (!rc && state_write_run(r->plan.dir, r->plan.abspath, r->plan.text) < 0)
		log_warn("cannot write %s/run: `multivm config` and `apply` will not know what runs", r->plan.dir);
	consoles_init(&r->cons, &r->plan.cfg, r->ep, tags, r->tty_fd);
	r->sup = sup_init(&r->plan, r->ep, TAG_READY, TAG_LOG, &r->cons, &r->detach, &proc_real);
	state_file(p, r->plan.dir, NULL, SF_CONSOLE_SOCK);	/* preflight checked its length */
	if (!rc)
		rc = consoles_listen(&r->cons, p);
	if (!rc)
		rc = sup_open(r->sup);
	if (!rc)
		rc = sup_start(r->sup);
	if (rc < 0) {
		sup_start_failed(r->sup);
	} else if (r->tty_fd >= 0) {
		relay_raw(0);
		consoles_terminal(&r->cons, 0);
		log_info("showing %s's console", r->plan.cfg.vm[0].name);
	}
	loop(r);
	relay_restore();
	statefiles_remove(r->plan.dir, &r->plan.cfg);
	log_info("stopped");
	return sup_failed(r->sup) ? RUN_FAILED : RUN_OK;
}

enum run_result supervisor_run(const struct run_opts *o)
{
	static struct run r;	/* large; keep it off the stack */
	enum preflight_result pr;
	char err[600];
	pid_t pid;

	/* Everything we and our children create is ours alone; fds we were
	 * given (a pipe to our caller, say) are not passed on. */
	umask(077);
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	memset(&r, 0, sizeof(r));
	r.ep = r.sig_fd = r.tty_fd = r.detach.fd = -1;
	pr = preflight_run(&r.plan, o->state_dir, o->config, o->host, o->no_guests, preflight_real_host(), err,
			   sizeof(err));
	if (pr != PREFLIGHT_OK) {
		fprintf(stderr, "multivm: %s\n", err);
		return pr == PREFLIGHT_BAD_CONFIG ? RUN_BAD_CONFIG : RUN_FAILED;
	}
	if (plan_needs_qemu(&r.plan) && overlay_make_all(&r.plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: %s\n", err);
		statefiles_remove(r.plan.dir, &r.plan.cfg);
		return RUN_FAILED;
	}
	if (!o->detach) {
		r.tty_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);	/* not for the children */
		return supervise(&r);
	}
	pid = detach_fork(&r.detach);
	if (pid < 0) {
		fprintf(stderr, "multivm: cannot start the supervisor: %s\n", strerror(-pid));
		return RUN_FAILED;
	}
	if (pid > 0)
		return detach_wait(&r.detach, pid, r.plan.dir, o->timeout_s) ? RUN_OK : RUN_FAILED;
	return supervise(&r);	/* the detached child, until the system stops */
}
