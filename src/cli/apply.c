/* multivm config, multivm apply: see apply.h and multivm(8). */
#include "cli/apply.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/hotplug.h"
#include "cli/link.h"
#include "cli/snapshot.h"
#include "cli/undo.h"
#include "config/diff.h"
#include "common/qmp.h"
#include "config/text.h"
#include "supervisor/fit.h"
#include "supervisor/grow.h"
#include "supervisor/preflight.h"
#include "supervisor/state.h"

static int not_running(const char *dir)
{
	fprintf(stderr, "multivm: no system running in %s\n", dir);
	return APPLY_FAILED;
}

/* STATE/run (or run.name) into text; 0, or says why (-1). */
static int read_running(const char *dir, enum state_file f, char *text, size_t size)
{
	char p[STATE_PATH_MAX], err[CFG_ERR_MAX];

	if (state_file(p, dir, NULL, f) < 0 || config_read_text(p, text, size, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: no running configuration: %s (a system started by an older multivm?)\n",
			*p ? err : dir);
		return -1;
	}
	return 0;
}

int cmd_config(const char *dir, int argc, char **argv)
{
	static char text[CFG_TEXT_MAX];

	if (argc != 1) {
		fprintf(stderr, "usage: multivm config\n");
		return APPLY_USAGE;
	}
	if (!state_supervisor(dir))
		return not_running(dir);
	if (read_running(dir, SF_RUN, text, sizeof(text)) < 0)
		return APPLY_FAILED;
	fputs(text, stdout);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "multivm: config: cannot write: %s\n", strerror(errno));
		return APPLY_FAILED;
	}
	return APPLY_OK;
}

/* ---- the plan ---- */

#define ANSWER_MS	10000	/* the supervisor answers a request within this */
#define UP_MS		300000	/* new VMs boot and restarted VMMs serve within this */
#define POLL_MS		100
#define ANSWER_POLL_MS	5	/* the answer is there within ms when only links change */

struct plan {
	const struct config *o, *n;
	unsigned lines, other;		/* changes; those not done at run time */
	unsigned grow;			/* VMs and links added or removed, VMs rebooted: the supervisor's */
	unsigned wires;			/* of those, wires: NICs plugged (cli/hotplug.h) */
	bool link[MV_LINKS_MAX][2];	/* new's links' directions whose settings change */
	char first_other[CFG_CHANGE_LINE_MAX];
};

static void take(void *ctx, const struct cfg_change *c)
{
	struct plan *p = ctx;

	printf("%s\n", c->line);
	p->lines++;
	if (c->kind == CHG_LINK_IMP) {
		p->link[c->new_idx][0] |= c->dir != 1;	/* -1: both */
		p->link[c->new_idx][1] |= c->dir != 0;
	} else if (c->kind == CHG_VM_ADD || c->kind == CHG_VM_DEL || c->kind == CHG_LINK_ADD ||
		   c->kind == CHG_LINK_DEL || (c->kind == CHG_VM_SET && c->apply != CFG_APPLY_STOP)) {
		p->grow++;	/* the supervisor's: VMs, links, wires, reboots, cpusets, overlays */
		p->wires += (c->kind == CHG_LINK_ADD && p->n->link[c->new_idx].wire) ||
			    (c->kind == CHG_LINK_DEL && p->o->link[c->old_idx].wire);
	} else if (!p->other++) {
		snprintf(p->first_other, sizeof(p->first_other), "%s", c->line);
	}
}

/* ---- the steps ---- */

/* Link i of c's ends: names and NICs ("" on the segment, or a tunnel's end). */
static void ends(const struct config *c, unsigned i, const char *name[2], const char *nic[2])
{
	const struct cfg_link *l = &c->link[i];

	name[0] = c->vm[l->a].name;
	name[1] = c->vm[l->b].name;
	nic[0] = l->wire && l->nic_a >= 0 ? c->vm[l->a].nic[l->nic_a].name : "";
	nic[1] = l->wire && l->nic_b >= 0 ? c->vm[l->b].nic[l->nic_b].name : "";
}

static void link_words(char *out, size_t len, const struct config *c, unsigned i)
{
	const char *name[2], *nic[2];

	ends(c, i, name, nic);
	snprintf(out, len, "~ link %s%s%s-%s%s%s", name[0], *nic[0] ? ":" : "", nic[0], name[1], *nic[1] ? ":" : "",
		 nic[1]);
}

