/* The nodes' event loop. See loop.h. */
#include "node/loop.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* The longest an idle loop waits when nothing asks for less: each pass
 * bumps the heartbeat, which the supervisor expects to move within
 * seconds (supervisor/vmproc.h VMM_UNRESPONSIVE_MS). */
#define LOOP_HEARTBEAT_MS	500

static int on_signal(void *ctx, uint32_t arg)
{
	return -1;
}

int loop_init(struct loop *l, struct vm_stats *st)
{
	sigset_t set;
	unsigned i;

	for (i = 0; i < LOOP_SLOTS; i++)
		l->slot[i].fn = NULL;
	l->st = st;
	l->poll = NULL;
	l->max_wait_ms = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	l->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->sig_fd < 0 || l->ep < 0)
		return -errno;
	return loop_add(l, l->sig_fd, false, on_signal, NULL, 0);
}

int loop_add(struct loop *l, int fd, bool edge, loop_fn fn, void *ctx, uint32_t arg)
{
	struct epoll_event e = { .events = EPOLLIN | (edge ? EPOLLET : 0) };
	unsigned i;

	for (i = 0; i < LOOP_SLOTS && l->slot[i].fn; i++)
		;
	if (i == LOOP_SLOTS)
		return -ENOSPC;
	e.data.u32 = i;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) < 0)
		return -errno;
	l->slot[i] = (struct loop_slot){ fn, ctx, arg, fd };
	return 0;
}

void loop_del(struct loop *l, int fd)
{
	unsigned i;

	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	for (i = 0; i < LOOP_SLOTS; i++)
		if (l->slot[i].fn && l->slot[i].fd == fd)
			l->slot[i].fn = NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Out of work. After a stretch that moved at least LOOP_YIELD_MIN units
 * (frames are streaming, as from another node on our core), first let
 * whoever shares the core run once and look again, the doorbells still
 * off: under load nobody has to ring us and each turn on the core carries
 * a whole batch. After a short stretch (a ping, a guest's TCP in 64 KiB
 * frames) we arm and sleep at once: a yield there would hand the core to
 * a busy vCPU thread for a time slice while our doorbells are off, which
 * cost guest TCP 10-20 % (docs/performance.md). mark: moved at the end of
 * the previous stretch. Returns true to poll again now. */
static bool out_of_work(struct loop *l, const struct loop_ops *ops, void *ctx, bool *yielded, uint64_t *mark)
{
	uint64_t stretch = *ops->moved - *mark;

	*mark = *ops->moved;
	if (!*yielded && stretch >= LOOP_YIELD_MIN) {
		*yielded = true;
		STAT_ADD(l->st->vmm_yields, 1);
		sched_yield();
		return true;
	}
	return ops->arm && ops->arm(ctx);
}

/* Waits for events at most timeout_ns (0: a look; -1: no limit), to the
 * nanosecond with epoll_pwait2; a kernel without it (before 5.11) gets
 * the wait rounded up to whole milliseconds. */
static int wait_events(struct loop *l, struct epoll_event *evs, int64_t timeout_ns)
{
	static bool no_pwait2;
	struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
	int n;

	if (!no_pwait2) {
		n = epoll_pwait2(l->ep, evs, LOOP_EVENTS, timeout_ns < 0 ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true;
	}
	return epoll_wait(l->ep, evs, LOOP_EVENTS, timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000));
}

int loop_run(struct loop *l, const struct loop_ops *ops, void *ctx)
{
	bool more = true, all = true, yielded = false, dozing = false;
	uint64_t mark = 0, work = now_ns(), end;
	unsigned pass = 0;
	int64_t timeout = -1, wait_max = (int64_t)(l->max_wait_ms > 0 ? l->max_wait_ms : LOOP_HEARTBEAT_MS) * 1000000;

	for (;;) {
		struct epoll_event evs[LOOP_EVENTS];
		uint64_t moved = *ops->moved;
		bool idle = !more, busy = more;
		int i, n = 0;

		if (idle && out_of_work(l, ops, ctx, &yielded, &mark))
			busy = all = true;
		/* Out of work: the wait below waits. A wait that ends by
		 * its timeout with nothing to do (the heartbeat, the control
		 * file's poll) continues the same sleep: idle nodes' counters
		 * stay still. */
		if (!busy && !dozing)
			STAT_ADD(l->st->vmm_sleeps, 1);
		/* While there is work, the fds are looked at only every
		 * LOOP_EPOLL_EVERY passes: each look is a system call. */
		if (!busy && (timeout < 0 || timeout > wait_max))
			timeout = wait_max;
		if (!busy || ++pass % LOOP_EPOLL_EVERY == 0)
			n = wait_events(l, evs, busy ? 0 : timeout);
		if (!busy)
			yielded = false;
		/* Busy time runs from here (after a yield or a wait) to the end
		 * of the pass, and on through passes that did not wait: one
		 * clock read (the vDSO, no system call) per pass under load. */
		if (idle)
			work = now_ns();
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			const struct loop_slot *s = &l->slot[evs[i].data.u32 % LOOP_SLOTS];

			if (s->fn && s->fn(s->ctx, s->arg) < 0)
				return 0;
		}
		if (l->poll)
			l->poll(l->poll_ctx);
		/* Alive: this pass runs. The supervisor watches it; only this
		 * loop bumps it, so a stopped or wedged node cannot fake it. */
		STAT_ADD(l->st->heartbeat, 1);
		more = ops->pass(ctx, all);
		all = false;
		if (ops->deadline)
			timeout = ops->deadline(ctx, &more);
		if (*ops->moved != moved)
			yielded = false;
		end = now_ns();
		dozing = !busy && n == 0 && !more && *ops->moved == moved;
		if (!dozing)
			STAT_ADD(l->st->vmm_busy_ns, end - work);
		work = end;
	}
}
