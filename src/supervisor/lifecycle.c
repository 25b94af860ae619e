/* The supervisor proper: the lifecycle of a system's processes (see
 * lifecycle.h). The event loop that drives it is run.c; each VM's
 * processes are vmproc.c; what it keeps in STATE/ is statefiles.c. */
#include "supervisor/lifecycle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/handoff.h"
#include "common/vusock.h"
#include "common/log.h"
#include "common/qmp.h"
#include "link/link.h"
#include "link/room.h"
#include "supervisor/cgroup.h"
#include "supervisor/grow.h"
#include "supervisor/spawn.h"
#include "supervisor/statefiles.h"
#include "supervisor/vmproc.h"
#include "tunnel/udpsock.h"

enum vm_state { ST_STARTING, ST_BOOTING, ST_UP, ST_RESTARTING, ST_STOPPED };
static const char *const state_names[] = {
	[ST_STARTING] = "starting", [ST_BOOTING] = "booting", [ST_UP] = "up",
	[ST_RESTARTING] = "restarting", [ST_STOPPED] = "stopped",
};

/* QEMUs go first (they use the VMMs' sockets), then the VMMs. */
enum stop_phase { STOP_NONE, STOP_QEMUS, STOP_VMMS };

#define LOG_TRIM_MS		1000	/* how often our own log is checked against log_max */
#define RETRY_MS		100	/* between attempts to reach a console, or QEMU's monitor */
#define QMP_TRIES		100	/* QEMU's monitor is there within this many RETRY_MS, or given up */

struct vmp {
	struct vm_proc p;		/* its VMM and QEMU */
	const struct cfg_vm *cfg;	/* p.cfg */
	enum vm_state state;
	uint64_t dropped_shown;		/* log bytes thrown away, as status says */
	unsigned boot_failures;		/* QEMU exits in a row before "ready" */
	long long carrier_due;		/* a new QEMU is told its wire NICs' carrier then; 0: done */
	unsigned carrier_tries;
	bool unresponsive;		/* its VMM runs but its heartbeat stopped (status says so) */
	bool gone;			/* its VMM (or tunnel) does not serve ... */
	long long gone_since;		/* ... since then */
	/* Its wire NICs' carrier as we last set it in its QEMU (known once
	 * the new QEMU was told), and the control files' generations it was
	 * decided on: a `multivm link` since may have set QEMU itself. */
	bool carrier_known, carrier_warned;
	bool carrier[MV_NICS_MAX];
	uint32_t carrier_gen[MV_NICS_MAX];
	/* Its guest agent: answered since QEMU last started (the built-in
	 * guest's "ready" line, an image guest's guest-ping, asked by a
	 * `multivm agent-ping` child, agent_pid, due then). */
	bool agent_up;
	pid_t agent_pid;
	long long agent_due, up_due;	/* 0: not due */
};

struct sup {
	const struct run_plan *plan;
	const struct config *cfg;	/* &plan->cfg */
	struct config *cfg_rw;		/* the same, for apply */
	struct runas *runas_rw;		/* &plan->runas, for apply: the new nodes' ids */
	const char *dir;		/* plan->dir */
	int ep;
	struct consoles *cons;
	struct detach *detach;
	struct link_res link[MV_LINKS_MAX];
	struct vm_env env;		/* for vmproc: plan, links, readiness pipes */
	struct vmp vm[MV_NODES_MAX];
	struct cgroups cg;		/* the VMs' cgroups, where the host offers them */
	bool all_up, start_failed;
	enum stop_phase stopping;
	long long next_trim;		/* when logs are next checked */
	long long next_live;		/* when heartbeats are next read */
	long long stop_deadline;
	uint64_t apply_failed;		/* the last apply: nodes whose running VMM failed a handoff */
};

static long long now_ms(const struct sup *s)
{
	return s->env.ops->now_ms();
}

static void path(char out[STATE_PATH_MAX], const struct sup *s, const char *vm, enum state_file f)
{
	state_file(out, s->dir, vm, f);	/* preflight checked them all: cannot fail */
}

/* A line for the user: the log, and the terminal in the foreground. */
static void notice(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct sup *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("%s", buf);
	consoles_say(s->cons, buf);
}

static void write_status(struct sup *s)
{
	struct vm_status st[MV_NODES_MAX];
	char con[MV_NODES_MAX][STATE_PATH_MAX];
	unsigned i;

	for (i = 0; i < s->cfg->nvms; i++) {
		struct vmp *v = &s->vm[i];

		strcpy(con[i], "-");	/* an external guest's console is not ours */
		if (!v->cfg->external)
			path(con[i], s, v->cfg->name, SF_CONSOLE_LOG);
		st[i] = (struct vm_status){
			.name = v->cfg->name, .state = state_names[v->state], .qemu = v->p.pid[CHILD_QEMU],
			.vmm = v->p.vmm_serving ? v->p.pid[CHILD_VMM] : 0, .kvm = s->plan->kvm,
			.external = v->cfg->external, .tunnel = v->cfg->tunnel,
			.console_log = con[i], .log_bytes_dropped = s->cons->log[i].dropped + vmproc_logs_dropped(&v->p),
			/* A VM whose VMM is not serving, or not passing its loop,
			 * has no network: say so. */
			.degraded = (!v->p.vmm_serving || v->unresponsive) && v->state != ST_STARTING &&
				    v->state != ST_STOPPED && !s->stopping,
			.reason = v->p.vmm_serving && v->unresponsive ? "vmm_unresponsive" : NULL,
			.agent = v->cfg->external ? NULL : v->agent_up ? "up" : "none",
		};
		v->dropped_shown = st[i].log_bytes_dropped;
	}
	if (statefiles_status(s->dir, st, s->cfg->nvms) < 0)
		log_warn("cannot write %s/status", s->dir);
}

static void set_state(struct sup *s, struct vmp *v, enum vm_state st)
{
	if (v->state == st)
		return;
	v->state = st;
	consoles_set_state(s->cons, v->p.index, state_names[st]);
	log_info("%s: %s", v->cfg->name, state_names[st]);
	write_status(s);
}

static void check_all_up(struct sup *s)
{
	unsigned i;

	for (i = 0; i < s->cfg->nvms; i++)
		if (s->vm[i].state != ST_UP)
			return;
	if (!s->all_up) {
		s->all_up = true;
		notice(s, "multivm: all %u VMs are up", s->cfg->nvms);
	}
	detach_report(s->detach, DETACH_OK);
}

void sup_stop(struct sup *s)
{
	unsigned i;

	if (s->stopping)
		return;
	notice(s, "multivm: stopping the system");
	s->stopping = STOP_QEMUS;
	s->stop_deadline = now_ms(s) + STOP_GRACE_MS;
	for (i = 0; i < s->cfg->nvms; i++) {
		if (s->vm[i].p.pid[CHILD_QEMU] > 0)
			s->env.ops->kill(s->vm[i].p.pid[CHILD_QEMU], SIGTERM);
		if (s->vm[i].agent_pid > 0)
			s->env.ops->kill(s->vm[i].agent_pid, SIGTERM);
	}
}

void sup_start_failed(struct sup *s)
{
	if (s->start_failed)
		return;
	s->start_failed = true;
	detach_report(s->detach, DETACH_FAIL "could not start the system\n");
	notice(s, "multivm: could not start the system; see %s/*.log", s->dir);
	sup_stop(s);
}