/* The link settings each link had before its step, to undo it. */
static struct link_imp was[MV_LINKS_MAX][2];

/* Link i's step: its settings as the new config has them. 0, or -1
 * (said); a step written before it failed (its carrier) is undone too. */
static int set_link(const char *dir, const struct plan *p, unsigned i, struct undo_list *u)
{
	char err[400], step[CFG_CHANGE_LINE_MAX];
	const char *name[2], *nic[2];
	int rc;

	ends(p->n, i, name, nic);
	rc = link_set_imp(dir, name[0], nic[0], name[1], nic[1], p->link[i], p->n->link[i].imp, was[i], err,
			  sizeof(err));
	if (rc == 0 || rc == -2)
		undo_push(u, UNDO_LINK, i);
	if (rc == 0)
		return 0;
	link_words(step, sizeof(step), p->n, i);
	fprintf(stderr, "multivm: apply: step '%s' failed: %s\n", step, err);
	return -1;
}

/* ---- the supervisor's part: VMs and links added ---- */

static struct snapshot snap;

/* VM name's vmm pid in the status, 0 if none. */
static long vmm_pid(const char *name)
{
	int i = snapshot_vm(&snap, name);
	const char *v = i >= 0 ? status_get(&snap.status[i], "vmm") : NULL;

	return v ? atol(v) : 0;
}

static void pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

/* What the supervisor said it did beyond the plan, per VM of the config
 * asked for: restarted its VMM (one that could not take its links
 * running), or failed to hand its running VMM its links (then restarted
 * it: it takes them at start). */
struct answer {
	bool restart[MV_NODES_MAX];
	bool failed[MV_NODES_MAX];
};

/* Whether line (up to its end) is WORD NAME for VM i of c. */
static bool said(const char *line, const char *word, const struct config *c, unsigned i)
{
	size_t w = strlen(word), n = strlen(c->vm[i].name);

	return !strncmp(line, word, w) && line[w] == ' ' && !strncmp(line + w + 1, c->vm[i].name, n) &&
	       line[w + 1 + n] == '\n';
}

/* Hands the config (name, text, read as c) to the supervisor
 * (STATE/apply.req, SIGUSR1) and waits for its answer: "ok", then a line
 * "restart NAME" for each node whose VMM it restarted and "failed NAME"
 * for each whose running VMM did not take its links. 0 (a done), or -1
 * with err set: nothing done. */
static int ask_supervisor(const char *dir, pid_t sup, const char *name, const char *text, const struct config *c,
			  struct answer *a, char *err, size_t errlen)
{
	static char answer[CFG_ERR_MAX + 16 + 2 * MV_NODES_MAX * (MV_NAME_MAX + 9)];
	const char *line;
	unsigned i;
	char res[STATE_PATH_MAX], e2[CFG_ERR_MAX];
	int waited;

	memset(a, 0, sizeof(*a));
	if (state_file(res, dir, NULL, SF_APPLY_RES) < 0)
		return snprintf(err, errlen, "state directory path too long"), -1;
	unlink(res);
	if (state_write_atomic(dir, SF_APPLY_REQ_NAME, SF_APPLY_TMP, name) < 0 ||
	    state_write_atomic(dir, SF_APPLY_REQ, SF_APPLY_TMP, text) < 0)
		return snprintf(err, errlen, "cannot write the request in %s: %s", dir, strerror(errno)), -1;
	if (kill(sup, SIGUSR1) < 0)
		return snprintf(err, errlen, "cannot signal supervisor %d: %s", (int)sup, strerror(errno)), -1;
	for (waited = 0; config_read_text(res, answer, sizeof(answer), e2, sizeof(e2)) < 0; waited += ANSWER_POLL_MS) {
		if (waited >= ANSWER_MS)
			return snprintf(err, errlen, "supervisor %d did not answer in %d s", (int)sup, ANSWER_MS / 1000), -1;
		pause_ms(ANSWER_POLL_MS);
	}
	unlink(res);
	if (!strncmp(answer, "ok\n", 3)) {
		for (line = answer + 3; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0))
			for (i = 0; i < c->nvms; i++) {
				a->restart[i] |= said(line, "restart", c, i);
				a->failed[i] |= said(line, "failed", c, i);
			}
		return 0;
	}
	snprintf(err, errlen, "%.*s", (int)strcspn(answer, "\n"), strncmp(answer, "error: ", 7) ? answer : answer + 7);
	return -1;
}

