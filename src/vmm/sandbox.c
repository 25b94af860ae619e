#include "vmm/sandbox.h"

#include <errno.h>
#include <seccomp.h>

/* Everything the VMM's steady state needs; see docs/sandbox.md. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(preadv2),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(accept4),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef __SANITIZE_ADDRESS__
/* Test builds only: what the ASan/UBSan runtime itself calls. */
static const int sanitizer_runtime[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(futex), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction), SCMP_SYS(sched_yield), SCMP_SYS(mprotect),
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

int sandbox_enter(void)
{
	/* Refuse (EPERM) rather than kill: a refused call is an error the
	 * VMM reports; the filter is the same either way. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	unsigned i;
	int rc = 0;

	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
#ifdef __SANITIZE_ADDRESS__
	for (i = 0; i < sizeof(sanitizer_runtime) / sizeof(sanitizer_runtime[0]) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_runtime[i], 0);
	sandboxed = 1;
#endif
	if (!rc)
		rc = seccomp_load(ctx);	/* also sets no_new_privs */
	seccomp_release(ctx);
	return rc;
}