/* ---- starting things ---- */

static int start_qemu(struct sup *s, struct vmp *v)
{
	int rc = vmproc_start_qemu(&v->p, &s->env, now_ms(s));

	if (rc < 0)
		return rc;
	v->agent_up = false;
	if (v->cfg->image[0]) {
		v->up_due = now_ms(s) + IMAGE_SETTLE_MS;
		v->agent_due = now_ms(s) + AGENT_RETRY_MS;
	}
	set_state(s, v, ST_BOOTING);
	log_info("%s: QEMU running (pid %d)", v->cfg->name, (int)v->p.pid[CHILD_QEMU]);
	v->carrier_due = v->cfg->nnics ? now_ms(s) : 0;	/* its wire NICs' carrier, once its monitor is there */
	v->carrier_tries = 0;
	v->carrier_known = false;
	return 0;
}

/* VM i's VMM serves its socket. On the system's first start its frontend
 * comes next; after a restart QEMU reconnects by itself. */
static void vmm_serving(struct sup *s, struct vmp *v)
{
	int rc;

	log_info("%s: VMM running (pid %d)", v->cfg->name, (int)v->p.pid[CHILD_VMM]);
	write_status(s);
	if (v->state != ST_STARTING || s->stopping)
		return;
	if (s->plan->no_guests || v->cfg->external) {
		set_state(s, v, ST_UP);	/* no QEMU of ours: up once its VMM serves */
		check_all_up(s);
		return;
	}
	rc = start_qemu(s, v);
	if (rc < 0) {
		log_err("%s: cannot start QEMU: %s", v->cfg->name, strerror(-rc));
		sup_start_failed(s);
	}
}

/* VM i's VMM exited, closed its pipe or stayed silent before serving.
 * Once reaped, it is restarted like any VMM that died; on the first
 * start, the system does not come up. */
static void vmm_failed(struct sup *s, struct vmp *v, const char *why)
{
	char log[STATE_PATH_MAX];

	vmproc_forget_ready(&v->p, s->ep);
	path(log, s, v->cfg->name, SF_VMM_LOG);
	log_err("%s: VMM did not come up (%s); see %s", v->cfg->name, why, log);
	if (v->p.pid[CHILD_VMM] > 0)
		s->env.ops->kill(v->p.pid[CHILD_VMM], SIGKILL);
	if (v->state == ST_STARTING)
		sup_start_failed(s);
}

void sup_vmm_word(struct sup *s, unsigned vm)
{
	struct vmp *v = &s->vm[vm];
	enum vmm_word w;

	if (v->p.ready_fd < 0)
		return;	/* given up earlier in this batch of events */
	w = vmproc_ready_event(&v->p, s->ep, now_ms(s));
	if (w == VMM_SERVES)
		vmm_serving(s, v);
	else if (w == VMM_GAVE_UP)
		vmm_failed(s, v, "it closed its readiness pipe");
}

/* ---- children ---- */

static void qemu_exited(struct sup *s, struct vmp *v, const char *how)
{
	char msg[400];

	consoles_close(s->cons, v->p.index);
	if (s->stopping)
		return;
	v->boot_failures = v->state == ST_UP ? 0 : v->boot_failures + 1;
	if (v->cfg->restart == RESTART_NEVER) {
		log_warn("%s: QEMU %s; restart = never", v->cfg->name, how);
		set_state(s, v, ST_STOPPED);
		/* --detach waits for every VM: this one will not come. */
		snprintf(msg, sizeof(msg), DETACH_FAIL "%s: QEMU %s before all VMs were up (restart = never)\n",
			 v->cfg->name, how);
		if (!s->all_up)
			detach_report(s->detach, msg);
		return;
	}
	log_warn("%s: QEMU %s; restarting in %d ms", v->cfg->name, how,
		 vmproc_restart_later(&v->p, CHILD_QEMU, now_ms(s)));
	set_state(s, v, ST_RESTARTING);
	/* A QEMU that cannot boot will not come up by waiting longer: tell
	 * --detach now (the restarts go on meanwhile). */
	if (!s->all_up && v->boot_failures >= BOOT_FAILURES_MAX) {
		snprintf(msg, sizeof(msg), DETACH_FAIL "%s: QEMU %s, %u times in a row before the guest was up; "
			 "see %s/%s.qemu.log\n", v->cfg->name, how, v->boot_failures, s->dir, v->cfg->name);
		detach_report(s->detach, msg);
	}
}

/* An image guest's agent: `multivm agent-ping` asks it (src/cli/agent.c),
 * in a child, so that the loop never waits on a guest. */
static void probe_agent(struct sup *s, struct vmp *v, long long t)
{
	char sock[STATE_PATH_MAX], secs[8];
	char *argv[] = { "/proc/self/exe", "agent-ping", "--timeout", secs, sock, NULL };
	pid_t pid;

	v->agent_due = 0;
	path(sock, s, v->cfg->name, SF_AGENT);
	snprintf(secs, sizeof(secs), "%d", AGENT_PROBE_S);
	pid = s->env.ops->spawn_argv(argv, 2, NULL);	/* it says nothing; else into our log */
	if (pid < 0) {
		v->agent_due = t + AGENT_RETRY_MS;
		return;
	}
	v->agent_pid = pid;
}

static void agent_probed(struct sup *s, struct vmp *v, bool answered)
{
	v->agent_pid = 0;
	if (s->stopping)
		return;
	if (!answered || v->p.pid[CHILD_QEMU] <= 0) {
		v->agent_due = now_ms(s) + AGENT_RETRY_MS;
		return;
	}
	v->agent_up = true;
	log_info("%s: its guest agent answers", v->cfg->name);
	write_status(s);
}

void sup_reaped(struct sup *s, pid_t pid, int status)
{
	unsigned i;
	char how[48];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	for (i = 0; i < s->cfg->nvms; i++) {
		struct vmp *v = &s->vm[i];
		bool waited = v->p.ready_fd >= 0;

		if (v->agent_pid > 0 && pid == v->agent_pid) {
			agent_probed(s, v, WIFEXITED(status) && WEXITSTATUS(status) == 0);
			return;
		}

		switch (vmproc_reaped(&v->p, pid, s->ep)) {
		case CHILD_QEMU:
			qemu_exited(s, v, how);
			break;
		case CHILD_VMM:
			v->unresponsive = false;	/* not running says it now */
			if (waited && !s->stopping)
				vmm_failed(s, v, how);	/* before it served */
			vmproc_forget_ready(&v->p, s->ep);
			if (s->stopping)
				break;
			log_warn("%s: VMM %s; restarting in %d ms", v->cfg->name, how,
				 vmproc_restart_later(&v->p, CHILD_VMM, now_ms(s)));
			write_status(s);
			break;
		}
	}
}

/* Once a second: our own log under log_max, and the status told of what
 * the capped logs (transcripts, children's logs) threw away meanwhile. */
