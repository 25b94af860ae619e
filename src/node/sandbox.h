/* A node's seccomp allow-list (libseccomp), entered once set-up is done:
 * the calls every node needs (its event loop, doorbells, logging, the
 * allocator) plus those its kind adds; exec, opening files and new
 * connections stay refused. docs/sandbox.md says why each call is there. */
#ifndef MULTIVM_SANDBOX_H
#define MULTIVM_SANDBOX_H

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/types.h>

/* A system call the steady state needs, with at most one condition on
 * one argument (arg < 0: none). */
struct sandbox_rule {
	int nr;
	int arg;
	enum scmp_compare op;
	scmp_datum_t a, b;	/* as in struct scmp_arg_cmp */
};

#define SANDBOX_ANY(name)		{ SCMP_SYS(name), -1, 0, 0, 0 }
#define SANDBOX_NO_EXEC(name)		{ SCMP_SYS(name), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 }
#define SANDBOX_ARG_IS(name, i, v)	{ SCMP_SYS(name), i, SCMP_CMP_EQ, v, 0 }

/* Becomes uid:gid for good (no supplementary groups, no capabilities
 * left): for a node started by root. 0, or -errno. */
int sandbox_drop_user(uid_t uid, gid_t gid);

/* Loads the common allow-list plus extra[0..nextra). Returns 0, or
 * -errno if the filter could not be loaded. */
int sandbox_enter(const struct sandbox_rule *extra, unsigned nextra);

#endif
