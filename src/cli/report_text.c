#include "cli/report.h"

#include <errno.h>

static int done(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

/* " state=up delay_us=0 ..." */
static void settings(FILE *f, const struct link_imp *imp)
{
	unsigned k;

	for (k = 0; k < LSET__N; k++) {
		const struct setting_desc *d = &link_setting_desc[k];
		uint64_t v = snapshot_setting(imp, k);

		if (d->words)
			fprintf(f, " %s=%s", d->key, d->words[v]);
		else
			fprintf(f, " %s=%llu", d->key, (unsigned long long)v);
	}
}

int report_status_text(FILE *f, const struct snapshot *s)
{
	char name[2 * (MV_NAME_MAX + MV_IFNAME_MAX) + 4];
	unsigned i, k;

	for (i = 0; i < s->nvms; i++) {
		const struct status_vm *e = &s->status[i];

		fputs(status_name(e), f);
		for (k = 0; k < e->npairs; k++)
			fprintf(f, " %s=%s", status_key(e, k), status_value(e, k));
		fputc('\n', f);
	}
	for (i = 0; i < s->ndirs; i++) {
		fprintf(f, "link %s", snapshot_dir_name(s, &s->dir[i], name, sizeof(name)));
		settings(f, &s->dir[i].imp);
		fputc('\n', f);
	}
	return done(f);
}

static void drops(FILE *f, const uint64_t *d)
{
	int r;

	for (r = 0; r < DROP__MAX; r++)
		fprintf(f, " drop_%s=%llu", drop_reason_name(r), (unsigned long long)d[r]);
}

/* key=value for each counter, drops by reason before counter drops_before. */
static void counters(FILE *f, const struct counter_desc *d, unsigned n, unsigned drops_before,
		     const uint64_t *c, const uint64_t *drop)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		if (k == drops_before)
			drops(f, drop);
		fprintf(f, " %s=%llu", d[k].key, (unsigned long long)c[k]);
	}
}

int report_stats_text(FILE *f, const struct snapshot *s)
{
	unsigned i;

	for (i = 0; i < s->nvms; i++) {
		fprintf(f, "vm %s", s->vm[i].name);
		counters(f, vm_counter_desc, VM__N, VM_DROPS_BEFORE, s->vm[i].c, s->vm[i].drop);
		fputc('\n', f);
	}
	for (i = 0; i < s->nlinks; i++) {
		const struct snap_link *l = &s->link[i];

		char name[2 * (MV_NAME_MAX + MV_IFNAME_MAX) + 4];

		fprintf(f, "link %s", snapshot_link_name(s, l, name, sizeof(name)));
		counters(f, link_counter_desc, LINK__N, LINK_DROPS_BEFORE, l->c, l->drop);
		if (l->dir >= 0)
			settings(f, &s->dir[l->dir].imp);
		fputc('\n', f);
	}
	return done(f);
}
