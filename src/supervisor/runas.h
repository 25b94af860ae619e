/* Who the VMMs, tunnels and QEMUs run as. Started by root, each node (a
 * VM's VMM, or a tunnel) and each VM's QEMU get a uid and gid of their own
 * from [system] uid_range, so no process of one may signal, trace or
 * limit a process of another, and a VM's sockets are its own QEMU's.
 * The range is cut in slots of two ids (gid = uid): START + 2s for a
 * node, START + 2s + 1 for its QEMU. Each node takes the first free slot
 * in config order (alone, node i has slot i): free is no running process
 * with either id and no other supervisor holding the slot's lock
 * (DIR/multivm-uid-ID.lock, flock, held while this process and its
 * detached child live), so systems started at once on one range get
 * different ids. `[system] user = root` keeps root. Started by anyone
 * else, they all stay that user. */
#ifndef MULTIVM_RUNAS_H
#define MULTIVM_RUNAS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

struct ident {
	uid_t uid;
	gid_t gid;
};

/* Who may connect to a VM's vhost-user sockets: its socket files are
 * uid:gid's, and the VMM refuses any other peer (SO_PEERCRED; root is
 * always let in). group: mode 0660 and a peer in group gid is let in
 * too (guest = external with frontend_group, or by default the group
 * of [system] user). */
struct frontend {
	struct ident id;
	bool group;
};

struct runas {
	bool drop;		/* false: children keep our uid */
	const char *name;	/* [system] user */
	struct ident node[MV_NODES_MAX];	/* by config index: the VMM or tunnel */
	struct ident qemu[MV_NODES_MAX];	/* its QEMU (multivm's own guest) */
	struct frontend front[MV_NODES_MAX];
	int lock_fd[MV_NODES_MAX];	/* the slots' locks, held; -1: none */
	gid_t user_gid;		/* [system] user's group */
	/* A QEMU identity, for checks of what every QEMU can read (no file
	 * is any of theirs, no group theirs: one stands for all). */
	uid_t uid;
	gid_t gid;
};

#define RUNAS_LOCK_DIR	"/run/multivm-ids"	/* root's (not /run/lock: anyone could hold a slot there) */
#define RUNAS_SLOTS_MAX	4096			/* slots looked at: the first 8192 ids of a range */

/* 0, or -1 with err naming the file, line and key: no such user, a range
 * too small for the system, one holding an account's uid or gid, or one
 * that a running process already uses. */
int runas_resolve(const struct config *c, struct runas *r, char *err, size_t errlen);
/* The same, with the process table in proc and the locks in lockdir. */
int runas_resolve_in(const struct config *c, struct runas *r, const char *proc, const char *lockdir, char *err,
		     size_t errlen);
/* For `multivm check`: the same checks, no slots taken (node i: slot i). */
int runas_resolve_check(const struct config *c, struct runas *r, char *err, size_t errlen);
/* apply: identities for nodes from..c->nvms - 1, added to c after the
 * ones r has (as runas_resolve; refused whole when the range has no room). */
int runas_extend(const struct config *c, struct runas *r, unsigned from, char *err, size_t errlen);
/* Lets the slots go (the supervisor never does: its exit does). */
void runas_release(struct runas *r);

/* What runas_resolve checks of a range, apart: the first id of
 * [first, last] that /etc/passwd (or /etc/group, NSS) gives an account,
 * with its name in who; 0 when none. */
uint32_t runas_range_account(uint32_t first, uint32_t last, char *who, size_t wholen);
/* Marks in busy (bit s: slot s) the slots of [first, first + 2 * nslots)
 * that a process (scanning proc, e.g. "/proc") has as its real,
 * effective, saved or filesystem uid. */
void runas_slots_busy(const char *proc, uint32_t first, unsigned nslots, uint64_t *busy);

#endif
