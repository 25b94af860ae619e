/* multivm config, multivm apply: see apply.h and multivm(8). */
#include "cli/apply.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/link.h"
#include "config/diff.h"
#include "config/text.h"
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

struct plan {
	const struct config *o, *n;
	unsigned lines, other;		/* changes; those not done at run time */
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

/* The settings of the plan's links, one link a step; a failed step
 * undoes the ones done, last first. 0, or -1 (said). */
static int carry_out(const char *dir, const struct plan *p)
{
	static struct link_imp was[MV_LINKS_MAX][2];
	static unsigned done[MV_LINKS_MAX];
	char err[400], step[CFG_CHANGE_LINE_MAX];
	const char *name[2], *nic[2];
	unsigned i, n = 0;
	struct link_imp back[2];
	int rc;

	for (i = 0; i < p->n->nlinks; i++) {
		if (!p->link[i][0] && !p->link[i][1])
			continue;
		ends(p->n, i, name, nic);
		rc = link_set_imp(dir, name[0], nic[0], name[1], nic[1], p->link[i], p->n->link[i].imp, was[i], err,
				  sizeof(err));
		if (rc == 0) {
			done[n++] = i;
			continue;
		}
		link_words(step, sizeof(step), p->n, i);
		fprintf(stderr, "multivm: apply: step '%s' failed: %s\n", step, err);
		if (rc == -2)
			done[n++] = i;	/* written before its carrier failed: undone too */
		while (n--) {
			ends(p->n, done[n], name, nic);
			if (link_set_imp(dir, name[0], nic[0], name[1], nic[1], p->link[done[n]], was[done[n]], back,
					 err, sizeof(err)) < 0) {
				link_words(step, sizeof(step), p->n, done[n]);
				fprintf(stderr, "multivm: apply: cannot undo '%s': %s\n", step, err);
			}
		}
		fprintf(stderr, "multivm: apply: the steps done before it are undone; the system runs its "
			"old configuration\n");
		return -1;
	}
	return 0;
}

int cmd_apply(const char *dir, int argc, char **argv)
{
	static struct run_plan np;
	static struct config old, cur;
	static char text[CFG_TEXT_MAX], name[PATH_MAX];
	static struct plan p;
	char err[600], run_path[STATE_PATH_MAX];
	bool dry = argc == 3 && !strcmp(argv[1], "--dry-run");
	enum preflight_result r;
	int lock = -1, rc = APPLY_FAILED;

	if (argc != 2 + dry || argv[argc - 1][0] == '-') {
		fprintf(stderr, "usage: multivm apply [--dry-run] CONFIG\n");
		return APPLY_USAGE;
	}
	if (!state_supervisor(dir))
		return not_running(dir);
	r = preflight_apply(&np, dir, argv[argc - 1], preflight_real_host(), err, sizeof(err));
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
		fprintf(stderr, "multivm: apply: nothing done: only a link's settings (~ link) change at run time; "
			"'%s'", p.first_other);
		if (p.other > 1)
			fprintf(stderr, " and %u more change%s", p.other - 1, p.other > 2 ? "s" : "");
		fprintf(stderr, " need `multivm stop` and `multivm run %s`\n", argv[argc - 1]);
		goto out;
	}
	if (carry_out(dir, &p) < 0)
		goto out;
	if (state_write_run(dir, np.abspath, np.text) < 0 || state_file(run_path, dir, NULL, SF_RUN) < 0)
		fprintf(stderr, "multivm: apply: done, but %s not written: `multivm config` shows the old "
			"configuration\n", run_path);
	else
		rc = APPLY_OK;
	printf("applied %u change%s\n", p.lines, p.lines == 1 ? "" : "s");
out:
	if (lock >= 0)
		close(lock);
	return rc;
}
