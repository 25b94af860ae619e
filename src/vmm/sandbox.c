#include "vmm/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

/* A system call the steady state needs, with at most one condition on
 * one argument (arg < 0: none). Why each is here: docs/sandbox.md. */
struct rule {
	int nr;
	int arg;
	enum scmp_compare op;
	scmp_datum_t a, b;	/* as in struct scmp_arg_cmp */
};

#define ANY(name)		{ SCMP_SYS(name), -1, 0, 0, 0 }
#define NO_EXEC(name)		{ SCMP_SYS(name), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 }
#define ARG_IS(name, i, v)	{ SCMP_SYS(name), i, SCMP_CMP_EQ, v, 0 }

static const struct rule allowed[] = {
	ANY(read),		/* the signalfd */
	ANY(write),		/* doorbells and guest interrupts; log lines */
	ANY(writev),		/* log lines (stdio) */
	ANY(close),		/* fds the frontend replaces or that we refuse */
	ANY(recvmsg),		/* vhost-user messages and the fds they carry */
	ANY(sendmsg),		/* vhost-user replies */
	ANY(recvfrom),		/* recv() on the vhost-user socket */
	ANY(sendto),		/* send() on the vhost-user socket */
	ANY(accept4),		/* a restarted frontend reconnecting */
	ANY(epoll_wait),	/* the event loop */
	ANY(epoll_pwait),	/* the same, as the C library may call it */
	ANY(epoll_ctl),		/* kick fds come and go with messages */
	ANY(sched_yield),	/* out of work: let the core's other VMMs run first */
	NO_EXEC(mmap),		/* guest memory; the allocator: never executable */
	ANY(munmap),		/* guest memory replaced or dropped */
	ANY(madvise),		/* the allocator giving memory back */
	ANY(brk),		/* the allocator */
	ANY(fstat),		/* size of a guest memory file (fd only, no path) */
	ARG_IS(fcntl, 1, F_GET_SEALS),	/* is guest memory sealed? */
	ARG_IS(fcntl, 1, F_ADD_SEALS),	/* seal it against shrinking */
	ANY(clock_gettime),	/* log and capture timestamps, capture leases (vDSO mostly) */
	ANY(gettimeofday),	/* the same */
	ANY(rt_sigreturn),	/* signal delivery */
	ANY(rt_sigprocmask),	/* signal delivery */
	ANY(exit),		/* stopping */
	ANY(exit_group),	/* stopping */
};

/* The tunnel process (src/tunnel/) also moves datagrams in batches on
 * the UDP socket it bound before entering. */
static const struct rule datagrams[] = {
	ANY(recvmmsg),		/* datagrams from the network, a batch per call */
	ANY(sendmmsg),		/* datagrams to the remote, a batch per call */
};

#ifdef __SANITIZE_ADDRESS__
/* Test builds only: what the ASan/UBSan runtime itself calls. */
static const struct rule sanitizer_runtime[] = {
	ANY(sigaltstack), ANY(futex), ANY(getpid), ANY(gettid), ANY(tgkill),
	ANY(rt_sigaction), ANY(sched_yield), NO_EXEC(mprotect),
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

static int add_rules(scmp_filter_ctx ctx, const struct rule *r, unsigned n)
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

static int enter(bool with_datagrams)
{
	/* Refuse (EPERM) rather than kill: a refused call is an error the
	 * VMM reports; the filter is the same either way. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = add_rules(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (!rc && with_datagrams)
		rc = add_rules(ctx, datagrams, sizeof(datagrams) / sizeof(datagrams[0]));
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

int sandbox_enter(void)
{
	return enter(false);
}

int sandbox_enter_datagrams(void)
{
	return enter(true);
}