static void trim_logs(struct sup *s)
{
	bool changed = false;
	unsigned i;

	if (now_ms(s) < s->next_trim)
		return;
	s->next_trim = now_ms(s) + LOG_TRIM_MS;
	for (i = 0; i < s->cfg->nvms; i++)
		changed |= s->cons->log[i].dropped + vmproc_logs_dropped(&s->vm[i].p) != s->vm[i].dropped_shown;
	statefiles_trim_own_log(s->dir, s->cfg->log_max);
	if (changed)
		write_status(s);
}

void sup_child_log(struct sup *s, unsigned vm, unsigned child)
{
	vmproc_log_event(&s->vm[vm].p, child ? CHILD_QEMU : CHILD_VMM, s->ep);
}

/* ---- liveness ---- */

static void watch_carrier(struct sup *s, long long t);

/* Every LIVENESS_CHECK_MS: a serving VMM (or tunnel) whose loop stopped
 * passing (SIGSTOP, a wedge) degrades its VM, and is killed once it has
 * been so for VMM_HUNG_MS; its reaping restarts it as any VMM that dies. */
static void check_liveness(struct sup *s)
{
	long long t = now_ms(s);
	unsigned i;

	if (t < s->next_live)
		return;
	s->next_live = t + LIVENESS_CHECK_MS;
	for (i = 0; i < s->cfg->nvms && !s->stopping; i++) {
		struct vmp *v = &s->vm[i];
		enum vmm_liveness l = vmproc_liveness(&v->p, t);
		bool serving = v->p.vmm_serving && v->p.pid[CHILD_VMM] > 0;

		/* Gone from now, or from when it stopped passing its loop
		 * (one killed as hung has been gone for a while). */
		if (!serving && !v->gone)
			v->gone_since = v->unresponsive ? t - WIRE_PEER_GONE_MS : t;
		v->gone = !serving;
		if ((l != VMM_ALIVE) != v->unresponsive) {
			v->unresponsive = l != VMM_ALIVE;
			if (v->unresponsive)
				log_warn("%s: VMM (pid %d) unresponsive: its loop has not run for %d s; "
					 "killed if still so after %d s", v->cfg->name, (int)v->p.pid[CHILD_VMM],
					 VMM_UNRESPONSIVE_MS / 1000, VMM_HUNG_MS / 1000);
			else
				log_info("%s: VMM (pid %d) responsive again", v->cfg->name, (int)v->p.pid[CHILD_VMM]);
			write_status(s);
		}
		if (l == VMM_HUNG && !v->p.hung_killed) {
			v->p.hung_killed = true;
			log_warn("%s: VMM (pid %d) unresponsive for %d s; killing it to restart it", v->cfg->name,
				 (int)v->p.pid[CHILD_VMM], VMM_HUNG_MS / 1000);
			s->env.ops->kill(v->p.pid[CHILD_VMM], SIGKILL);
		}
	}
	watch_carrier(s, t);
}

/* ---- carrier ---- */

/* The generation of node i's control file, or 0 if unreadable. */
static uint32_t ctl_read(const struct sup *s, unsigned i, struct linkctl *c)
{
	return s->vm[i].p.ctl_fd >= 0 && statefiles_ctl_read(s->vm[i].p.ctl_fd, c) == 0 ? c->gen : 0;
}

/* The wire of VM v's NIC k: its peer node and the peer's NIC ("" for a
 * tunnel); false if the NIC is on no wire. */
static bool wire_of(const struct sup *s, const struct vmp *v, unsigned k, unsigned *peer, const char **pn)
{
	const struct config *cfg = s->cfg;
	unsigned j;

	for (j = 0; j < cfg->nlinks; j++) {
		const struct cfg_link *l = &cfg->link[j];
		int x = l->a == v->p.index ? 0 : 1, n;

		if (!l->wire || (l->a != v->p.index && l->b != v->p.index) || (x ? l->nic_b : l->nic_a) != (int)k)
			continue;
		*peer = x ? l->a : l->b;
		n = x ? l->nic_a : l->nic_b;
		*pn = n >= 0 ? cfg->vm[*peer].nic[n].name : "";
		return true;
	}
	return false;
}

/* Whether the wire of VM v's NIC k is down: either direction set down in
 * the control files (a cable, not a fibre: both NICs lose carrier). *gen
 * sums the generations read. */
static bool wire_down(const struct sup *s, const struct vmp *v, unsigned k, uint32_t *gen)
{
	static struct linkctl c;
	const struct config *cfg = s->cfg;
	unsigned peer;
	const char *pn;
	bool down = false;
	int e;

	if (!wire_of(s, v, k, &peer, &pn))
		return false;
	*gen += ctl_read(s, v->p.index, &c);
	e = statefiles_ctl_find(&c, cfg->vm[peer].name, v->cfg->nic[k].name, pn);
	down |= e >= 0 && c.link[e].imp.down;
	*gen += ctl_read(s, peer, &c);
	e = statefiles_ctl_find(&c, v->cfg->name, pn, v->cfg->nic[k].name);
	down |= e >= 0 && c.link[e].imp.down;
	return down;
}

/* Whether the far end of VM v's NIC k's wire has been gone for
 * WIRE_PEER_GONE_MS (vmproc.h) at t. */
static bool peer_gone(const struct sup *s, const struct vmp *v, unsigned k, long long t)
{
	const struct vmp *p;
	unsigned peer;
	const char *pn;

	if (s->stopping || !wire_of(s, v, k, &peer, &pn))
		return false;
	p = &s->vm[peer];
	if (p->unresponsive || (p->gone && t - p->gone_since >= WIRE_PEER_GONE_MS))
		return true;
	return p->cfg->tunnel && !p->gone && vmproc_link_up(&p->p, v->cfg->name, v->cfg->nic[k].name) == 0;
}

/* A new QEMU's wire NICs start with carrier; those whose wire is down
 * are set so (QMP set_link), before its guest looks. Read again after:
 * a `multivm link` meanwhile (which sets QEMU itself after writing the
 * files) must not be undone. 0, -ENOENT/-ECONNREFUSED (no monitor yet),
 * or -1 (said). */
static int apply_carrier(struct sup *s, struct vmp *v)
{
	char sock[STATE_PATH_MAX], ids[MV_NICS_MAX][MV_IFNAME_MAX + 8], err[300];
	const char *names[MV_NICS_MAX];
	bool up[MV_NICS_MAX], any = false;
	uint32_t gen = 0, again;
	unsigned k, round;
	int rc;

	for (k = 0; k < v->cfg->nnics && k < MV_NICS_MAX; k++) {
		v->carrier_gen[k] = 0;
		up[k] = !wire_down(s, v, k, &v->carrier_gen[k]) && !peer_gone(s, v, k, now_ms(s));
		gen += v->carrier_gen[k];
		v->carrier[k] = up[k];
		any |= !up[k];
		qmp_nic_id(ids[k], sizeof(ids[k]), v->cfg->nic[k].name);
		names[k] = ids[k];
	}
	v->carrier_known = !any;
	if (!any)
		return 0;	/* QEMU starts them up */
	path(sock, s, v->cfg->name, SF_QMP);
	for (round = 0; round < 3; round++) {
		rc = qmp_set_links(sock, names, up, k, QMP_TIMEOUT_MS, err, sizeof(err));
		if (rc < 0) {
			if (rc == -1)
				log_warn("%s: cannot set its wire NICs' carrier: %s", v->cfg->name, err);
			return rc;
		}
		again = 0;
		for (k = 0; k < v->cfg->nnics && k < MV_NICS_MAX; k++) {
			v->carrier_gen[k] = 0;
			up[k] = !wire_down(s, v, k, &v->carrier_gen[k]) && !peer_gone(s, v, k, now_ms(s));
			again += v->carrier_gen[k];
			v->carrier[k] = up[k];
		}
		if (again == gen)
			break;
		gen = again;
	}
	v->carrier_known = true;
	for (k = 0; k < v->cfg->nnics && k < MV_NICS_MAX; k++)
		if (!up[k])
			log_info("%s: %s has no carrier (its wire is down, or its far end gone)", v->cfg->name,
				 v->cfg->nic[k].name);
	return 0;
}

