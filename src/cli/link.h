/* multivm link: a running system's link impairments and carrier (issue
 * 29), shown and changed in the nodes' control files, STATE/NAME.ctl
 * (common/linkctl.h), which each node polls; a wire's carrier through
 * QEMU's monitor (common/qmp.h).
 *
 *   multivm link [A-B|A->B] [show] [--json]
 *   multivm link A-B|A->B set KEY=VALUE...
 *   multivm link A-B|A->B reset | down | up
 *
 * A-B as capture takes it (cli/capture.h): two VMs (their link on the
 * segment), or a wire's two ends VM:IFNAME (a tunnel end by its name).
 * A-B is both directions, A->B the one. The words of set are validated
 * first, every one into copies (linkctl_set); only then are the files
 * written, each under an exclusive flock and the seqlock. */
#ifndef MULTIVM_CLI_LINK_H
#define MULTIVM_CLI_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"
#include "common/linkctl.h"

/* Exit statuses. */
#define LINKCMD_OK		0
#define LINKCMD_FAILED	1	/* not done: no system, unknown link, a file, QEMU */
#define LINKCMD_USAGE	2	/* bad arguments, or a word refused */

/* One node's control file, mapped read-write and locked (exclusive). */
struct link_file {
	char name[MV_NAME_MAX];
	int fd;
	struct linkctl *map;
};

/* Opens DIR/NAME.ctl: a regular file of at least sizeof(struct linkctl),
 * ours (magic, version, nlinks), mapped shared, flock(LOCK_EX) held
 * until link_file_close. 0, or -1 with err set. */
int link_file_open(struct link_file *f, const char *dir, const char *name, char *err, size_t errlen);
void link_file_close(struct link_file *f);

/* The entries of the link between node fa's NIC nic_a and node fb's
 * nic_b ("" for the segment, or a tunnel's end). A direction is in its
 * receiver's file: e[0], a->b, in fb; e[1], b->a, in fa; -1 where a file
 * has none. 0 if both exist, else -1 with err naming what is missing. */
int link_find(const struct link_file *fa, const char *nic_a, const struct link_file *fb, const char *nic_b,
	      int e[2], char *err, size_t errlen);

enum link_op { LINKOP_SET, LINKOP_RESET, LINKOP_DOWN, LINKOP_UP };

/* Changes direction d (0: a->b, 1: b->a; in f[d]'s entry e[d], f[d] the
 * file of the direction's receiver) for each dir[d]: LINKOP_SET applies words[0..n) (KEY=VALUE, each
 * linkctl_set), LINKOP_RESET clears every impairment and keeps the state
 * (up or down), LINKOP_DOWN/UP set the state. Every word is checked for
 * every direction before anything is written; a refusal leaves the files
 * as they were. 0, or -1 with err set. */
int link_change(struct link_file *const f[2], const int e[2], const bool dir[2], enum link_op op,
		char *const *words, int n, char *err, size_t errlen);

/* Sets the directions which[] of the link between node a's NIC nic_a and
 * node b's nic_b ("" for the segment) to want[0] (a->b), want[1] (b->a),
 * each in its receiver's file under its lock, and tells a wire's QEMUs a
 * carrier that changed. was gets what both held (to undo with). 0; -1
 * with err set, nothing written; -2 with err set: written, but a QEMU was
 * not told its carrier. */
int link_set_imp(const char *dir, const char *a, const char *nic_a, const char *b, const char *nic_b,
		 const bool which[2], const struct link_imp want[2], struct link_imp was[2], char *err, size_t errlen);

/* The command; argv[0] is "link". */
int cmd_link(const char *dir, int argc, char **argv);

#endif
