#include "common/statusline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/limits.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A name or key the reader gets back unchanged: one word, no '='. */
static bool one_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (is_space(*s) || *s == '=')
			return false;
	return true;
}

/* A value the reader gets back unchanged: words joined by single spaces
 * (a state directory may have them), none after the first holding '='. */
static bool a_value(const char *s)
{
	bool seen_blank = false;
	const char *p;

	if (!s || !*s)
		return false;
	for (p = s; *p; p++) {
		if (*p == ' ') {
			if (p == s || p[-1] == ' ' || !p[1])
				return false;	/* leading, doubled or trailing */
			seen_blank = true;
		} else if (is_space(*p) || (*p == '=' && seen_blank)) {
			return false;
		}
	}
	return true;
}

int status_line_format(char *out, size_t size, const struct vm_status *v)
{
	const char *reason = v->reason ? v->reason : "vmm_not_running";
	int n;

	if (size)
		out[0] = 0;
	if (!one_word(v->name) || strlen(v->name) >= MV_NAME_MAX ||
	    !a_value(v->state) || !a_value(v->console_log) || !one_word(reason) || (v->agent && !one_word(v->agent)))
		return -EINVAL;
	n = snprintf(out, size,
		     "%s state=%s vmm=%d qemu=%d engine=%s console=%s log_bytes_dropped=%llu%s%s%s%s%s\n",
		     v->name, v->degraded ? "degraded" : v->state, (int)v->vmm, (int)v->qemu,
		     v->kvm ? "kvm" : "tcg", v->console_log, (unsigned long long)v->log_bytes_dropped,
		     v->agent ? " agent=" : "", v->agent ? v->agent : "",
		     v->tunnel ? " guest=tunnel" : v->external ? " guest=external" : "",
		     v->degraded ? " reason=" : "", v->degraded ? reason : "");
	if (n < 0 || (size_t)n >= size || n >= STATUS_LINE_MAX) {
		if (size)
			out[0] = 0;
		return -ENOSPC;
	}
	return n;
}

const char *status_get(const struct status_vm *e, const char *key)
{
	unsigned i;

	for (i = 0; i < e->npairs; i++)
		if (strcmp(status_key(e, i), key) == 0)
			return status_value(e, i);
	return NULL;
}

int status_parse_line(const char *line, struct status_vm *e)
{
	const char *p = line;
	size_t used = 0;
	bool more = false;	/* a word without '=' continues the last value */

	e->npairs = 0;
	for (;;) {
		const char *w, *eq;
		size_t n, k;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		for (w = p; *p && !is_space(*p); p++)
			;
		n = p - w;
		if (used == 0) {	/* the name */
			if (n >= MV_NAME_MAX)
				return -EINVAL;
			memcpy(e->buf, w, n);
			e->buf[n] = 0;
			used = n + 1;
			continue;
		}
		if (used + n + 1 > sizeof(e->buf))
			break;	/* cannot happen for a line that fits buf; keep what fits */
		eq = memchr(w, '=', n);
		if (!eq) {
			if (more) {	/* "... reason=qemu exited" */
				e->buf[used - 1] = ' ';
				memcpy(e->buf + used, w, n);
				e->buf[used + n] = 0;
				used += n + 1;
			}
			continue;
		}
		k = eq - w;
		more = k > 0 && e->npairs < STATUS_PAIRS_MAX;
		if (!more)
			continue;	/* "=x", or too many pairs: dropped whole */
		memcpy(e->buf + used, w, n);
		e->buf[used + k] = 0;
		e->buf[used + n] = 0;
		e->key[e->npairs] = used;
		e->value[e->npairs] = used + k + 1;
		e->npairs++;
		used += n + 1;
	}
	return used ? 0 : -EINVAL;
}