/* Every LIVENESS_CHECK_MS, for each QEMU already told its carrier: a wire
 * NIC whose carrier should be other than we last set (its peer gone or
 * back), or that should be down while a `multivm link` has written the
 * control files since (it sets QEMU by the files alone, up even with the
 * peer gone), is set again. A failure is tried again at the next look. */
static void watch_carrier(struct sup *s, long long t)
{
	char sock[STATE_PATH_MAX], ids[MV_NICS_MAX][MV_IFNAME_MAX + 8], err[300];
	const char *names[MV_NICS_MAX];
	bool up[MV_NICS_MAX], gone[MV_NICS_MAX];
	uint32_t gen[MV_NICS_MAX];
	unsigned i, k, n, idx[MV_NICS_MAX];

	for (i = 0; i < s->cfg->nvms && !s->stopping; i++) {
		struct vmp *v = &s->vm[i];

		if (!v->carrier_known || v->carrier_due || v->p.pid[CHILD_QEMU] <= 0)
			continue;
		for (k = n = 0; k < v->cfg->nnics && k < MV_NICS_MAX; k++) {
			uint32_t g = 0;
			bool g_down = wire_down(s, v, k, &g), p_gone = peer_gone(s, v, k, t), u = !g_down && !p_gone;

			if (u == v->carrier[k] && (u || g == v->carrier_gen[k])) {
				v->carrier_gen[k] = g;
				continue;
			}
			qmp_nic_id(ids[n], sizeof(ids[n]), v->cfg->nic[k].name);
			names[n] = ids[n];
			up[n] = u;
			gone[n] = p_gone;
			gen[n] = g;
			idx[n++] = k;
		}
		if (!n)
			continue;
		path(sock, s, v->cfg->name, SF_QMP);
		if (qmp_set_links(sock, names, up, n, QMP_TIMEOUT_MS, err, sizeof(err)) < 0) {
			if (!v->carrier_warned)
				log_warn("%s: cannot set its wire NICs' carrier (trying again): %s", v->cfg->name, err);
			v->carrier_warned = true;
			continue;
		}
		v->carrier_warned = false;
		for (k = 0; k < n; k++) {
			if (up[k] != v->carrier[idx[k]])
				log_info("%s: %s %s", v->cfg->name, v->cfg->nic[idx[k]].name,
					 up[k] ? "has carrier again" : gone[k] ? "has no carrier: its wire's far end is gone"
					 : "has no carrier (its wire is down)");
			v->carrier[idx[k]] = up[k];
			v->carrier_gen[idx[k]] = gen[k];
		}
	}
}

static void carrier_tick(struct sup *s, struct vmp *v, long long t, long long *next)
{
	int rc;

	if (!v->carrier_due || v->p.pid[CHILD_QEMU] <= 0) {
		v->carrier_due = 0;
		return;
	}
	if (t >= v->carrier_due) {
		rc = apply_carrier(s, v);
		v->carrier_due = 0;
		if ((rc == -ENOENT || rc == -ECONNREFUSED) && ++v->carrier_tries < QMP_TRIES)
			v->carrier_due = t + RETRY_MS;	/* QEMU has not made its monitor yet */
		else if (rc == -ENOENT || rc == -ECONNREFUSED)
			log_warn("%s: QEMU's monitor did not appear; its wire NICs keep their carrier", v->cfg->name);
	}
	if (v->carrier_due && v->carrier_due < *next)
		*next = v->carrier_due;
}

/* Restarts that are due, VMMs that are late, consoles to (re)connect.
 * Returns how long the loop may sleep before something here is due. */
int sup_tick(struct sup *s)
{
	long long t = now_ms(s), next;
	char p[STATE_PATH_MAX];
	unsigned i;
	int rc;

	trim_logs(s);
	check_liveness(s);
	next = s->stopping ? s->stop_deadline : s->next_trim < s->next_live ? s->next_trim : s->next_live;
	for (i = 0; i < s->cfg->nvms && !s->stopping; i++) {
		struct vmp *v = &s->vm[i];
		long long due;

		if (v->p.due[CHILD_VMM] && t >= v->p.due[CHILD_VMM]) {
			v->p.due[CHILD_VMM] = 0;
			rc = vmproc_start_vmm(&v->p, &s->env, t);
			if (rc < 0)
				log_warn("%s: cannot start its VMM: %s; trying again in %d ms", v->cfg->name,
					 strerror(-rc), vmproc_restart_later(&v->p, CHILD_VMM, t));
		}
		if (v->p.ready_fd >= 0 && t >= v->p.ready_due)
			vmm_failed(s, v, "not serving in time");
		if (v->p.due[CHILD_QEMU] && t >= v->p.due[CHILD_QEMU]) {
			v->p.due[CHILD_QEMU] = 0;
			rc = start_qemu(s, v);
			if (rc < 0)
				log_warn("%s: cannot start QEMU: %s; trying again in %d ms", v->cfg->name,
					 strerror(-rc), vmproc_restart_later(&v->p, CHILD_QEMU, t));
		}
		carrier_tick(s, v, t, &next);
		if (v->up_due && v->state == ST_BOOTING && v->p.pid[CHILD_QEMU] > 0 && t >= v->up_due) {
			v->up_due = 0;
			set_state(s, v, ST_UP);
			check_all_up(s);
		}
		if (v->agent_due && !v->agent_up && !v->agent_pid && v->p.pid[CHILD_QEMU] > 0 && t >= v->agent_due)
			probe_agent(s, v, t);
		if (v->up_due && v->up_due < next)
			next = v->up_due;
		if (v->agent_due && v->agent_due < next)
			next = v->agent_due;
		if (v->p.pid[CHILD_QEMU] > 0 && !consoles_connected(s->cons, i)) {
			path(p, s, v->cfg->name, SF_CONSOLE);
			if (consoles_connect(s->cons, i, p) < 0 && next > t + RETRY_MS)
				next = t + RETRY_MS;	/* QEMU has not made it yet */
		}
		due = vmproc_next_due(&v->p);
		if (due && due < next)
			next = due;
	}
	t = now_ms(s);
	return next <= t ? 0 : next - t > LOG_TRIM_MS ? LOG_TRIM_MS : (int)(next - t);
}

/* QEMUs first (grace, then SIGKILL), then the VMMs. */
/* VM i's cgroup, its processes reaped. */
static void remove_cgroup(struct sup *s, unsigned i)
{
	char err[PATH_MAX + 128];

	if (cgroups_vm_remove(&s->cg, s->vm[i].cfg->name, err, sizeof(err)) < 0)
		log_warn("%s: cannot remove its cgroup: %s", s->vm[i].cfg->name, err);
}