/* Step text of VM i of c that boots: "+ vm vm3", or "~ vm vm1 (restart)". */
static void boot_step(char *step, size_t len, const struct config *c, unsigned i, unsigned first_new)
{
	snprintf(step, len, "%c %s %s%s", i >= first_new ? '+' : '~', c->vm[i].tunnel ? "tunnel" : "vm", c->vm[i].name,
		 i >= first_new ? "" : " (restart)");
}

/* Every VM of c up with a VMM serving, and each restarted node serving
 * with a VMM other than before[]; the VMs from first_new on are new,
 * reboot[i]: VM i's guest reboots. A new or rebooting VM whose QEMU (or
 * VMM) exits before it is up will not come up by waiting: it fails at
 * once. 0, or -1 with step and why set. */
static int wait_up(const char *dir, const struct config *c, unsigned first_new, const bool reboot[],
		   const bool restart[], const long before[], char *step, size_t steplen, char *why, size_t whylen)
{
	unsigned i, waited;
	int late = -1;

	for (waited = 0; waited < UP_MS; waited += POLL_MS) {
		late = -1;
		if (snapshot_status(dir, &snap) < 0) {
			late = -2;
		} else {
			for (i = 0; i < c->nvms && late == -1; i++) {
				int k = snapshot_vm(&snap, c->vm[i].name);
				const char *st = k >= 0 ? status_get(&snap.status[k], "state") : NULL;
				long pid = vmm_pid(c->vm[i].name);

				if ((i >= first_new || reboot[i]) && st &&
				    (!strcmp(st, "restarting") || !strcmp(st, "stopped"))) {
					boot_step(step, steplen, c, i, first_new);
					snprintf(why, whylen, "it %s before it was up (see %s/%s.*.log)",
						 !strcmp(st, "stopped") ? "stopped" : "exited", dir, c->vm[i].name);
					return -1;
				}
				if (!st || strcmp(st, "up") || !pid || (i < first_new && restart[i] && pid == before[i]))
					late = (int)i;
			}
		}
		if (late == -1)
			return 0;
		pause_ms(POLL_MS);
	}
	if (late < 0) {
		snprintf(step, steplen, "status");
		snprintf(why, whylen, "cannot read %s/status", dir);
	} else {
		if ((unsigned)late >= first_new || reboot[late])
			boot_step(step, steplen, c, (unsigned)late, first_new);
		else
			snprintf(step, steplen, "%s's VMM restarted with its links", c->vm[late].name);
		snprintf(why, whylen, "%s is not up after %d s (see %s/%s.*.log)", c->vm[late].name, UP_MS / 1000, dir,
			 c->vm[late].name);
	}
	return -1;
}

/* What the undo needs: the system and the two configs. */
struct undoing {
	const char *dir;
	pid_t sup;
	const struct plan *p;
	const char *old_name, *old_text;
	unsigned keep;		/* the VMs in both configs (the first ones) */
	const bool *reboot;	/* those rebooted for new settings: again for the old */
};

static long undo_before[MV_NODES_MAX];

