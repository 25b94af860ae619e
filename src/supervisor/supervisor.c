/* The supervisor: creates links, starts and restarts every VMM and QEMU,
 * reads every console, writes STATE/status, and stops it all on request.
 * Single-threaded: one epoll loop over a signalfd, the consoles and, in
 * the foreground, the terminal. */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/log.h"
#include "common/stats.h"
#include "config/config.h"
#include "console/mux.h"
#include "console/relay.h"
#include "link/link.h"
#include "passthrough/pci.h"
#include "common/logcap.h"
#include "supervisor/qemu.h"
#include "supervisor/runas.h"
#include "supervisor/spawn.h"
#include "supervisor/state.h"

enum vm_state { ST_STARTING, ST_BOOTING, ST_UP, ST_RESTARTING, ST_STOPPED };
static const char *const state_names[] = { "starting", "booting", "up", "restarting", "stopped" };

#define TAG_SIGNAL	1000
#define TAG_STDIN	1001
#define TAG_LISTEN	1002
#define TAG_VIEWER	2000
#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	5000
#define BOOT_FAILURES_MAX 3	/* then run --detach gives up waiting */
#define STOP_GRACE_MS	5000
#define LOG_TRIM_MS	1000	/* how often logs are checked against log_max */

struct vmp {
	const struct cfg_vm *cfg;
	int state;
	pid_t vmm, qemu;
	int stats_fd;
	int capture_fd;			/* STATE/NAME.capture, -1: none */
	int con_fd;
	char con_log_path[STATE_PATH_MAX];
	struct capped_log con_log;	/* the console transcript */
	uint64_t logs_dropped;		/* bytes rotated out of its VMM and QEMU logs */
	uint64_t con_dropped_shown;	/* con_log.dropped as the status file has it */
	char inq[4096];			/* keys for the guest QEMU has not taken yet */
	size_t inq_len;
	bool want_out;			/* con_fd is watched for EPOLLOUT */
	char line[160];
	size_t linelen;
	long long vmm_due, qemu_due;	/* restart time, 0: none */
	int vmm_backoff, qemu_backoff;
	long long vmm_started, qemu_started;
	unsigned boot_failures;		/* QEMU exits in a row before "ready" */
};