bool sup_stopped(struct sup *s)
{
	bool alive = false, late = now_ms(s) > s->stop_deadline;
	unsigned i;

	if (!s->stopping)
		return false;
	for (i = 0; i < s->cfg->nvms; i++) {
		pid_t *p = &s->vm[i].p.pid[s->stopping == STOP_QEMUS ? CHILD_QEMU : CHILD_VMM];

		if (*p > 0 && late) {
			s->env.ops->kill(*p, SIGKILL);
			s->env.ops->waitpid(*p, NULL, 0);
			*p = 0;
		}
		alive |= *p > 0;
	}
	if (alive)
		return false;
	if (s->stopping == STOP_VMMS) {
		for (i = 0; i < s->cfg->nvms; i++)
			remove_cgroup(s, i);
		cgroups_close(&s->cg);
		return true;
	}
	s->stopping = STOP_VMMS;
	s->stop_deadline = now_ms(s) + STOP_GRACE_MS;
	for (i = 0; i < s->cfg->nvms; i++)
		if (s->vm[i].p.pid[CHILD_VMM] > 0)
			s->env.ops->kill(s->vm[i].p.pid[CHILD_VMM], SIGTERM);
	return false;
}

/* ---- set-up ---- */

static int open_vm(struct sup *s, unsigned i);
static int open_udp(struct sup *s, unsigned i);

int sup_open(struct sup *s)
{
	unsigned i;
	int rc;

	/* Started by root: a cgroup per VM where the host has cgroup v2 with
	 * memory and pids; else one line saying why not. */
	if (s->plan->runas.drop) {
		char why[512], name[16];

		snprintf(name, sizeof(name), "%d", (int)getpid());
		if (cgroups_open(&s->cg, "/proc/self/mountinfo", "/proc/self/cgroup", name, why, sizeof(why)) < 0)
			notice(s, "multivm: no cgroup per VM (no memory.max, pids.max): %s", why);
		else
			log_info("a cgroup per VM in %s", s->cg.path);
	}

	for (i = 0; i < s->cfg->nlinks; i++) {
		const char *a = s->cfg->vm[s->cfg->link[i].a].name, *b = s->cfg->vm[s->cfg->link[i].b].name;

		rc = link_create(&s->link[i], link_room_qsize(s->cfg->link_queue_size, s->cfg->link[i].imp), a, b);
		if (rc < 0) {
			log_err("cannot create link %s-%s: %s", a, b, strerror(-rc));
			return rc;
		}
		if (s->link[i].qsize != s->cfg->link_queue_size)
			log_info("link %s-%s: %u entries for its delay (link_queue_size %u)", a, b, s->link[i].qsize,
				 s->cfg->link_queue_size);
	}
	/* The tunnels' sockets first, back to back: a remote already
	 * sending meets a port whose sockets all join within microseconds. */
	for (i = 0; i < s->cfg->nvms; i++)
		if (s->cfg->vm[i].tunnel && (rc = open_udp(s, i)) < 0)
			return rc;
	for (i = 0; i < s->cfg->nvms; i++) {
		rc = open_vm(s, i);
		if (rc < 0)
			return rc;
	}
	write_status(s);
	return 0;
}

/* Whether tunnels i and k bind one address and port. */
static bool same_port(const struct config *c, unsigned i, unsigned k)
{
	return c->vm[i].tunnel && c->vm[k].tunnel && c->vm[i].tun_local == c->vm[k].tun_local &&
	       c->vm[i].tun_port == c->vm[k].tun_port;
}

/* Steers the group of tunnel i's port by VNI, its sockets in config
 * order: the order they joined (opened at run in that order, added by
 * apply at the end, removed from the end). joining, when below nvms, is
 * a tunnel about to join: it is given its index before its bind, so that
 * no datagram of a bound socket is ever hashed to another in between
 * (one of joining's own, until it binds, goes to one that counts it). */
static int steer_port(struct sup *s, unsigned i, unsigned joining)
{
	uint32_t vni[MV_NODES_MAX];
	unsigned k, n = 0;
	int fd = -1, rc = 0;

	for (k = 0; k < s->cfg->nvms; k++)
		if (same_port(s->cfg, i, k) && (s->vm[k].p.udp_fd >= 0 || k == joining)) {
			vni[n++] = s->cfg->vm[k].tun_vni;
			if (fd < 0)
				fd = s->vm[k].p.udp_fd;
		}
	if (n > 1 && fd >= 0 && (rc = udpsock_steer(fd, vni, n)) < 0)
		log_err("[tunnel %s] port %u: cannot steer it by VNI: %s", s->cfg->vm[i].name, s->cfg->vm[i].tun_port,
			strerror(-rc));
	return rc;
}

/* Tunnel i's UDP socket, bound here once and kept for the system's life:
 * its port is never free while the tunnel restarts (tunnel/udpsock.h).
 * Shared (SO_REUSEPORT) when another tunnel of the config has its
 * address and port; then its group is steered for it before it joins.
 * Done already (sup_open binds every tunnel's first, back to back): 0. */
static int open_udp(struct sup *s, unsigned i)
{
	const struct cfg_vm *t = &s->cfg->vm[i];
	struct in_addr local = { htonl(t->tun_local) };
	char a[INET_ADDRSTRLEN];
	bool shared = false;
	unsigned k;
	int fd;

	if (s->vm[i].p.udp_fd >= 0)
		return 0;
	for (k = 0; k < s->cfg->nvms; k++)
		shared |= k != i && same_port(s->cfg, i, k);
	if (shared && steer_port(s, i, i) < 0)
		return -EIO;	/* said */
	fd = udpsock_open(local, t->tun_port, shared);
	if (fd < 0) {
		inet_ntop(AF_INET, &local, a, sizeof(a));
		log_err("[tunnel %s]: cannot bind UDP %s:%u: %s", t->name, a, t->tun_port, strerror(-fd));
		if (shared)
			steer_port(s, i, s->cfg->nvms);	/* back to the sockets bound */
		return fd;
	}
	s->vm[i].p.udp_fd = fd;
	return 0;
}

/* VM i's files: counters, capture ring, logs, control file, transcript;
 * a tunnel's UDP socket. */
