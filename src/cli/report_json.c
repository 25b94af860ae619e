#include "cli/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of s. jansson takes only UTF-8: a value that is not (a
 * state directory named in another encoding) has its other bytes shown
 * as '?' rather than failing the whole document. */
static json_t *text(const char *s)
{
	char copy[STATUS_LINE_MAX];
	size_t i;
	json_t *j = json_string(s);

	if (j)
		return j;
	snprintf(copy, sizeof(copy), "%s", s);
	for (i = 0; copy[i]; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	return json_string(copy);
}

/* A status value: a JSON number when it is a plain decimal count (no sign,
 * no leading zero) that fits, else a string. */
static json_t *value(const char *v)
{
	size_t n = strspn(v, "0123456789");
	long long x;

	if (n == 0 || v[n] || (v[0] == '0' && n > 1))
		return text(v);
	errno = 0;
	x = strtoll(v, NULL, 10);
	if (errno == ERANGE)
		return text(v);
	return json_integer(x);
}

/* Adds key: val to obj; a failure (NULL val, no memory) sticks in *bad. */
static void put(json_t *obj, const char *key, json_t *val, int *bad)
{
	if (json_object_set_new(obj, key, val) < 0)
		*bad = 1;
}

static void append(json_t *arr, json_t *val, int *bad)
{
	if (json_array_append_new(arr, val) < 0)
		*bad = 1;
}

/* Writes root (stealing it) as one document and a newline. */
static int emit(FILE *f, json_t *root, int bad)
{
	int rc = 0;

	if (bad || !root)
		rc = -ENOMEM;
	else if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF || ferror(f))
		rc = -EIO;
	json_decref(root);
	return rc;
}

/* A link direction's ends, as in stats. */
static void ends(json_t *o, const struct snapshot *s, unsigned from, unsigned to, const char *from_nic,
		 const char *to_nic, int *bad)
{
	put(o, "from", text(s->vm[from].name), bad);
	put(o, "to", text(s->vm[to].name), bad);
	if (from_nic[0] || to_nic[0]) {	/* a wire's ends */
		put(o, "from_nic", text(from_nic), bad);
		put(o, "to_nic", text(to_nic), bad);
	}
}

/* Its settings, keyed as in the text: words as strings, numbers as numbers. */
static void settings(json_t *o, const struct link_imp *imp, int *bad)
{
	unsigned k;

	for (k = 0; k < LSET__N; k++) {
		const struct setting_desc *d = &link_setting_desc[k];
		uint64_t v = snapshot_setting(imp, k);

		put(o, d->key, d->words ? json_string(d->words[v]) : json_integer((json_int_t)v), bad);
	}
}

int report_status_json(FILE *f, const struct snapshot *s)
{
	json_t *root = json_object(), *vms = json_array(), *links = json_array();
	int bad = 0;
	unsigned i, k;

	for (i = 0; vms && i < s->nvms; i++) {
		const struct status_vm *e = &s->status[i];
		json_t *o = json_object();

		if (o) {
			put(o, "name", text(status_name(e)), &bad);
			for (k = 0; k < e->npairs; k++)
				if (strcmp(status_key(e, k), "name") != 0)
					put(o, status_key(e, k), value(status_value(e, k)), &bad);
		}
		append(vms, o, &bad);
	}
	for (i = 0; links && i < s->ndirs; i++) {
		const struct snap_dir *d = &s->dir[i];
		json_t *o = json_object();

		if (o) {
			ends(o, s, d->from, d->to, d->from_nic, d->to_nic, &bad);
			settings(o, &d->imp, &bad);
		}
		append(links, o, &bad);
	}
	if (root) {
		put(root, "vms", vms, &bad);
		put(root, "links", links, &bad);
	} else {
		json_decref(vms);
		json_decref(links);
	}
	return emit(f, root, bad);
}

/* The counters as key: number, drops by reason as "drops": {...} before
 * counter drops_before, in the order of the text output. */
static void counters(json_t *o, const struct counter_desc *d, unsigned n, unsigned drops_before,
		     const uint64_t *c, const uint64_t *drop, int *bad)
{
	unsigned k;
	int r;

	for (k = 0; k < n; k++) {
		if (k == drops_before) {
			json_t *dr = json_object();

			for (r = 0; dr && r < DROP__MAX; r++)
				put(dr, drop_reason_name(r), json_integer(drop[r]), bad);
			put(o, "drops", dr, bad);
		}
		put(o, d[k].key, json_integer(c[k]), bad);	/* c[k] <= INT64_MAX */
	}
}

int report_stats_json(FILE *f, const struct snapshot *s)
{
	json_t *root = json_object(), *vms = json_array(), *links = json_array();
	int bad = 0;
	unsigned i;

	for (i = 0; vms && i < s->nvms; i++) {
		json_t *o = json_object();

		if (o) {
			put(o, "name", text(s->vm[i].name), &bad);
			put(o, "valid", json_boolean(s->vm[i].valid), &bad);
			counters(o, vm_counter_desc, VM__N, VM_DROPS_BEFORE, s->vm[i].c, s->vm[i].drop, &bad);
		}
		append(vms, o, &bad);
	}
	for (i = 0; links && i < s->nlinks; i++) {
		const struct snap_link *l = &s->link[i];
		json_t *o = json_object();

		if (o) {
			ends(o, s, l->from, l->to, l->from_nic, l->to_nic, &bad);
			counters(o, link_counter_desc, LINK__N, LINK_DROPS_BEFORE, l->c, l->drop, &bad);
			if (l->dir >= 0)
				settings(o, &s->dir[l->dir].imp, &bad);
		}
		append(links, o, &bad);
	}
	if (root) {
		put(root, "vms", vms, &bad);
		put(root, "links", links, &bad);
	} else {
		json_decref(vms);
		json_decref(links);
	}
	return emit(f, root, bad);
}