struct sup {
	struct config cfg;
	const struct run_opts *o;
	char dir[STATE_PATH_MAX];
	struct runas runas;
	bool kvm;
	char kernel[512], initrd[512];
	struct link_res link[CFG_MAX_LINKS];
	struct vmp vm[CFG_MAX_VMS];
	int ep, sig_fd, tty_fd, ready_fd, listen_fd;
	bool foreground, stdin_open, all_up;
	struct mux mux;
	int fg_viewer;			/* the terminal's viewer, or -1 */
	int stopping;			/* 0, 1: QEMUs, 2: VMMs */
	long long next_trim;		/* when logs are next checked */
	long long stop_deadline;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void path(char out[STATE_PATH_MAX], const struct sup *s, const char *vm, enum state_file f)
{
	state_file(out, s->dir, vm, f);	/* checked up front; cannot fail */
}

/* A line for the user: the terminal in the foreground, else the log. */
static void notice(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct sup *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	log_info("%s", buf);
	if (s->foreground && s->tty_fd >= 0 && n > 0) {
		if (n > (int)sizeof(buf) - 3)
			n = sizeof(buf) - 3;
		memcpy(buf + n, "\r\n", 2);
		if (write(s->tty_fd, buf, n + 2) < 0)
			return;
	}
}

static void write_status(struct sup *s)
{
	/* A line is at most ~250 bytes: two names, a state path, numbers. */
	char text[CFG_MAX_VMS * (2 * CFG_NAME_MAX + STATE_PATH_MAX + 128)] = "";
	size_t used = 0;
	unsigned i;

	for (i = 0; i < s->cfg.nvms; i++) {
		struct vmp *v = &s->vm[i];
		/* A VM whose VMM is not running has no network: say so. */
		bool degraded = v->vmm <= 0 && v->state != ST_STARTING && v->state != ST_STOPPED &&
				!s->stopping;
		char con[STATE_PATH_MAX] = "-";	/* an external guest's console is not ours */
		int n;

		if (!v->cfg->external)
			path(con, s, v->cfg->name, SF_CONSOLE_LOG);
		n = snprintf(text + used, sizeof(text) - used,
			     "%s state=%s vmm=%d qemu=%d engine=%s console=%s log_bytes_dropped=%llu%s%s\n",
			     v->cfg->name, degraded ? "degraded" : state_names[v->state], (int)v->vmm,
			     (int)v->qemu, s->kvm ? "kvm" : "tcg", con,
			     (unsigned long long)(v->con_log.dropped + v->logs_dropped),
			     v->cfg->external ? " guest=external" : "",
			     degraded ? " reason=vmm_not_running" : "");

		v->con_dropped_shown = v->con_log.dropped;
		if (n < 0 || (size_t)n >= sizeof(text) - used) {
			text[used] = 0;	/* cannot happen with the sizes above; never overrun */
			break;
		}
		used += n;
	}
	if (state_write_status(s->dir, text) < 0)
		log_warn("cannot write %s/status", s->dir);
}

static void set_state(struct sup *s, struct vmp *v, int st)
{
	if (v->state == st)
		return;
	v->state = st;
	log_info("%s: %s", v->cfg->name, state_names[st]);
	write_status(s);
}

static void report_ready(struct sup *s, const char *msg)
{
	if (s->ready_fd < 0)
		return;
	if (write(s->ready_fd, msg, strlen(msg)) < 0)
		log_warn("cannot tell the waiting parent: %s", strerror(errno));
	close(s->ready_fd);
	s->ready_fd = -1;
}

static void check_all_up(struct sup *s)
{
	unsigned i;

	for (i = 0; i < s->cfg.nvms; i++)
		if (s->vm[i].state != ST_UP)
			return;
	if (!s->all_up) {
		s->all_up = true;
		notice(s, "multivm: all %u VMs are up", s->cfg.nvms);
	}
	report_ready(s, "ok\n");
}

/* ---- starting things ---- */

/* A peer VMM can write the header page of a link it shares: write it
 * anew before VM i's VMM attaches, so what a peer scribbled there cannot
 * keep that link down across restarts. */
static void refresh_link_headers(struct sup *s, unsigned i)
{
	unsigned k;

	for (k = 0; k < s->cfg.nlinks; k++) {
		const struct cfg_link *l = &s->cfg.link[k];

		if ((l->a == i || l->b == i) &&
		    link_hdr_write(s->link[k].memfd, s->cfg.link_queue_size, s->cfg.vm[l->a].name,
				   s->cfg.vm[l->b].name) < 0)
			log_warn("link %s-%s: cannot rewrite its header", s->cfg.vm[l->a].name,
				 s->cfg.vm[l->b].name);
	}
}

static int start_vmm(struct sup *s, unsigned i)
{
	struct vmp *v = &s->vm[i];
	char log[STATE_PATH_MAX], sock[STATE_PATH_MAX];
	long long deadline = now_ms() + 10000;
	struct stat st;
	pid_t pid;

	path(log, s, v->cfg->name, SF_VMM_LOG);
	path(sock, s, v->cfg->name, SF_VHOST);
	unlink(sock);
	refresh_link_headers(s, i);
	{
	static struct vmm_args a;
	int rc = spawn_vmm_args(&a, &s->cfg, i, s->link, &s->runas, s->dir);

	if (rc < 0)
		return rc;
	a.stats_fd = v->stats_fd;
	a.capture_fd = v->capture_fd;
	pid = spawn_vmm(&a, log);
	if (pid < 0)
		return pid;
	}
	v->vmm = pid;
	v->vmm_started = now_ms();
	/* QEMU retries the connection by itself; we only wait for the socket. */
	while (stat(sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		bool died = waitpid(pid, NULL, WNOHANG) == pid;

		if (died || now_ms() > deadline) {
			log_err("%s: VMM did not come up; see %s", v->cfg->name, log);
			if (!died) {	/* never leave an untracked VMM on the links */
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
			v->vmm = 0;
			return -EIO;
		}
		poll(NULL, 0, 20);
	}
	log_info("%s: VMM running (pid %d)", v->cfg->name, (int)pid);
	return 0;
}

static int start_qemu(struct sup *s, unsigned i)
{
	static char buf[8192];
	char *argv[QEMU_MAX_ARGS], log[STATE_PATH_MAX];
	struct vmp *v = &s->vm[i];
	struct qemu_opts q = {
		.cfg = &s->cfg, .vm = v->cfg, .state_dir = s->dir, .kvm = s->kvm,
		.kernel = s->kernel, .initrd = s->initrd, .runas = s->runas.drop ? s->runas.name : NULL,
	};
	pid_t pid;

	if (qemu_argv(&q, buf, sizeof(buf), argv, QEMU_MAX_ARGS) < 0)
		return -E2BIG;
	path(log, s, v->cfg->name, SF_QEMU_LOG);
	pid = spawn_argv(argv, log);
	if (pid < 0)
		return pid;
	v->qemu = pid;
	v->qemu_started = now_ms();
	set_state(s, v, ST_BOOTING);
	log_info("%s: QEMU running (pid %d)", v->cfg->name, (int)pid);
	return 0;
}

/* ---- consoles ---- */

static void console_connect(struct sup *s, unsigned i)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
	struct vmp *v = &s->vm[i];
	int fd;

	path(sa.sun_path, s, v->cfg->name, SF_CONSOLE);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		close(fd);
		return;
	}
	v->con_fd = fd;
	v->linelen = 0;
}

static void console_close(struct sup *s, struct vmp *v)
{
	if (v->con_fd >= 0)
		close(v->con_fd);
	v->con_fd = -1;
	v->inq_len = 0;
	v->want_out = false;
}

/* Writes queued keys to QEMU. QEMU reads the socket only as fast as the
 * guest's UART takes bytes, so a paste may not fit at once: the rest
 * waits for EPOLLOUT rather than being lost. */
static void console_flush(struct sup *s, unsigned i)
{
	struct vmp *v = &s->vm[i];
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
	ssize_t w = v->inq_len ? write(v->con_fd, v->inq, v->inq_len) : 0;

	if (w > 0) {
		memmove(v->inq, v->inq + w, v->inq_len - w);
		v->inq_len -= w;
	} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
		log_warn("%s: console write failed: %s", v->cfg->name, strerror(errno));
		v->inq_len = 0;
	}
	if (v->want_out != (v->inq_len > 0)) {
		v->want_out = v->inq_len > 0;
		if (v->want_out)
			e.events |= EPOLLOUT;
		epoll_ctl(s->ep, EPOLL_CTL_MOD, v->con_fd, &e);
	}
}