static int open_vm(struct sup *s, unsigned i)
{
	struct vmp *v = &s->vm[i];
	char p[STATE_PATH_MAX];
	int rc, cap_err;

	consoles_set_state(s->cons, i, state_names[v->state]);
	rc = vmproc_open(&v->p, s->dir, &cap_err);
	if (rc < 0) {
		path(p, s, v->cfg->name, SF_STATS);
		log_err("cannot create %s: %s", p, strerror(-rc));
		return rc;
	}
	if (s->cg.dir_fd >= 0) {	/* the host offers them: not run without */
		char err[PATH_MAX + 128];

		v->p.cgroup_fd = cgroups_vm(&s->cg, v->cfg->name, cgroups_mem_max(v->cfg->memory_mib, v->cfg->cpus, s->plan->kvm),
					    cgroups_pids_max(v->cfg->cpus), err, sizeof(err));
		if (v->p.cgroup_fd < 0) {
			log_err("%s: cannot make its cgroup: %s", v->cfg->name, err);
			return -EIO;
		}
	}
	rc = vmproc_open_logs(&v->p, s->dir, s->cfg->log_max);
	if (rc < 0)
		log_warn("cannot open %s's VMM and QEMU logs: %s; they go unlogged", v->cfg->name,
			 strerror(-rc));
	rc = vmproc_open_ctl(&v->p, &s->env);
	if (rc < 0) {
		path(p, s, v->cfg->name, SF_CTL);
		log_err("cannot create %s: %s", p, strerror(-rc));
		return rc;
	}
	if (v->cfg->tunnel && (rc = open_udp(s, i)) < 0)
		return rc;
	if (cap_err < 0) {
		path(p, s, v->cfg->name, SF_CAPTURE);
		log_warn("cannot create %s: %s; no capture on %s", p, strerror(-cap_err), v->cfg->name);
	}
	if (v->cfg->external)
		return 0;	/* no console of ours to log */
	path(p, s, v->cfg->name, SF_CONSOLE_LOG);
	rc = consoles_log(s->cons, i, p, s->cfg->log_max);
	if (rc < 0)
		log_warn("cannot open %s: %s", p, strerror(-rc));
	return 0;
}

