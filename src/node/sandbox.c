#include "node/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

/* What every node needs once set up: its event loop, doorbells, logging,
 * the allocator. Each kind adds its own (node.h: struct node_kind_ops);
 * why each is here: docs/sandbox.md. */
static const struct sandbox_rule common[] = {
	SANDBOX_ANY(read),		/* the signalfd */
	SANDBOX_ANY(write),		/* doorbells and interrupts; log lines */
	SANDBOX_ANY(writev),		/* log lines (stdio) */
	SANDBOX_ANY(close),		/* fds that are replaced or refused */
	SANDBOX_ANY(epoll_wait),	/* the event loop */
	SANDBOX_ANY(epoll_pwait),	/* the same, as the C library may call it */
	SANDBOX_ANY(epoll_pwait2),	/* the same with a timeout in ns: a delayed frame leaves when due */
	SANDBOX_ANY(epoll_ctl),		/* fds come and go (kicks, connections) */
	SANDBOX_ANY(sched_yield),	/* out of work: let the core's other nodes run first */
	SANDBOX_NO_EXEC(mmap),		/* guest memory; the allocator: never executable */
	SANDBOX_ANY(munmap),		/* guest memory replaced or dropped */
	SANDBOX_ANY(madvise),		/* the allocator giving memory back */
	SANDBOX_ANY(brk),		/* the allocator */
	SANDBOX_ANY(clock_gettime),	/* busy time, log and capture timestamps (vDSO mostly) */
	SANDBOX_ANY(gettimeofday),	/* the same */
	SANDBOX_ANY(rt_sigreturn),	/* signal delivery */
	SANDBOX_ANY(rt_sigprocmask),	/* signal delivery */
	SANDBOX_ANY(exit),		/* stopping */
	SANDBOX_ANY(exit_group),	/* stopping */
};

#ifdef __SANITIZE_ADDRESS__
/* Test builds only: what the ASan/UBSan runtime itself calls. */
static const struct sandbox_rule sanitizer_runtime[] = {
	SANDBOX_ANY(sigaltstack), SANDBOX_ANY(futex), SANDBOX_ANY(getpid), SANDBOX_ANY(gettid),
	SANDBOX_ANY(tgkill), SANDBOX_ANY(rt_sigaction), SANDBOX_ANY(sched_yield), SANDBOX_NO_EXEC(mprotect),
};
static int sandboxed;

/* LeakSanitizer's exit-time scan needs ptrace and /proc, which the
 * sandbox refuses; the unit tests check for leaks instead. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return sandboxed;
}
#endif

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_rule *r, unsigned n)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		struct scmp_arg_cmp c = { (unsigned)r[i].arg, r[i].op, r[i].a, r[i].b };

		rc = r[i].arg < 0 ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0)
				  : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 1, c);
	}
	return rc;
}

int sandbox_drop_user(uid_t uid, gid_t gid)
{
	uid_t r, e, s;

	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Leaving uid 0 for good clears every capability; make sure it took. */
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
		return -EPERM;
	if (uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

int sandbox_enter(const struct sandbox_rule *extra, unsigned nextra)
{
	/* Refuse (EPERM) rather than kill: a refused call is an error the
	 * node reports; the filter is the same either way. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = add_rules(ctx, common, sizeof(common) / sizeof(common[0]));
	if (!rc)
		rc = add_rules(ctx, extra, nextra);
#ifdef __SANITIZE_ADDRESS__
	if (!rc)
		rc = add_rules(ctx, sanitizer_runtime, sizeof(sanitizer_runtime) / sizeof(sanitizer_runtime[0]));
	sandboxed = 1;
#endif
	if (!rc)
		rc = seccomp_load(ctx);	/* also sets no_new_privs */
	seccomp_release(ctx);
	return rc;
}