/* Watches for the guest's "multivm: NAME ready" line. */
static void scan_ready(struct sup *s, struct vmp *v, const char *d, size_t n)
{
	char want[64];
	size_t i;

	snprintf(want, sizeof(want), "multivm: %s ready", v->cfg->name);
	for (i = 0; i < n; i++) {
		if (d[i] != '\n' && d[i] != '\r') {
			if (v->linelen < sizeof(v->line) - 1)
				v->line[v->linelen++] = d[i];
			continue;
		}
		v->line[v->linelen] = 0;
		if (strstr(v->line, want) && v->state == ST_BOOTING) {
			set_state(s, v, ST_UP);
			check_all_up(s);
		}
		v->linelen = 0;
	}
}

static void console_data(struct sup *s, unsigned i)
{
	struct vmp *v = &s->vm[i];
	char buf[4096];
	ssize_t n = read(v->con_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		console_close(s, v);
		return;
	}
	caplog_write(&v->con_log, buf, n);
	mux_output(&s->mux, i, buf, n);
	scan_ready(s, v, buf, n);
}

static void begin_stop(struct sup *s)
{
	unsigned i;

	if (s->stopping)
		return;
	notice(s, "multivm: stopping the system");
	s->stopping = 1;
	s->stop_deadline = now_ms() + STOP_GRACE_MS;
	for (i = 0; i < s->cfg.nvms; i++)
		if (s->vm[i].qemu > 0)
			kill(s->vm[i].qemu, SIGTERM);
}