int sup_start(struct sup *s)
{
	unsigned i;
	int rc;

	for (i = 0; i < s->cfg->nvms; i++) {
		rc = vmproc_start_vmm(&s->vm[i].p, &s->env, now_ms(s));
		if (rc < 0) {
			log_err("%s: cannot start its VMM: %s", s->vm[i].cfg->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void sup_guest_ready(struct sup *s, unsigned vm)
{
	if (s->vm[vm].state != ST_BOOTING)
		return;
	s->vm[vm].agent_up = true;	/* the built-in guest's init started it */
	set_state(s, &s->vm[vm], ST_UP);
	check_all_up(s);
}

bool sup_failed(const struct sup *s)
{
	return s->start_failed;
}

struct sup *sup_init(struct run_plan *plan, int ep, uint32_t tag_ready, uint32_t tag_log,
		     struct consoles *cons, struct detach *d, const struct proc_ops *ops)
{
	static struct sup s;	/* large; one per process */
	unsigned i;

	memset(&s, 0, sizeof(s));
	s.plan = plan;
	s.cfg = s.cfg_rw = &plan->cfg;
	s.runas_rw = &plan->runas;
	s.dir = plan->dir;
	s.ep = ep;
	s.cons = cons;
	s.detach = d;
	s.cg.dir_fd = -1;
	s.env = (struct vm_env){
		.plan = plan, .links = s.link, .ep = ep, .tag_ready = tag_ready, .tag_log = tag_log, .ops = ops,
	};
	for (i = 0; i < plan->cfg.nvms; i++) {
		vmproc_init(&s.vm[i].p, plan, i);
		s.vm[i].cfg = s.vm[i].p.cfg;
	}
	return &s;
}

/* ---- apply ---- */

/* VM i, the last one, goes (multivm apply): its QEMU and VMM killed and
 * reaped, its console, fds and files, logs and counters too, gone. */
static void remove_vm(struct sup *s, unsigned i)
{
	static const enum vm_child order[2] = { CHILD_QEMU, CHILD_VMM };
	struct vmp *v = &s->vm[i];
	unsigned k;

	for (k = 0; k < 2; k++) {
		pid_t pid = v->p.pid[order[k]];

		if (pid <= 0)
			continue;
		s->env.ops->kill(pid, SIGKILL);
		s->env.ops->waitpid(pid, NULL, 0);
		vmproc_reaped(&v->p, pid, s->ep);
	}
	v->p.due[CHILD_VMM] = v->p.due[CHILD_QEMU] = 0;
	consoles_remove(s->cons, i);
	vmproc_close(&v->p, s->ep);
	remove_cgroup(s, i);
	statefiles_remove_vm(s->dir, v->cfg, true);
	log_info("%s: removed", v->cfg->name);
}

/* VM i's guest reboots with its new settings (memory, cpus, kernel...):
 * its QEMU told to quit (a clean one, its disks flushed), reaped here (or
 * killed, not gone in REBOOT_QUIT_MS), and started again at once; its VMM
 * stays, and the new QEMU connects to it as after a crash. */
#define REBOOT_QUIT_MS	3000

static void reboot_vm(struct sup *s, unsigned i)
{
	struct vmp *v = &s->vm[i];
	pid_t pid = v->p.pid[CHILD_QEMU];
	int rc, t;

	if (pid > 0) {
		s->env.ops->kill(pid, SIGTERM);
		for (t = 0; t < REBOOT_QUIT_MS / 10 && s->env.ops->waitpid(pid, NULL, WNOHANG) == 0; t++)
			poll(NULL, 0, 10);
		if (t == REBOOT_QUIT_MS / 10) {
			s->env.ops->kill(pid, SIGKILL);
			s->env.ops->waitpid(pid, NULL, 0);
		}
		vmproc_reaped(&v->p, pid, s->ep);
		consoles_close(s->cons, i);
	}
	v->p.due[CHILD_QEMU] = 0;
	v->boot_failures = 0;
	log_info("%s: rebooting with its new settings (QEMU pid %d went)", v->cfg->name, (int)pid);
	rc = start_qemu(s, v);
	if (rc < 0) {
		log_err("%s: cannot start its QEMU: %s; trying again in %d ms", v->cfg->name, strerror(-rc),
			vmproc_restart_later(&v->p, CHILD_QEMU, now_ms(s)));
		set_state(s, v, ST_RESTARTING);
	}
}

/* Node i's running processes (QEMU, VMM or tunnel) to its new cpuset,
 * every thread of them: no restart. A process that cannot be moved keeps
 * running where it was (said); the next one started takes the cpuset. */
static void move_vm(struct sup *s, unsigned i)
{
	static const enum vm_child which[2] = { CHILD_QEMU, CHILD_VMM };
	struct vmp *v = &s->vm[i];
	unsigned k;
	int rc;

	for (k = 0; k < 2; k++) {
		pid_t pid = v->p.pid[which[k]];

		if (pid <= 0)
			continue;
		rc = s->env.ops->affinity(pid, v->cfg->cpuset_line ? v->cfg->cpuset : NULL);
		if (rc < 0)
			log_warn("%s: cannot move its %s (pid %d) to its new cpuset: %s", v->cfg->name,
				 which[k] == CHILD_QEMU ? "QEMU" : "VMM", (int)pid, strerror(-rc));
		else
			log_info("%s: its %s (pid %d) moved to its new cpuset, running", v->cfg->name,
				 which[k] == CHILD_QEMU ? "QEMU" : "VMM", (int)pid);
	}
}

/* A node's links as they were before apply: whom to and on which NIC
 * ("" the segment's), in order, and its wire NICs; ok: the node could
 * take links at run time (a serving VMM whose eth0 is the segment's, and
 * a handoff channel). */
struct old_links {
	bool ok;
	unsigned n;
	char peer[MV_NODE_LINKS_MAX][MV_NAME_MAX];
	uint8_t peer_mac[MV_NODE_LINKS_MAX][ETH_ALEN];	/* a peer with a new MAC: its link handed again */
	char nic[MV_NODE_LINKS_MAX][MV_IFNAME_MAX];
	unsigned nwires;
	struct node_wire_arg wire[MV_NICS_MAX];
};

static bool can_relink(const struct node_args *a)
{
	return a->kind == NODE_VMM && !a->vmm.eth0_wire;
}

/* The VMM's NIC of link k: a wire NIC's name, "" for the segment. */
static const char *link_nic(const struct node_args *a, unsigned k)
{
	const struct node_link_arg *l = &a->link[k];

	return l->wire && l->nic >= 1 && l->nic <= a->vmm.nwires ? a->vmm.wire[l->nic - 1].name : "";
}

static const struct node_wire_arg *wire_named(const struct node_wire_arg *w, unsigned n, const char *name)
{
	unsigned k;

	for (k = 0; k < n; k++)
		if (!strcmp(w[k].name, name))
			return &w[k];
	return NULL;
}

static void note_links(struct sup *s, unsigned i, struct old_links *o)
{
	static struct node_args a;
	unsigned k;

	o->ok = s->vm[i].p.handoff_fd >= 0 && s->vm[i].p.vmm_serving &&
		spawn_vmm_args(&a, s->cfg, i, s->link, &s->plan->runas, s->dir) == 0 && can_relink(&a);
	o->n = o->ok ? a.nlinks : 0;
	for (k = 0; k < o->n; k++) {
		memcpy(o->peer[k], a.link[k].peer, MV_NAME_MAX);
		memcpy(o->peer_mac[k], a.link[k].peer_mac, ETH_ALEN);
		snprintf(o->nic[k], sizeof(o->nic[k]), "%s", link_nic(&a, k));
	}
	o->nwires = o->ok ? a.vmm.nwires : 0;
	memcpy(o->wire, a.vmm.wire, sizeof(o->wire));
}

static int handoff(struct vmp *v, struct handoff_msg *m, uint32_t *seq)
{
	bool add = m->op == HANDOFF_ADD || m->op == HANDOFF_ADD_NIC;
	int rc, status;

	m->seq = ++*seq;
	rc = handoff_send(v->p.handoff_fd, m);
	if (rc == 0)
		rc = handoff_wait_reply(v->p.handoff_fd, m->seq, HANDOFF_REPLY_MS, &status);
	if (rc == 0)
		rc = status;
	if (rc < 0)
		log_warn("%s: its VMM did not take the %s of %s%sthe link to %s: %s", v->cfg->name, add ? "add" : "drop",
			 m->nic.name, m->nic.name[0] ? " and " : "", m->link.peer, strerror(-rc));
	return rc;
}

/* A wire NIC's listening socket, made here as the VMM makes its own at
 * start (common/vusock.h): a sandboxed VMM cannot. */
static int nic_socket(const struct node_args *a, const struct node_wire_arg *w)
{
	uid_t uid = a->vmm.frontend ? a->vmm.front_uid : a->drop ? a->uid : getuid();
	gid_t gid = a->vmm.frontend ? a->vmm.front_gid : a->drop ? a->gid : getgid();

	return vusock_listen(w->socket, a->drop, uid, gid, a->vmm.group_connect);
}

/* Hands node i's running VMM its links as the config now has them
 * (common/handoff.h): drops first, the last first, then the new ones in
 * the config's order, each at its place (the VMM moves the ones after
 * it). A wire's link comes and goes with its NIC (HANDOFF_ADD_NIC with
 * the NIC's listening socket made here, HANDOFF_DROP_NIC). The links it
 * keeps keep their order (the config's), and a kept wire NIC its
 * settings. 0, or -1: its VMM must be restarted instead (it gets them
 * all at start); -2: so, a handoff having failed (refused, or the VMM
 * gone) after those before it were taken. */
static int relink_vmm(struct sup *s, unsigned i, const struct old_links *o, const struct linkctl *kept)
{
	static struct node_args a;
	static uint32_t seq;
	struct vmp *v = &s->vm[i];
	bool had[MV_NODE_LINKS_MAX] = { false };
	int pos[MV_NODE_LINKS_MAX], last = -1;
	unsigned k, j, added = 0, dropped = 0, nics = 0;
	char with[32];
	struct handoff_msg m;
	int rc;

	if (!o->ok || v->p.handoff_fd < 0 || spawn_vmm_args(&a, s->cfg, i, s->link, &s->plan->runas, s->dir) < 0 ||
	    !can_relink(&a))
		return -1;
	for (k = 0; k < o->n; k++) {
		pos[k] = -1;
		for (j = 0; j < a.nlinks; j++)
			if (!strcmp(a.link[j].peer, o->peer[k]) && !memcmp(a.link[j].peer_mac, o->peer_mac[k], ETH_ALEN) &&
			    !strcmp(link_nic(&a, j), o->nic[k]))
				pos[k] = (int)j;
		if (pos[k] < 0)
			continue;
		if (pos[k] < last)
			return -1;	/* kept links reordered: not this way */
		if (o->nic[k][0]) {	/* a kept wire NIC as it was */
			const struct node_wire_arg *w0 = wire_named(o->wire, o->nwires, o->nic[k]);
			const struct node_wire_arg *w1 = wire_named(a.vmm.wire, a.vmm.nwires, o->nic[k]);

			if (!w0 || !w1 || memcmp(w0->mac, w1->mac, ETH_ALEN) || w0->mtu != w1->mtu ||
			    w0->offloads != w1->offloads)
				return -1;
		}
		last = pos[k];
		had[pos[k]] = true;
	}
	for (k = o->n; k-- > 0;) {
		if (pos[k] >= 0)
			continue;
		memset(&m, 0, sizeof(m));
		m.op = o->nic[k][0] ? HANDOFF_DROP_NIC : HANDOFF_DROP;
		m.index = k;
		m.link.memfd = m.link.rx_kick = m.link.tx_kick = m.listen_fd = -1;
		memcpy(m.link.peer, o->peer[k], MV_NAME_MAX);
		memcpy(m.nic.name, o->nic[k], sizeof(m.nic.name));
		if (handoff(v, &m, &seq) < 0)
			return -2;
		dropped++;
		if (m.op == HANDOFF_DROP_NIC) {	/* its socket, made here or by the VMM at start: no one serves it */
			const struct node_wire_arg *w = wire_named(o->wire, o->nwires, o->nic[k]);

			if (w && unlink(w->socket) < 0 && errno != ENOENT)
				log_warn("%s: cannot remove %s: %s", v->cfg->name, w->socket, strerror(errno));
			nics++;
		}
	}
	for (j = 0; j < a.nlinks; j++) {
		if (had[j])
			continue;
		memset(&m, 0, sizeof(m));
		m.op = HANDOFF_ADD;
		m.index = j;
		m.link = a.link[j];
		m.listen_fd = -1;
		if (link_nic(&a, j)[0]) {
			m.op = HANDOFF_ADD_NIC;
			m.nic = *wire_named(a.vmm.wire, a.vmm.nwires, link_nic(&a, j));
			m.listen_fd = nic_socket(&a, &m.nic);
			if (m.listen_fd < 0) {
				log_warn("%s: cannot make %s's socket %s: %s", v->cfg->name, m.nic.name, m.nic.socket,
					 strerror(-m.listen_fd));
				return -2;
			}
			m.nic.socket[0] = 0;
		}
		rc = handoff(v, &m, &seq);
		if (m.listen_fd >= 0)
			close(m.listen_fd);	/* the VMM's copy serves it */
		if (rc < 0)
			return -2;
		added++;
		nics += m.op == HANDOFF_ADD_NIC;
	}
	rc = statefiles_ctl_relink(s->dir, &a, s->cfg, i, kept);
	if (rc < 0)
		log_warn("%s: cannot rewrite its control file: %s; its links run plain", v->cfg->name, strerror(-rc));
	snprintf(with, sizeof(with), " (%u with a wire NIC)", nics);
	log_info("%s: its running VMM (pid %d) took %u new link%s and dropped %u%s: no restart", v->cfg->name,
		 (int)v->p.pid[CHILD_VMM], added, added == 1 ? "" : "s", dropped, nics ? with : "");
	return 0;
}

uint64_t sup_apply_failed(const struct sup *s)
{
	return s->apply_failed;
}

int sup_apply(struct sup *s, const struct config *next, uint64_t *restarted, char *err, size_t errlen)
{
	static struct old_links old[MV_NODES_MAX];
	static struct grow g;
	static struct link_res links[MV_LINKS_MAX];
	static struct linkctl kept[MV_NODES_MAX];
	bool have_kept[MV_NODES_MAX] = { false };
	unsigned i, j, made = 0, old_n = s->cfg->nvms;
	int rc;

	*restarted = 0;
	s->apply_failed = 0;
	if (s->stopping) {
		snprintf(err, errlen, "the system is stopping");
		return -1;
	}
	if (grow_plan(s->cfg, next, &g, err, errlen) < 0)
		return -1;
	/* The new nodes' identities (slots), then the new links: if either
	 * cannot be had, nothing has changed. */
	if (runas_extend(next, s->runas_rw, old_n, err, errlen) < 0)
		return -1;
	for (j = 0; j < next->nlinks; j++) {
		const char *a = next->vm[next->link[j].a].name, *b = next->vm[next->link[j].b].name;

		if (g.old_link[j] >= 0) {
			links[j] = s->link[g.old_link[j]];
			continue;
		}
		/* link_queue_size entries, delay or not: a running node is
		 * handed it (common/handoff.h), which says no size. */
		rc = link_create(&links[j], next->link_queue_size, a, b);
		if (rc < 0) {
			snprintf(err, errlen, "+ link %s-%s: cannot create it: %s", a, b, strerror(-rc));
			while (j--)
				if (g.old_link[j] < 0)
					link_res_close(&links[j]);
			for (i = old_n; i < next->nvms; i++)	/* the new nodes' slots */
				if (s->runas_rw->lock_fd[i] >= 0) {
					close(s->runas_rw->lock_fd[i]);
					s->runas_rw->lock_fd[i] = -1;
				}
			return -1;
		}
		made++;
	}
	/* What each node that gets or loses a link has now, to hand its
	 * running VMM the difference. */
	for (i = 0; i < g.first_gone; i++)
		if (g.restart_vmm[i])
			note_links(s, i, &old[i]);
	/* The VMs that go, the last first, then the links that go; a port
	 * the tunnels that go shared is steered among those that stay. */
	for (i = old_n; i-- > g.first_gone;)
		remove_vm(s, i);
	for (i = 0; i < g.first_gone; i++)
		for (j = g.first_gone; j < old_n; j++)
			if (same_port(s->cfg, i, j)) {
				steer_port(s, i, s->cfg->nvms);
				break;
			}
	for (i = 0; i < s->cfg->nlinks; i++)
		if (g.gone_link[i])
			link_res_close(&s->link[i]);
	/* The run-time settings (multivm link) of the nodes whose VMM restarts. */
	for (i = 0; i < old_n; i++)
		if (g.restart_vmm[i] && s->vm[i].p.ctl_fd >= 0)
			have_kept[i] = statefiles_ctl_read(s->vm[i].p.ctl_fd, &kept[i]) == 0;
	memcpy(s->link, links, next->nlinks * sizeof(links[0]));
	*s->cfg_rw = *next;
	notice(s, "multivm: apply: %u VM%s and %u link%s added, %u VM%s and %u link%s removed", g.nvms - g.first_new,
	       g.nvms - g.first_new == 1 ? "" : "s", made, made == 1 ? "" : "s", g.old_nvms - g.first_gone,
	       g.old_nvms - g.first_gone == 1 ? "" : "s", g.gone_links, g.gone_links == 1 ? "" : "s");
	for (i = 0; i < g.first_gone; i++) {
		struct vmp *v = &s->vm[i];

		if (!g.restart_vmm[i])
			continue;
		/* Preferably its running VMM takes the change; else (a tunnel,
		 * wire NICs, a VMM that refused) it restarts with its links as
		 * they now are. */
		rc = g.new_vmm[i] ? -1 : relink_vmm(s, i, &old[i], have_kept[i] ? &kept[i] : NULL);
		if (rc == 0)
			continue;
		if (rc == -2)
			s->apply_failed |= 1ull << i;	/* apply undoes the whole change */
		*restarted |= 1ull << i;
		if (v->p.ctl_fd >= 0)
			close(v->p.ctl_fd);
		v->p.ctl_fd = -1;
		rc = vmproc_open_ctl(&v->p, &s->env);
		if (rc < 0)
			log_err("%s: cannot make its new control file: %s", v->cfg->name, strerror(-rc));
		else if (have_kept[i] && (rc = statefiles_ctl_keep(s->dir, v->cfg->name, &kept[i])) < 0)
			log_warn("%s: its links' run-time settings are lost: %s", v->cfg->name, strerror(-rc));
		/* Its guest stays; QEMU reconnects to the new VMM, which has the new link. */
		log_info("%s: restarting its VMM (pid %d) with its links as they now are", v->cfg->name,
			 (int)v->p.pid[CHILD_VMM]);
		if (v->p.pid[CHILD_VMM] > 0) {
			s->env.ops->kill(v->p.pid[CHILD_VMM], SIGTERM);
			v->p.asked[CHILD_VMM] = true;	/* not a crash: no back-off (bench/hotplug.sh) */
		}
		/* Going, it takes no more handoffs: an apply before it is
		 * reaped (apply's undo) restarts it rather than hand it links. */
		vmproc_handoff_close(&v->p);
	}
	for (i = 0; i < g.first_gone; i++)
		if (g.reboot[i] && !s->plan->no_guests)
			reboot_vm(s, i);
	for (i = 0; i < g.first_gone; i++)
		if (g.affinity[i])
			move_vm(s, i);
	for (i = g.first_new; i < g.nvms; i++) {
		struct vmp *v = &s->vm[i];

		vmproc_init(&v->p, s->plan, i);
		v->cfg = v->p.cfg;
		v->state = ST_STARTING;
		consoles_add(s->cons, i, v->cfg->name);
		rc = open_vm(s, i);
		if (rc == 0)
			rc = vmproc_start_vmm(&v->p, &s->env, now_ms(s));
		if (rc < 0) {
			log_err("%s: cannot start its VMM: %s; trying again in %d ms", v->cfg->name, strerror(-rc),
				vmproc_restart_later(&v->p, CHILD_VMM, now_ms(s)));
		}
	}
	s->all_up = false;
	write_status(s);
	return 0;
}