static int undo_step(void *ctx, const struct undo_step *s)
{
	const struct undoing *u = ctx;
	char err[CFG_ERR_MAX], step[CFG_CHANGE_LINE_MAX], why[400];
	const char *name[2], *nic[2];
	struct link_imp back[2];
	static struct answer a;
	unsigned i;

	/* A NIC unplugged is plugged back into the VMM that served it (before
	 * the supervisor's step) or its restart with the old config (after
	 * that step's undo); one plugged unplugged before that undo. */
	if (s->kind == UNDO_UNPLUG || s->kind == UNDO_PLUG) {
		if (hotplug_undo(u->dir, u->p->o, u->p->n, s, step, sizeof(step), err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "multivm: apply: cannot undo '%s': %s\n", step, err);
		return -1;
	}
	if (s->kind == UNDO_LINK) {
		ends(u->p->n, s->arg, name, nic);
		if (link_set_imp(u->dir, name[0], nic[0], name[1], nic[1], u->p->link[s->arg], was[s->arg], back, err,
				 sizeof(err)) == 0)
			return 0;
		link_words(step, sizeof(step), u->p->n, s->arg);
		fprintf(stderr, "multivm: apply: cannot undo '%s': %s\n", step, err);
		return -1;
	}
	/* The supervisor's part: the old config handed back is its inverse
	 * (the VMs added removed, those removed started again, links handed
	 * back or dropped); then the old VMs up again. */
	for (i = 0; i < u->p->o->nvms; i++)
		undo_before[i] = snapshot_status(u->dir, &snap) < 0 ? 0 : vmm_pid(u->p->o->vm[i].name);
	if (ask_supervisor(u->dir, u->sup, u->old_name, u->old_text, u->p->o, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: apply: cannot undo the VMs and links added and removed: %s\n", err);
		return -1;
	}
	for (i = 0; i < u->p->o->nvms; i++)
		if (a.failed[i])
			fprintf(stderr, "multivm: apply: undoing: %s's running VMM did not take its old links back: "
				"restarted with them (its guest stays)\n", u->p->o->vm[i].name);
	if (wait_up(u->dir, u->p->o, u->keep, u->reboot, a.restart, undo_before, step, sizeof(step), why, sizeof(why)) < 0) {
		fprintf(stderr, "multivm: apply: cannot undo the VMs and links added and removed: '%s': %s\n", step,
			why);
		return -1;
	}
	if (u->p->wires)	/* sockets of NICs their VMMs no longer serve */
		hotplug_remove_sockets(u->dir, u->p->n, u->p->o);
	return 0;
}

/* Undoes the steps done; says whether the system runs its old
 * configuration again. */
static void undo_all(struct undo_list *ul, const struct undoing *u)
{
	if (!ul->n)
		fprintf(stderr, "multivm: apply: nothing was done before it; the system runs its old configuration\n");
	else if (undo_run(ul, undo_step, (void *)u) == 0)
		fprintf(stderr, "multivm: apply: the steps done before it are undone; the system runs its "
			"old configuration\n");
	else
		fprintf(stderr, "multivm: apply: not every step done could be undone (above): see `multivm status` "
			"and `multivm config`\n");
}

int cmd_apply(const char *dir, int argc, char **argv)
{
	static struct run_plan np;
	static struct config old, cur;
	static char text[CFG_TEXT_MAX], name[PATH_MAX];
	static struct plan p;
	static struct grow g;
	static long before[MV_NODES_MAX];
	static struct answer a;
	static struct undo_list ul;
	struct undoing u;
	pid_t sup = state_supervisor(dir);
	unsigned i;
	char err[600], run_path[STATE_PATH_MAX], step[CFG_CHANGE_LINE_MAX], why[600];
	bool dry = false;
	const char *host = NULL;
	enum preflight_result r;
	int lock = -1, rc = APPLY_FAILED, k;
	long long t0 = qmp_now_ms();	/* apply's start: a plugged NIC's time counts from it */

	/* [--dry-run] [--host HOST] CONFIG, the options in any order */
	for (k = 1; k < argc - 1; k++) {
		if (!strcmp(argv[k], "--dry-run") && !dry)
			dry = true;
		else if (!strcmp(argv[k], "--host") && !host && k + 1 < argc - 1)
			host = argv[++k];
		else
			break;
	}
	if (argc < 2 || k != argc - 1 || argv[argc - 1][0] == '-') {
		fprintf(stderr, "usage: multivm apply [--dry-run] [--host HOST] CONFIG\n");
		return APPLY_USAGE;
	}
	if (!sup)
		return not_running(dir);
	r = preflight_apply(&np, dir, argv[argc - 1], host, preflight_real_host(), err, sizeof(err));
	if (r != PREFLIGHT_OK) {
		fprintf(stderr, "multivm: %s\n", err);
		return r == PREFLIGHT_BAD_CONFIG ? APPLY_USAGE : APPLY_FAILED;
	}
	/* One apply at a time: it reads the running configuration, changes the
	 * system and writes the new one under this lock. */
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, dry ? LOCK_SH : LOCK_EX) < 0) {
		fprintf(stderr, "multivm: apply: cannot lock %s: %s\n", dir, strerror(errno));
		goto out;
	}
	/* Both read as from their files' absolute names: a relative path
	 * (image = disk.qcow2) is the same path whatever directory apply or
	 * run were started in. */
	if (read_running(dir, SF_RUN_NAME, name, sizeof(name)) < 0 || read_running(dir, SF_RUN, text, sizeof(text)) < 0)
		goto out;
	if (config_load_string(&old, text, name, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: the running configuration does not read back: %s\n", err);
		goto out;
	}
	if (config_load_string(&cur, np.text, np.abspath, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: %s\n", err);	/* a path too long from its absolute name */
		rc = APPLY_USAGE;
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.o = &old;
	p.n = &cur;
	config_diff(&old, &cur, take, &p);
	if (!p.lines) {
		printf("nothing to change\n");
		rc = APPLY_OK;
		goto out;
	}
	if (fflush(stdout) == EOF || dry) {
		rc = dry ? APPLY_OK : APPLY_FAILED;
		goto out;
	}
	if (p.other) {
		fprintf(stderr, "multivm: apply: nothing done: at run time VMs and links are added and removed, "
			"a VM rebooted for its guest's settings, moved to its cpuset or its overlay kept (persist), "
			"and a link's settings changed (multivm(8)); '%s'", p.first_other);
		if (p.other > 1)
			fprintf(stderr, " and %u more change%s", p.other - 1, p.other > 2 ? "s" : "");
		fprintf(stderr, " need `multivm stop` and `multivm run %s%s%s%s`\n", host ? "--host " : "",
			host ? host : "", host ? " " : "", argv[argc - 1]);
		goto out;
	}
	if (p.grow && grow_plan(&old, &cur, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: apply: nothing done: %s\n", err);
		goto out;
	}
	if (p.grow && fit_check_more(&old, &cur, !np.no_guests, "/proc/meminfo", err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: apply: nothing done: %s\n", err);
		goto out;
	}
	/* The steps, each pushed on the undo list once done: the links'
	 * settings, each wire NIC unplugged, the supervisor's part, each wire
	 * NIC plugged; a failed step undoes them, the last first. */
	u = (struct undoing){ .dir = dir, .sup = sup, .p = &p, .old_name = name, .old_text = text,
			      .keep = old.nvms < cur.nvms ? old.nvms : cur.nvms, .reboot = g.reboot };
	ul.n = 0;
	for (i = 0; p.grow && i < old.nvms; i++)
		before[i] = snapshot_status(dir, &snap) < 0 ? 0 : vmm_pid(old.vm[i].name);
	for (i = 0; i < cur.nlinks; i++)
		if ((p.link[i][0] || p.link[i][1]) && set_link(dir, &p, i, &ul) < 0)
			goto undo;
	/* Wire NICs that go leave their guests before their VMMs drop them (or restart). */
	if (p.wires && hotplug_unplug_gone(dir, &old, &cur, &ul, step, sizeof(step), err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: apply: step '%s' failed: %s\n", step, err);
		goto undo;
	}
	if (p.grow) {
		if (ask_supervisor(dir, sup, np.abspath, np.text, &cur, &a, err, sizeof(err)) < 0) {
			fprintf(stderr, "multivm: apply: step 'VMs and links added and removed' failed: %s\n", err);
			goto undo;
		}
		undo_push(&ul, UNDO_SUPERVISOR, 0);
		/* The supervisor keeps the new config as STATE/run (the old
		 * one again when undone). */
		for (i = 0; i < g.first_gone; i++)
			if (a.failed[i]) {
				fprintf(stderr, "multivm: apply: step 'hand %s's running VMM its links' failed: it refused "
					"them or exited (see %s/%s.vmm.log)\n", cur.vm[i].name, dir, cur.vm[i].name);
				goto undo;
			}
		if (wait_up(dir, &cur, g.first_new, g.reboot, a.restart, before, step, sizeof(step), why, sizeof(why)) < 0) {
			fprintf(stderr, "multivm: apply: step '%s' failed: %s\n", step, why);
			goto undo;
		}
		if (p.wires)	/* sockets of NICs their VMMs no longer serve */
			hotplug_remove_sockets(dir, &old, &cur);
		/* Those that come, once their VMMs serve them (handed over, or restarted). */
		if (p.wires && hotplug_plug_new(dir, &old, &cur, t0, &ul, step, sizeof(step), err, sizeof(err)) < 0) {
			fprintf(stderr, "multivm: apply: step '%s' failed: %s\n", step, err);
			goto undo;
		}
	} else if (state_write_run(dir, np.abspath, np.text) < 0) {
		state_file(run_path, dir, NULL, SF_RUN);
		fprintf(stderr, "multivm: apply: step 'write %s' failed: %s\n", run_path, strerror(errno));
		goto undo;
	}
	rc = APPLY_OK;
	printf("applied %u change%s\n", p.lines, p.lines == 1 ? "" : "s");
	goto out;
undo:
	undo_all(&ul, &u);
out:
	if (lock >= 0)
		close(lock);
	return rc;
}