static void to_vm(void *ctx, unsigned vm, const char *buf, size_t n)
{
	struct sup *s = ctx;
	struct vmp *v = &s->vm[vm];

	if (v->con_fd < 0)
		return;	/* QEMU is not running: nothing reads this console */
	if (n > sizeof(v->inq) - v->inq_len) {
		log_warn("%s: console input dropped: the guest has not read the last %zu bytes",
			 v->cfg->name, v->inq_len);
		n = sizeof(v->inq) - v->inq_len;
	}
	memcpy(v->inq + v->inq_len, buf, n);
	v->inq_len += n;
	console_flush(s, vm);
}

static const char *vm_state(void *ctx, unsigned vm)
{
	struct sup *s = ctx;

	return state_names[s->vm[vm].state];
}

static void stdin_data(struct sup *s)
{
	char in[1024];
	ssize_t n = read(0, in, sizeof(in));

	if (n <= 0) {
		/* No terminal any more: keep running until told to stop. */
		epoll_ctl(s->ep, EPOLL_CTL_DEL, 0, NULL);
		s->stdin_open = false;
		return;
	}
	if (!mux_input(&s->mux, s->fg_viewer, in, n))
		begin_stop(s);
}

/* `multivm console` clients: each is a viewer of its own. */
static void client_accept(struct sup *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;
	struct epoll_event e = { .events = EPOLLIN };

	if (fd < 0)
		return;
	i = mux_add_viewer(&s->mux, fd, fd, -1, false);
	e.data.u32 = TAG_VIEWER + i;
	if (i < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		if (i >= 0)
			mux_remove_viewer(&s->mux, i);
		close(fd);
	}
}

static void client_data(struct sup *s, int i)
{
	int fd = s->mux.v[i].in_fd;
	char in[1024];
	ssize_t n = read(fd, in, sizeof(in));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && mux_input(&s->mux, i, in, n))
		return;
	mux_remove_viewer(&s->mux, i);
	close(fd);
}

static int listen_clients(struct sup *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = TAG_LISTEN };

	path(sa.sun_path, s, NULL, SF_CONSOLE_SOCK);
	unlink(sa.sun_path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(s->listen_fd, 4) < 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->listen_fd, &e) < 0)
		return -errno;
	return 0;
}

/* ---- children ---- */

static int backoff(int *b, long long started)
{
	/* A process that ran a while gets a fresh, short back-off. */
	if (now_ms() - started > 10000 || *b == 0)
		*b = BACKOFF_MIN_MS;
	else if (*b < BACKOFF_MAX_MS)
		*b *= 2;
	return *b;
}

static void reaped(struct sup *s, pid_t pid, int status)
{
	unsigned i;
	char how[48];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	for (i = 0; i < s->cfg.nvms; i++) {
		struct vmp *v = &s->vm[i];

		if (pid == v->vmm) {
			v->vmm = 0;
			if (s->stopping)
				continue;
			v->vmm_due = now_ms() + backoff(&v->vmm_backoff, v->vmm_started);
			log_warn("%s: VMM %s; restarting in %d ms", v->cfg->name, how, v->vmm_backoff);
			write_status(s);
		} else if (pid == v->qemu) {
			v->qemu = 0;
			console_close(s, v);
			if (s->stopping)
				continue;
			v->boot_failures = v->state == ST_UP ? 0 : v->boot_failures + 1;
			if (v->cfg->restart == RESTART_NEVER) {
				char msg[200];

				log_warn("%s: QEMU %s; restart = never", v->cfg->name, how);
				set_state(s, v, ST_STOPPED);
				/* --detach waits for every VM: this one will not come. */
				snprintf(msg, sizeof(msg), "fail: %s: QEMU %s before all VMs were up "
					 "(restart = never)\n", v->cfg->name, how);
				if (!s->all_up)
					report_ready(s, msg);
				continue;
			}
			v->qemu_due = now_ms() + backoff(&v->qemu_backoff, v->qemu_started);
			log_warn("%s: QEMU %s; restarting in %d ms", v->cfg->name, how, v->qemu_backoff);
			set_state(s, v, ST_RESTARTING);
			/* A QEMU that cannot boot will not come up by waiting longer:
			 * tell --detach now (the restarts go on meanwhile). */
			if (!s->all_up && v->boot_failures >= BOOT_FAILURES_MAX) {
				char msg[400];

				snprintf(msg, sizeof(msg), "fail: %s: QEMU %s, %u times in a row before the guest "
					 "was up; see %s/%s.qemu.log\n", v->cfg->name, how, v->boot_failures,
					 s->dir, v->cfg->name);
				report_ready(s, msg);
			}
		}
	}
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD)
			begin_stop(s);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		reaped(s, pid, status);
}

