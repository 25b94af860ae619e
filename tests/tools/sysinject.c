/* Makes a running process call system calls of our choosing, to prove
 * what its seccomp filter allows, without a debugger's inferior calls
 * (gdb cannot make them where it cannot write the CPU's XSAVE state).
 *
 *   sysinject PID CALL...
 *
 * Attaches to thread PID with ptrace, waits for it to enter a system call,
 * swaps that call for CALL by rewriting general registers only, reads the
 * result at syscall exit, then rewinds the thread so that it re-issues its
 * own call, and detaches. The kernel runs seccomp after the entry stop, so
 * the filter judges the injected call. Prints "CALL RET ERRNO" per call.
 * CALLs: close-badf, openat, socket, execve, mmap-exec, stat-path.
 * Exit 0 when every call was injected, 77 when this host cannot do it
 * (no ptrace, not x86-64), 1 on any other failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <linux/ptrace.h>
#include <sys/user.h>

static pid_t pid;
static long fd_to_close;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void fail(const char *what)
{
	fprintf(stderr, "sysinject: %s: %s\n", what, timed_out ? "timed out" : strerror(errno));
	exit(1);
}

/* Waits for the next stop; passes on signals meant for the tracee. Returns
 * 1 at a syscall stop, 0 at another ptrace stop; dies if the tracee did. */
static int next_stop(void)
{
	int st;

	if (waitpid(pid, &st, __WALL) < 0)
		fail("waitpid");
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		fprintf(stderr, "sysinject: process %d ended\n", pid);
		exit(1);
	}
	if (WSTOPSIG(st) == (SIGTRAP | 0x80))
		return 1;
	if (WSTOPSIG(st) == SIGTRAP || (st >> 16) == PTRACE_EVENT_STOP)
		return 0;
	/* A real signal: deliver it, then the caller continues waiting. */
	if (ptrace(PTRACE_SYSCALL, pid, 0, WSTOPSIG(st)) < 0)
		fail("PTRACE_SYSCALL");
	return next_stop();
}

static int stop_op(void)
{
	struct ptrace_syscall_info info;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) < 0)
		fail("PTRACE_GET_SYSCALL_INFO");
	return info.op;
}

/* Runs the tracee to its next syscall stop of kind op. */
static void run_to(int op)
{
	do {
		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
			fail("PTRACE_SYSCALL");
	} while (!next_stop() || stop_op() != op);
}

/* Scratch memory in the tracee for strings: below its stack's red zone,
 * saved and restored around each call. */
#define SCRATCH_WORDS 8
static unsigned long scratch_at, scratch_saved[SCRATCH_WORDS];

static unsigned long put_string(const struct user_regs_struct *r, const char *s)
{
	unsigned long w[SCRATCH_WORDS] = {0};
	int i;

	if (strlen(s) >= sizeof(w))
		abort();
	memcpy(w, s, strlen(s) + 1);
	scratch_at = (r->rsp - 1024) & ~15ul;
	for (i = 0; i < SCRATCH_WORDS; i++) {
		errno = 0;
		scratch_saved[i] = ptrace(PTRACE_PEEKDATA, pid, scratch_at + 8 * i, 0);
		if (errno)
			fail("PTRACE_PEEKDATA");
		if (ptrace(PTRACE_POKEDATA, pid, scratch_at + 8 * i, w[i]) < 0)
			fail("PTRACE_POKEDATA");
	}
	return scratch_at;
}

static void put_back_scratch(void)
{
	int i;

	for (i = 0; scratch_at && i < SCRATCH_WORDS; i++)
		if (ptrace(PTRACE_POKEDATA, pid, scratch_at + 8 * i, scratch_saved[i]) < 0)
			fail("PTRACE_POKEDATA");
	scratch_at = 0;
}

