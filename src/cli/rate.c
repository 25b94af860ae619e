#include "cli/rate.h"

#include <string.h>

int rate_of(uint64_t prev, uint64_t cur, double secs, double *out)
{
	*out = 0;
	if (cur < prev || !(secs > 0))
		return -1;
	*out = (double)(cur - prev) / secs;
	return 0;
}

/* Rates of n counters and the drops; RATE_RESET if any went backwards. */
static enum rate_state row(const struct counter_desc *d, unsigned n, const uint64_t *pc, const uint64_t *cc,
			   const uint64_t *pd, const uint64_t *cd, double secs, double *rc, double *rd)
{
	enum rate_state st = secs > 0 ? RATE_OK : RATE_NEW;
	unsigned k;
	int r;

	for (k = 0; k < n; k++) {
		rc[k] = 0;
		if (!d[k].gauge && rate_of(pc[k], cc[k], secs, &rc[k]) < 0 && st == RATE_OK)
			st = RATE_RESET;
	}
	for (r = 0; r < DROP__MAX; r++)
		if (rate_of(pd[r], cd[r], secs, &rd[r]) < 0 && st == RATE_OK)
			st = RATE_RESET;
	if (st != RATE_OK) {	/* no half-known rows */
		memset(rc, 0, n * sizeof(*rc));
		memset(rd, 0, DROP__MAX * sizeof(*rd));
	}
	return st;
}

/* Link l of s (same ends, same NICs) in s2, or -1. */
static int find_link(const struct snapshot *s2, const struct snapshot *s, const struct snap_link *l)
{
	unsigned i;

	for (i = 0; i < s2->nlinks; i++) {
		const struct snap_link *o = &s2->link[i];

		if (strcmp(s2->vm[o->from].name, s->vm[l->from].name) == 0 &&
		    strcmp(s2->vm[o->to].name, s->vm[l->to].name) == 0 && strcmp(o->from_nic, l->from_nic) == 0 &&
		    strcmp(o->to_nic, l->to_nic) == 0)
			return i;
	}
	return -1;
}

void rates_compute(const struct snapshot *prev, const struct snapshot *cur, double secs, struct rates *r)
{
	unsigned i;

	r->secs = secs;
	for (i = 0; i < cur->nvms; i++) {
		const struct snap_vm *c = &cur->vm[i];
		int p = snapshot_vm(prev, c->name);
		struct vm_rate *v = &r->vm[i];

		memset(v, 0, sizeof(*v));
		if (!c->valid)
			v->state = RATE_INVALID;
		else if (p < 0 || !prev->vm[p].valid)
			v->state = RATE_NEW;
		else
			v->state = row(vm_counter_desc, VM__N, prev->vm[p].c, c->c, prev->vm[p].drop, c->drop, secs,
				       v->c, v->drop);
	}
	for (i = 0; i < cur->nlinks; i++) {
		const struct snap_link *c = &cur->link[i];
		int p = find_link(prev, cur, c);
		struct link_rate *l = &r->link[i];

		memset(l, 0, sizeof(*l));
		if (p < 0)
			l->state = RATE_NEW;
		else
			l->state = row(link_counter_desc, LINK__N, prev->link[p].c, c->c, prev->link[p].drop, c->drop,
				       secs, l->c, l->drop);
	}
}