/* Keeps the logs other processes write under log_max, once a second. */
static void trim_logs(struct sup *s)
{
	static const enum state_file logs[] = { SF_VMM_LOG, SF_QEMU_LOG };
	char p[STATE_PATH_MAX];
	bool changed = false;
	unsigned i, k;

	if (now_ms() < s->next_trim)
		return;
	s->next_trim = now_ms() + LOG_TRIM_MS;
	for (i = 0; i < s->cfg.nvms; i++)
		for (k = 0; k < sizeof(logs) / sizeof(logs[0]); k++) {
			uint64_t d;

			path(p, s, s->vm[i].cfg->name, logs[k]);
			d = caplog_trim(p, s->cfg.log_max);
			s->vm[i].logs_dropped += d;
			changed |= d > 0;
		}
	for (i = 0; i < s->cfg.nvms; i++)	/* console rotations since the last look */
		changed |= s->vm[i].con_log.dropped != s->vm[i].con_dropped_shown;
	path(p, s, NULL, SF_SUPERVISOR_LOG);
	caplog_trim(p, s->cfg.log_max);
	if (changed)
		write_status(s);
}

/* Restarts that are due, consoles to (re)connect. Returns whether anything
 * still waits on time (then the loop wakes up again soon). */
static bool tick(struct sup *s)
{
	long long t = now_ms();
	bool pending = false;
	unsigned i;

	trim_logs(s);
	for (i = 0; i < s->cfg.nvms && !s->stopping; i++) {
		struct vmp *v = &s->vm[i];

		if (v->vmm_due && t >= v->vmm_due) {
			v->vmm_due = 0;
			if (start_vmm(s, i) < 0)
				v->vmm_due = t + backoff(&v->vmm_backoff, v->vmm_started);
			write_status(s);
		}
		if (v->qemu_due && t >= v->qemu_due) {
			v->qemu_due = 0;
			if (start_qemu(s, i) < 0)
				v->qemu_due = t + backoff(&v->qemu_backoff, v->qemu_started);
		}
		if (v->qemu > 0 && v->con_fd < 0)
			console_connect(s, i);
		pending |= v->vmm_due || v->qemu_due || (v->qemu > 0 && v->con_fd < 0);
	}
	return pending;
}

/* Drives the stop: QEMUs first (grace, then SIGKILL), then the VMMs.
 * Returns true when everything is gone. */
static bool stop_step(struct sup *s)
{
	bool alive = false, late = now_ms() > s->stop_deadline;
	unsigned i;

	for (i = 0; i < s->cfg.nvms; i++) {
		pid_t *p = s->stopping == 1 ? &s->vm[i].qemu : &s->vm[i].vmm;

		if (*p > 0 && late) {
			kill(*p, SIGKILL);
			waitpid(*p, NULL, 0);
			*p = 0;
		}
		alive |= *p > 0;
	}
	if (alive)
		return false;
	if (s->stopping == 2)
		return true;
	s->stopping = 2;
	s->stop_deadline = now_ms() + STOP_GRACE_MS;
	for (i = 0; i < s->cfg.nvms; i++)
		if (s->vm[i].vmm > 0)
			kill(s->vm[i].vmm, SIGTERM);
	return false;
}

static void loop(struct sup *s)
{
	for (;;) {
		struct epoll_event ev[16];
		bool pending = tick(s);
		int i, n;

		if (s->stopping && stop_step(s))
			return;
		n = epoll_wait(s->ep, ev, 16, (pending || s->stopping) ? 100 : LOG_TRIM_MS);
		for (i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;

			if (tag == TAG_SIGNAL)
				on_signal(s);
			else if (tag == TAG_STDIN)
				stdin_data(s);
			else if (tag == TAG_LISTEN)
				client_accept(s);
			else if (tag >= TAG_VIEWER && tag < TAG_VIEWER + MUX_MAX_VIEWERS)
				client_data(s, tag - TAG_VIEWER);
			else if (tag < s->cfg.nvms && s->vm[tag].con_fd >= 0) {
				if (ev[i].events & EPOLLOUT)
					console_flush(s, tag);
				if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					console_data(s, tag);
			}
		}
	}
}

