/* The event loop every node process runs (Solo5 hvt's shape: the core
 * owns the loop, the node's modules register their fds and hooks).
 *
 * Work is polled, not driven by events: each pass calls the kind's pass
 * hook, which moves what it can in batches and says whether more waits.
 * Registered fds (doorbells, sockets, the signalfd) are looked at every
 * LOOP_EPOLL_EVERY passes while busy, and waited on when out of work. Out
 * of work after a long stretch, the loop first yields the core once; then
 * the kind's arm hook asks for doorbells and the loop sleeps, for at most
 * what the deadline hook allows. Each node publishes where its time goes
 * (vmm_busy_ns, vmm_yields, vmm_sleeps in its stats record).
 *
 * Any module may register an fd at any time, before the sandbox or after
 * (epoll_ctl is allowed there): a control channel from the supervisor to a
 * running node is one more registered fd. */
#ifndef MULTIVM_LOOP_H
#define MULTIVM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/stats.h"

#define LOOP_SLOTS	128	/* registered fds: a VMM's links, kicks and sockets fit */
#define LOOP_EVENTS	32	/* events taken per epoll_wait */
#define LOOP_EPOLL_EVERY 8	/* passes between looks at the fds while busy */
#define LOOP_YIELD_MIN	32	/* units a stretch moves for a yield to pay */

/* An fd's handler: arg is what it was registered with. Returns < 0 to
 * stop the loop (the signalfd does), else 0. */
typedef int (*loop_fn)(void *ctx, uint32_t arg);

/* The kind's work. pass and moved are required, arm and deadline not. */
struct loop_ops {
	/* One pass: moves what it can. all: look at every source of work
	 * (after a yield, or when arm saw work arrive), not only those the
	 * handlers flagged. Returns true if more waits (poll again). */
	bool (*pass)(void *ctx, bool all);
	/* Out of work: asks for the doorbells that say there is work, then
	 * rechecks. Returns true if work arrived meanwhile (poll again). */
	bool (*arm)(void *ctx);
	/* After a pass: the longest the next wait may last, in ns (-1: no
	 * limit; the wait is that precise: a delayed frame leaves when due,
	 * not at the next whole millisecond); may do timed work and set
	 * *more to poll again. */
	int64_t (*deadline)(void *ctx, bool *more);
	/* Units of work (frames, chains) moved so far: did a stretch work? */
	const uint64_t *moved;
};

struct loop_slot {
	loop_fn fn;		/* NULL: free */
	void *ctx;
	uint32_t arg;
	int fd;
};

struct loop {
	int ep, sig_fd;
	struct vm_stats *st;	/* busy time, yields and sleeps are counted here */
	struct loop_slot slot[LOOP_SLOTS];
	/* Called before each pass (NULL: none), and the longest the loop
	 * sleeps without calling it (0: no limit): a node's control file is
	 * looked at so (node.c). */
	void (*poll)(void *ctx);
	void *poll_ctx;
	int max_wait_ms;
};

/* Blocks SIGTERM, SIGINT, SIGHUP into a signalfd that stops the loop, and
 * creates the epoll set. 0 or -errno. */
int loop_init(struct loop *l, struct vm_stats *st);

/* Watches fd: fn(ctx, arg) runs when it is readable. edge: eventfd
 * doorbells, watched edge-triggered and never read (a write wakes us once,
 * which is all we need to know; the rings say how much work there is, and
 * the other side, which shares the eventfd, cannot make a read block).
 * 0, or -errno (-ENOSPC: no free slot). */
int loop_add(struct loop *l, int fd, bool edge, loop_fn fn, void *ctx, uint32_t arg);

/* Stops watching fd (before it is closed: closing does not take it out of
 * epoll while another process holds the same file). */
void loop_del(struct loop *l, int fd);

/* Runs until a signal arrives (0) or epoll fails (-errno). */
int loop_run(struct loop *l, const struct loop_ops *ops, void *ctx);

#endif
