/* One line of STATE/status, the seam between the supervisor (writes it)
 * and every `multivm status/stats/top` (reads it):
 *
 *     NAME state=up vmm=PID qemu=PID engine=tcg console=LOG log_bytes_dropped=N [agent=up|none] [guest=external|tunnel] [reason=...]
 *
 * (guest=tunnel: a [tunnel NAME], whose "vmm" is the tunnel process.)
 * A degraded VM says why: reason=vmm_not_running (its VMM is not serving)
 * or reason=vmm_unresponsive (it runs but its loop stopped passing).
 *
 * The reader is generic (NAME key=value ...) and trusts nothing: lines and
 * pairs are bounded, and a word without '=' after the first pair continues
 * the value before it (joined by one space), so a reason may hold spaces. */
#ifndef MULTIVM_STATUSLINE_H
#define MULTIVM_STATUSLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATUS_LINE_MAX  1024	/* longer lines keep their first words */
#define STATUS_PAIRS_MAX 32

/* What the supervisor knows of one VM. */
struct vm_status {
	const char *name;
	const char *state;		/* "degraded" when its VMM is not serving */
	pid_t vmm, qemu;		/* 0: none running */
	bool kvm, external, degraded;
	const char *reason;		/* why degraded, one word; NULL: "vmm_not_running" */
	bool tunnel;			/* a tunnel process, not a VM: guest=tunnel */
	const char *console_log;	/* "-": not ours */
	uint64_t log_bytes_dropped;
	const char *agent;		/* "up" once its guest agent answered, "none"; NULL: not ours */
};

/* One line as read back: name, keys and values NUL-terminated in buf. */
struct status_vm {
	char buf[STATUS_LINE_MAX];
	unsigned npairs;
	uint16_t key[STATUS_PAIRS_MAX], value[STATUS_PAIRS_MAX];	/* offsets in buf */
};

static inline const char *status_name(const struct status_vm *e) { return e->buf; }
static inline const char *status_key(const struct status_vm *e, unsigned i) { return e->buf + e->key[i]; }
static inline const char *status_value(const struct status_vm *e, unsigned i) { return e->buf + e->value[i]; }

/* The value of key in e, or NULL. */
const char *status_get(const struct status_vm *e, const char *key);

/* Writes v's line, '\n' included, into out[size]; its length, or -ENOSPC
 * (out then holds "") or -EINVAL (a name or value that would not read back
 * as written: empty, or with a blank or '=' where it cannot be). */
int status_line_format(char *out, size_t size, const struct vm_status *v);

/* Splits one line into e; -EINVAL if it has no name or the name is longer
 * than a VM name can be. */
int status_parse_line(const char *line, struct status_vm *e);

#endif