/* ---- set-up and tear-down ---- */

/* Every path the system uses must fit (sockets need sun_path): checked
 * here once, so that path() cannot fail later. */
static int check_paths(struct sup *s, char *err, size_t errlen)
{
	char p[STATE_PATH_MAX];
	unsigned i, k;
	bool ok = true;

	for (i = 0; i < s->cfg.nvms; i++)
		for (k = 0; k < SF_COUNT; k++)
			ok &= state_file(p, s->dir, s->cfg.vm[i].name, k) == 0;
	if (!ok) {
		snprintf(err, errlen, "state directory %s is too long for the paths it must hold "
			 "(at most %d bytes each; use -S with a shorter one)", s->dir, STATE_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static bool in_path(const char *prog)
{
	char buf[4096], *dir, *save = NULL;
	const char *p = getenv("PATH");

	snprintf(buf, sizeof(buf), "%s", p ? p : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char full[4200];

		snprintf(full, sizeof(full), "%s/%s", dir, prog);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* Whether this run starts any QEMU: not with --no-guests, nor when every
 * VM's frontend is external. */
static bool needs_qemu(const struct sup *s)
{
	unsigned i;

	for (i = 0; i < s->cfg.nvms && !s->o->no_guests; i++)
		if (!s->cfg.vm[i].external)
			return true;
	return false;
}

/* Everything that can be refused before anything starts. */

/* KVM when asked or available and it really boots a guest here; else TCG.
 * A stated engine = kvm, or PCI passthrough, without a working KVM is an
 * error before anything starts. */
static int choose_engine(struct sup *s, char *err, size_t errlen)
{
	unsigned i;

	s->kvm = s->cfg.engine != ENGINE_TCG && kvm_boots(s->kernel, 3000);
	if (s->cfg.engine == ENGINE_AUTO && !s->kvm && kvm_usable())
		log_warn("/dev/kvm opens but a KVM guest does not boot here; using tcg");
	if (s->cfg.engine == ENGINE_KVM && !s->kvm) {
		snprintf(err, errlen, "%s: engine = kvm but %s", s->cfg.path,
			 kvm_usable() ? "a guest does not boot under KVM here (nested virtualisation?); "
					"use engine = auto or tcg"
				      : "/dev/kvm cannot be opened read-write");
		return 1;
	}
	for (i = 0; i < s->cfg.nvms; i++) {
		const struct cfg_vm *v = &s->cfg.vm[i];

		if (strncmp(v->passthrough, "pci:", 4) != 0)
			continue;
		if (!s->kvm) {
			snprintf(err, errlen, "%s:%d: [vm %s] passthrough: PCI passthrough needs KVM, and "
				 "KVM is not usable here (load kvm_intel or kvm_amd, or use user or tap)",
				 s->cfg.path, v->passthrough_line, v->name);
			return 1;
		}
		if (pci_check_vm(pci_sysfs(), &s->cfg, v, err, errlen) < 0)
			return 1;
	}
	return 0;
}

static int prepare(struct sup *s, char *err, size_t errlen)
{
	char cerr[CFG_ERR_MAX];
	pid_t other;
	int rc = s->o->config ? config_load_file(&s->cfg, s->o->config, cerr, sizeof(cerr))
			      : config_load_default(&s->cfg, cerr, sizeof(cerr));

	if (rc < 0) {
		snprintf(err, errlen, "%s", cerr);
		return 2;
	}
	if (runas_resolve(&s->cfg, &s->runas, err, errlen) < 0)
		return 2;
	/* QEMU, once it runs as that user, reconnects through every directory
	 * above the state directory after a VMM restart. */
	if ((s->runas.drop && needs_qemu(s) &&
	     state_reachable(s->dir, s->runas.uid, s->runas.gid, err, errlen) < 0) ||
	    state_prepare_dir(s->dir, s->runas.drop ? s->runas.gid : (gid_t)-1, err, errlen) < 0)
		return 1;
	other = state_supervisor(s->dir);
	if (other) {
		snprintf(err, errlen, "a system is already running in %s (supervisor pid %d); "
			 "`multivm stop` first, or use -S DIR", s->dir, (int)other);
		return 1;
	}
	if (check_paths(s, err, errlen) < 0)
		return 1;
	if (!needs_qemu(s))
		return 0;
	if (!in_path("qemu-system-x86_64")) {
		snprintf(err, errlen, "qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
		return 1;
	}
	if (guest_files(&s->cfg, s->kernel, s->initrd, sizeof(s->kernel), err, errlen) < 0)
		return 1;
	return choose_engine(s, err, errlen);
}

/* A new capture ring file (never the old one truncated: a `multivm
 * capture` still mapping it would fault). Sparse: pages are allocated only
 * as frames are recorded. Without it the VM runs, without capture. */
static int open_capture(struct sup *s, const char *name)
{
	char p[STATE_PATH_MAX];
	int fd;

	path(p, s, name, SF_CAPTURE);
	unlink(p);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || ftruncate(fd, CAP_FILE_SIZE) < 0) {
		log_warn("cannot create %s: %s; no capture on %s", p, strerror(errno), name);
		if (fd >= 0) {
			close(fd);
			unlink(p);
		}
		return -1;
	}
	return fd;
}

static int open_files(struct sup *s)
{
	char p[STATE_PATH_MAX];
	unsigned i;
	int rc;

	for (i = 0; i < s->cfg.nlinks; i++) {
		const struct cfg_link *l = &s->cfg.link[i];

		rc = link_create(&s->link[i], s->cfg.link_queue_size, s->cfg.vm[l->a].name, s->cfg.vm[l->b].name);
		if (rc < 0) {
			log_err("cannot create link %s-%s: %s", s->cfg.vm[l->a].name, s->cfg.vm[l->b].name,
				strerror(-rc));
			return rc;
		}
	}
	for (i = 0; i < s->cfg.nvms; i++) {
		struct vmp *v = &s->vm[i];

		v->cfg = &s->cfg.vm[i];
		v->con_fd = -1;
		path(p, s, v->cfg->name, SF_STATS);
		/* Fresh counters for each run; they survive VMM restarts. */
		v->stats_fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (v->stats_fd < 0 || ftruncate(v->stats_fd, sizeof(struct vm_stats)) < 0) {
			log_err("cannot create %s: %s", p, strerror(errno));
			return -errno;
		}
		v->capture_fd = open_capture(s, v->cfg->name);
		if (v->cfg->external)
			continue;	/* no console of ours to log */
		path(v->con_log_path, s, v->cfg->name, SF_CONSOLE_LOG);
		if (caplog_open(&v->con_log, v->con_log_path, s->cfg.log_max) < 0)
			log_warn("cannot open %s: %s", v->con_log_path, strerror(errno));
	}
	return 0;
}

static int setup_loop(struct sup *s)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = TAG_SIGNAL };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->sig_fd < 0 || s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sig_fd, &e) < 0)
		return -errno;
	return 0;
}

static void write_pid(struct sup *s)
{
	char p[STATE_PATH_MAX];
	FILE *f;

	path(p, s, NULL, SF_SUPERVISOR_PID);
	f = fopen(p, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

static void remove_files(struct sup *s)
{
	/* Capture rings hold guest traffic: not left behind. */
	static const enum state_file socks[] = { SF_VHOST, SF_CONSOLE, SF_AGENT, SF_CAPTURE };
	static const enum state_file sys[] = { SF_STATUS, SF_CONSOLE_SOCK, SF_SUPERVISOR_PID };
	char p[STATE_PATH_MAX];
	unsigned i, k;

	for (i = 0; i < s->cfg.nvms; i++)
		for (k = 0; k < sizeof(socks) / sizeof(socks[0]); k++) {
			path(p, s, s->cfg.vm[i].name, socks[k]);
			unlink(p);
		}
	for (k = 0; k < sizeof(sys) / sizeof(sys[0]); k++) {
		path(p, s, NULL, sys[k]);
		unlink(p);
	}
}

static int start_all(struct sup *s)
{
	unsigned i;
	int rc;

	for (i = 0; i < s->cfg.nvms; i++) {
		rc = start_vmm(s, i);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < s->cfg.nvms; i++) {
		/* No QEMU of ours: up once its VMM serves the socket. */
		if (s->o->no_guests || s->vm[i].cfg->external) {
			set_state(s, &s->vm[i], ST_UP);
			continue;
		}
		rc = start_qemu(s, i);
		if (rc < 0) {
			log_err("%s: cannot start QEMU: %s", s->vm[i].cfg->name, strerror(-rc));
			return rc;
		}
	}
	write_status(s);
	check_all_up(s);
	return 0;
}

/* The supervisor proper, in the foreground or as the detached child. */
static int supervise(struct sup *s)
{
	char p[STATE_PATH_MAX];
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = TAG_STDIN };
	struct mux_ops ops = { .ctx = s, .to_vm = to_vm, .state = vm_state };
	int fd, rc;

	path(p, s, NULL, SF_SUPERVISOR_LOG);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	log_set_tag("supervisor");
	write_pid(s);
	mux_init(&s->mux, &s->cfg, &ops);
	rc = setup_loop(s);
	if (!rc)
		rc = listen_clients(s);
	if (!rc)
		rc = open_files(s);
	if (!rc) {
		write_status(s);
		rc = start_all(s);
	}
	if (rc < 0) {
		report_ready(s, "fail: could not start the system\n");
		notice(s, "multivm: could not start the system; see %s/*.log", s->dir);
		begin_stop(s);
	} else if (s->foreground) {
		relay_raw(0);
		s->fg_viewer = mux_add_viewer(&s->mux, 0, s->tty_fd, 0, true);
		s->stdin_open = epoll_ctl(s->ep, EPOLL_CTL_ADD, 0, &e) == 0;
		log_info("showing %s's console", s->cfg.vm[0].name);
	}
	loop(s);
	relay_restore();
	remove_files(s);
	log_info("stopped");
	return rc < 0 ? 1 : 0;
}

/* --detach: the parent waits until every VM is up (or failure). */
static int wait_detached(struct sup *s, pid_t child, int rfd)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	char buf[512] = "", p[STATE_PATH_MAX];
	ssize_t n = 0;
	int r;
	FILE *f;

	r = poll(&pfd, 1, s->o->timeout_s * 1000);
	if (r > 0)
		n = read(rfd, buf, sizeof(buf) - 1);
	if (n > 0 && strncmp(buf, "ok", 2) == 0) {
		path(p, s, NULL, SF_STATUS);
		f = fopen(p, "r");
		while (f && fgets(buf, sizeof(buf), f))
			fputs(buf, stdout);
		if (f)
			fclose(f);
		return 0;
	}
	buf[n > 0 ? n : 0] = 0;
	if (n > 0)
		fprintf(stderr, "multivm: %s", buf + (strncmp(buf, "fail: ", 6) ? 0 : 6));
	else if (r > 0)
		fprintf(stderr, "multivm: the supervisor exited before every VM was up\n");
	else
		fprintf(stderr, "multivm: the system did not come up in %d s\n", s->o->timeout_s);
	fprintf(stderr, "multivm: see the logs in %s; stopping what was started\n", s->dir);
	/* Wait for the stop, so that an immediate `run` does not find it. */
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	return 1;
}

int supervisor_run(const struct run_opts *o)
{
	static struct sup s;
	char err[600];
	int rc, pfd[2];
	pid_t pid;

	/* Everything we and our children create is ours alone; fds we were
	 * given (a pipe to our caller, say) are not passed on. */
	umask(077);
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	memset(&s, 0, sizeof(s));
	for (rc = 0; rc < CFG_MAX_VMS; rc++)
		s.vm[rc].con_fd = s.vm[rc].con_log.fd = s.vm[rc].capture_fd = -1;
	s.o = o;
	s.ready_fd = -1;
	s.tty_fd = -1;
	s.listen_fd = -1;
	s.fg_viewer = -1;
	snprintf(s.dir, sizeof(s.dir), "%s", o->state_dir);
	rc = prepare(&s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "multivm: %s\n", err);
		return rc;
	}
	if (!o->detach) {
		s.foreground = true;
		s.tty_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);	/* not for the children */
		return supervise(&s);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		close(pfd[1]);
		return wait_detached(&s, pid, pfd[0]);
	}
	close(pfd[0]);
	setsid();
	s.ready_fd = pfd[1];

	{
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
	}
	exit(supervise(&s));
}