/* Sets up CALL in r; returns 0 for an unknown name. */
static int prepare(const char *call, struct user_regs_struct *r)
{
	unsigned long a[6] = {0};
	long nr;

	if (!strcmp(call, "close-badf") || !strcmp(call, "close-fd")) {
		nr = SYS_close;
		a[0] = call[6] == 'b' ? (unsigned long)-1 : (unsigned long)fd_to_close;
	} else if (!strcmp(call, "openat")) {
		nr = SYS_openat;
		a[0] = (unsigned long)AT_FDCWD;
		a[1] = put_string(r, "/etc/hostname");
		a[2] = O_RDONLY;
	} else if (!strcmp(call, "socket")) {
		nr = SYS_socket;
		a[0] = AF_INET;
		a[1] = SOCK_STREAM;
	} else if (!strcmp(call, "execve")) {
		nr = SYS_execve;
		a[0] = put_string(r, "/bin/true");
	} else if (!strcmp(call, "mmap-exec")) {
		nr = SYS_mmap;
		a[1] = 4096;
		a[2] = PROT_READ | PROT_WRITE | PROT_EXEC;
		a[3] = MAP_PRIVATE | MAP_ANONYMOUS;
		a[4] = (unsigned long)-1;
	} else if (!strcmp(call, "stat-path")) {
		/* newfstatat(AT_FDCWD, "/etc/passwd", buf, 0): buf is scratch
		 * too, past the string. */
		nr = SYS_newfstatat;
		a[0] = (unsigned long)AT_FDCWD;
		a[1] = put_string(r, "/etc/passwd");
		a[2] = r->rsp - 4096;
	} else {
		return 0;
	}
	r->orig_rax = nr;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
	return 1;
}

/* At an entry stop: makes the tracee run CALL instead, returns the raw
 * result, and leaves it at an entry stop of its own call again. */
static long inject(const char *call)
{
	struct user_regs_struct saved, r;
	long ret;

	if (ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0)
		fail("PTRACE_GETREGS");
	r = saved;
	if (!prepare(call, &r)) {
		fprintf(stderr, "sysinject: unknown call %s\n", call);
		exit(1);
	}
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0)
		fail("PTRACE_SETREGS");
	run_to(PTRACE_SYSCALL_INFO_EXIT);
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
		fail("PTRACE_GETREGS");
	ret = (long)r.rax;
	put_back_scratch();
	/* Back over the 2-byte `syscall` instruction, with the tracee's own
	 * call number in rax: it re-issues the call we took over. */
	saved.rip -= 2;
	saved.rax = saved.orig_rax;
	if (ptrace(PTRACE_SETREGS, pid, 0, &saved) < 0)
		fail("PTRACE_SETREGS");
	run_to(PTRACE_SYSCALL_INFO_ENTRY);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_alarm};	/* no SA_RESTART */
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: sysinject PID CALL...\n");
		return 1;
	}
	pid = atoi(argv[1]);
	sigaction(SIGALRM, &sa, NULL);
	alarm(30);
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
		if (errno == EPERM) {
			printf("SKIP: this host does not let us ptrace process %d\n", pid);
			return 77;
		}
		fail("PTRACE_SEIZE");
	}
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
		fail("PTRACE_INTERRUPT");
	next_stop();
	run_to(PTRACE_SYSCALL_INFO_ENTRY);
	for (i = 2; i < argc; i++) {
		long ret = inject(argv[i]);

		if (ret < 0 && ret > -4096) {
			printf("%s -1 %ld\n", argv[i], -ret);
		} else {
			printf("%s %ld 0\n", argv[i], ret);
			/* Not refused: take back the fd it made. */
			fd_to_close = ret;
			if (!strcmp(argv[i], "openat") || !strcmp(argv[i], "socket"))
				inject("close-fd");
		}
	}
	if (ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
		fail("PTRACE_DETACH");
	return 0;
}
#else
int main(void)
{
	printf("SKIP: sysinject knows only x86-64's system call registers\n");
	return 77;
}
#endif
