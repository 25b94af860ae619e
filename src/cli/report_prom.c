#include "cli/report.h"

#include <errno.h>

void prom_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* HELP and TYPE of one family; help texts hold no backslash or newline. */
static void family(FILE *f, const char *scope, const char *metric, const char *help, bool gauge)
{
	fprintf(f, "# HELP multivm_%s_%s %s\n", scope, metric, help);
	fprintf(f, "# TYPE multivm_%s_%s %s\n", scope, metric, gauge ? "gauge" : "counter");
}

/* One sample: multivm_SCOPE_METRIC{vm="A"} or {from="A",to="B"} (with
 * from_nic and to_nic for a wire, when nic_a or nic_b is not empty), and
 * an optional label lname="lval" (reason="..."). */
static void sample_label(FILE *f, const char *scope, const char *metric, const char *a, const char *b,
			 const char *nic_a, const char *nic_b, const char *lname, const char *lval,
			 unsigned long long v)
{
	fprintf(f, "multivm_%s_%s{%s=\"", scope, metric, b ? "from" : "vm");
	prom_label(f, a);
	if (b) {
		fputs("\",to=\"", f);
		prom_label(f, b);
	}
	if (nic_a && nic_b && (nic_a[0] || nic_b[0])) {
		fputs("\",from_nic=\"", f);
		prom_label(f, nic_a);
		fputs("\",to_nic=\"", f);
		prom_label(f, nic_b);
	}
	if (lname) {
		fprintf(f, "\",%s=\"", lname);
		prom_label(f, lval);
	}
	fprintf(f, "\"} %llu\n", v);
}

static void sample_nic(FILE *f, const char *scope, const char *metric, const char *a, const char *b,
		       const struct snap_link *l, const char *reason, unsigned long long v)
{
	sample_label(f, scope, metric, a, b, l ? l->from_nic : NULL, l ? l->to_nic : NULL, reason ? "reason" : NULL,
		     reason, v);
}

static void sample(FILE *f, const char *scope, const char *metric, const char *a, const char *b,
		   const char *reason, unsigned long long v)
{
	sample_nic(f, scope, metric, a, b, NULL, reason, v);
}

static void vms(FILE *f, const struct snapshot *s)
{
	unsigned k, i;
	int r;

	for (k = 0; k < VM__N; k++) {
		const struct counter_desc *d = &vm_counter_desc[k];

		family(f, "vm", d->metric, d->help, d->gauge);
		for (i = 0; i < s->nvms; i++)
			if (s->vm[i].valid)
				sample(f, "vm", d->metric, s->vm[i].name, NULL, NULL, s->vm[i].c[k]);
	}
	family(f, "vm", "drops_total", "Frames the VM's VMM dropped, by reason.", false);
	for (i = 0; i < s->nvms; i++)
		for (r = 0; s->vm[i].valid && r < DROP__MAX; r++)
			sample(f, "vm", "drops_total", s->vm[i].name, NULL, drop_reason_name(r), s->vm[i].drop[r]);
	family(f, "vm", "counters_valid", "1 when the VM's counters could be read.", true);
	for (i = 0; i < s->nvms; i++)
		sample(f, "vm", "counters_valid", s->vm[i].name, NULL, NULL, s->vm[i].valid);
}

static void links(FILE *f, const struct snapshot *s)
{
	unsigned k, i;
	int r;

	for (k = 0; k < LINK__N; k++) {
		const struct counter_desc *d = &link_counter_desc[k];

		family(f, "link", d->metric, d->help, d->gauge);
		for (i = 0; i < s->nlinks; i++) {
			const struct snap_link *l = &s->link[i];

			if (l->peer_valid || !d->needs_peer)
				sample_nic(f, "link", d->metric, s->vm[l->from].name, s->vm[l->to].name, l, NULL,
					   l->c[k]);
		}
	}
	family(f, "link", "drops_total", "Frames for the link that the sending VMM dropped, by reason.", false);
	for (i = 0; i < s->nlinks; i++)
		for (r = 0; r < DROP__MAX; r++)
			sample_nic(f, "link", "drops_total", s->vm[s->link[i].from].name, s->vm[s->link[i].to].name,
				   &s->link[i], drop_reason_name(r), s->link[i].drop[r]);
}

/* Each link direction's settings: a gauge per number; a word setting as
 * one series per word it may take, labelled with its key, 1 for the one
 * in force (a state set). */
static void settings(FILE *f, const struct snapshot *s)
{
	unsigned k, i, w;

	for (k = 0; k < LSET__N; k++) {
		const struct setting_desc *d = &link_setting_desc[k];

		family(f, "link", d->metric, d->help, true);
		for (i = 0; i < s->nlinks; i++) {
			const struct snap_link *l = &s->link[i];
			const char *a = s->vm[l->from].name, *b = s->vm[l->to].name;
			uint64_t v;

			if (l->dir < 0)
				continue;
			v = snapshot_setting(&s->dir[l->dir].imp, k);
			if (!d->words)
				sample_label(f, "link", d->metric, a, b, l->from_nic, l->to_nic, NULL, NULL, v);
			for (w = 0; d->words && d->words[w]; w++)
				sample_label(f, "link", d->metric, a, b, l->from_nic, l->to_nic, d->key, d->words[w],
					     v == w);
		}
	}
}

int report_stats_prom(FILE *f, const struct snapshot *s)
{
	vms(f, s);
	links(f, s);
	settings(f, s);
	return ferror(f) ? -EIO : 0;
}
