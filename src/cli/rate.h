/* Per-second rates between two snapshots of a system, for `multivm top`.
 * Counters only ever grow; one that went backwards (a new stats file, a
 * new system in the same state directory) makes its whole row unknown for
 * that interval instead of a negative or enormous rate. */
#ifndef MULTIVM_RATE_H
#define MULTIVM_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/snapshot.h"

enum rate_state {
	RATE_OK,
	RATE_NEW,	/* not in the earlier snapshot, or no valid counters there */
	RATE_INVALID,	/* no valid counters now */
	RATE_RESET,	/* a counter went backwards */
};

struct vm_rate {
	enum rate_state state;
	double c[VM__N];	/* per second; gauges (vu_connected) are 0 */
	double drop[DROP__MAX];
};

struct link_rate {
	enum rate_state state;
	double c[LINK__N];	/* per second; gauges (up) are 0 */
	double drop[DROP__MAX];
};

struct rates {
	double secs;
	struct vm_rate vm[MV_NODES_MAX];				/* as cur->vm */
	struct link_rate link[MV_NODES_MAX * (MV_NODES_MAX - 1)];	/* as cur->link */
};

/* (cur - prev) / secs into *out; -1 if cur < prev or secs is not > 0. */
int rate_of(uint64_t prev, uint64_t cur, double secs, double *out);

/* Rates from prev to cur, secs apart (monotonic clock). VMs are matched by
 * name and links by the names of their two ends. */
void rates_compute(const struct snapshot *prev, const struct snapshot *cur, double secs, struct rates *r);

#endif
