/* A link direction that behaves like a real link (issue 29): the node
 * that RECEIVES a direction applies what its control file says of it
 * (common/linkctl.h), so that the frames it lets through are exactly the
 * ones its guest gets and it can make a corrupted frame's checksum wrong
 * where the guest checks it.
 *
 * Delay, jitter and rate never sleep: a frame waits on the link itself,
 * which is the delay line (link_queue_size entries, 8 KiB of frame area
 * each: docs/link-format.md). The receiver stamps each frame when it
 * first sees it posted, computes when it is due (arrival + delay +
 * jitter, never before the frame ahead of it, so jitter never reorders;
 * then no sooner than the shaper allows: each frame takes len * 8 / rate
 * of the link's time, a token bucket IMP_RATE_BURST_NS deep so that the
 * loop's late wake-ups cost no rate), and leaves it on the link until then, telling its
 * loop when to look again. A full link holds up its sender as ever (the
 * frame waits in the guest's TX ring, 100 ms at most, then queue_full).
 * Loss, duplication and corruption are decided once per frame, when it
 * is due; a down link drops everything (link_down).
 *
 * A plain link costs one flag test per drain. */
#ifndef MULTIVM_LINK_IMPAIR_H
#define MULTIVM_LINK_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/linkctl.h"

struct link;

/* The shaper's depth: after an idle link this much of the rate may pass
 * at once; a receiver that wakes up to this late loses no rate. The
 * loop wakes when due (epoll_pwait2), but a busy host's scheduler can
 * run it a time slice late: a millisecond covers that. */
#define IMP_RATE_BURST_NS	1000000ull


/* link_imp_judge's verdicts, with flags for a frame that passes. */
enum {
	IMP_PASS = 0,
	IMP_WAIT = 1,		/* not due yet: give it back, look again at wake_ns */
	IMP_DOWN = 2,		/* drop: link_down */
	IMP_LOST = 3,		/* drop: impaired */
	IMP_VERDICT = 3,	/* the verdict's bits */
	IMP_DUP = 4,		/* pass it twice */
	IMP_CORRUPT = 8,	/* pass it with a bit flipped, checksums completed first */
};

struct link_imp_rx {
	struct link_imp imp;	/* in force */
	bool on;		/* linkctl_active(imp) */
	uint64_t rng;		/* xorshift64* */
	uint64_t last_u;	/* the last loss draw, for correlation */
	uint16_t seen;		/* avail entries stamped with their arrival */
	bool head_valid;	/* head_due and head_fate are the head's */
	uint16_t head_pos;
	uint8_t head_fate;
	uint64_t head_due, last_due, rate_free;	/* CLOCK_MONOTONIC ns */
	uint64_t wake_ns;	/* the held head's due time; 0: nothing held */
	uint64_t arrive[MV_QSIZE_MAX];	/* by avail position: when first seen */
};

/* Does this direction hold frames until due (delay, jitter, rate)? Then
 * its link is a queue to its sender (link.h LINK_QUEUE_OFF). */
static inline bool link_imp_holds(const struct link_imp_rx *s)
{
	return s->on && (s->imp.delay_us || s->imp.jitter_us || s->imp.rate_bps);
}


/* Puts imp in force for the direction l receives (a checked copy). */
void link_imp_set(struct link *l, const struct link_imp *imp);

/* Stamps the frames the peer posted since the last call with now. Once
 * per drain of an impaired link, before taking frames. */
void link_imp_stamp(struct link *l, uint64_t now);

/* Publishes how many frames l holds (the `held` gauge): after a drain
 * that took some, so an emptied link does not show its last count. */
void link_imp_held(struct link *l);

/* The fate of the record just taken off l (len bytes): IMP_WAIT (give it
 * back with link_rec_keep; l->imp.wake_ns says when), IMP_DOWN, IMP_LOST,
 * or IMP_PASS with IMP_DUP / IMP_CORRUPT. Decided once per frame. */
unsigned link_imp_judge(struct link *l, uint32_t len, uint64_t now);

/* CLOCK_MONOTONIC in ns (the vDSO: no system call). */
uint64_t link_imp_now(void);

#endif
