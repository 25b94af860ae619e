/* What each link direction does to its frames, as a real link would:
 * delay, jitter, loss, rate, corruption, duplication, carrier (issue 29).
 *
 * One control file per node, STATE/NAME.ctl (struct linkctl), created by
 * the supervisor, which writes the config's settings ([link A-B]) into it
 * at start; `multivm link` changes them at run time. The node maps it
 * read-only before its sandbox and looks at `gen` once per pass (and at
 * least every LINKCTL_POLL_MS when idle): a change applies within that.
 * Entry i is the node's link i (the order of its --link arguments), for
 * the direction the node RECEIVES (the receiver applies a direction's
 * impairments: link/impair.h); it names the link (peer, NICs) so that
 * writers find it and the node checks it is its own. So A->B's settings
 * are in B's file, in the entry whose peer is A.
 *
 * Writers (supervisor, CLI; root) hold an flock on the file and use `gen`
 * as a seqlock: odd while they write, then even and one more. The node
 * trusts nothing in it beyond what linkctl_check() accepts: a bad entry is
 * ignored (logged once), never applied. */
#ifndef MULTIVM_LINKCTL_H
#define MULTIVM_LINKCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define LINKCTL_MAGIC	0x314c54434d564d4dULL	/* "MMVMCTL1" little-endian */
#define LINKCTL_VERSION	1
#define LINKCTL_POLL_MS	50		/* the longest a node sleeps without looking */

/* Limits: what a link can plausibly be; beyond, a value is refused. */
#define LINKCTL_DELAY_MAX_US	10000000u	/* 10 s of delay (+ jitter) */
#define LINKCTL_PPM		1000000u	/* 100 % in parts per million */
#define LINKCTL_RATE_MIN	1000ull		/* 1 kbit/s */
#define LINKCTL_RATE_MAX	100000000000ull	/* 100 Gbit/s */

enum linkctl_dist { LINKCTL_UNIFORM, LINKCTL_NORMAL };

/* One direction. All zero: a plain link (the fast path tests one flag). */
struct link_imp {
	uint32_t delay_us;	/* every frame waits this long ... */
	uint32_t jitter_us;	/* ... +- up to this (uniform) or with this sigma (normal) */
	uint32_t loss_ppm;	/* frames lost at random */
	uint32_t loss_corr_ppm;	/* netem's correlation: the chance a frame repeats the last one's fate */
	uint32_t corrupt_ppm;	/* frames with one bit flipped (checksums completed first) */
	uint32_t duplicate_ppm;	/* frames sent twice */
	uint64_t rate_bps;	/* a shaper: 0 none; excess frames wait in the link, as netem's rate */
	uint8_t dist;		/* enum linkctl_dist */
	uint8_t down;		/* carrier off: every frame dropped as link_down */
	uint8_t pad[2];
	uint32_t seed;		/* not 0: the random draws start from it at each change (reproducible) */
};
_Static_assert(sizeof(struct link_imp) == 40 && offsetof(struct link_imp, rate_bps) == 24 &&
	       offsetof(struct link_imp, seed) == 36, "struct link_imp layout (LINKCTL_VERSION 1)");

struct linkctl_entry {
	char peer[MV_NAME_MAX];
	char nic[MV_IFNAME_MAX];	/* a wire's: this node's NIC; "": the segment */
	char peer_nic[MV_IFNAME_MAX];
	struct link_imp imp;
};
_Static_assert(sizeof(struct linkctl_entry) == 104, "struct linkctl_entry layout (LINKCTL_VERSION 1)");

struct linkctl {
	uint64_t magic;
	uint32_t version;
	uint32_t gen;		/* seqlock: odd while a writer writes */
	uint32_t nlinks;
	uint32_t pad;
	struct linkctl_entry link[MV_NODE_LINKS_MAX];
};
_Static_assert(offsetof(struct linkctl, link) == 24, "struct linkctl layout (LINKCTL_VERSION 1)");

/* Whether imp has anything to do (else the link is plain). */
static inline bool linkctl_active(const struct link_imp *imp)
{
	return imp->delay_us || imp->jitter_us || imp->loss_ppm || imp->corrupt_ppm || imp->duplicate_ppm ||
	       imp->rate_bps || imp->down;
}

/* Whether imp holds only values within the limits above. */
bool linkctl_check(const struct link_imp *imp);

/* Reads a consistent copy of c (seqlock) into out (out->gen: the
 * generation read); false if a writer was busy (try again later) or the
 * header is not ours. */
bool linkctl_read(const struct linkctl *c, struct linkctl *out);

/* Writer side (under the file's flock): begin makes gen odd, end even. */
void linkctl_write_begin(struct linkctl *c);
void linkctl_write_end(struct linkctl *c);

/* "delay=20ms jitter=2ms loss=1% rate=100mbit ...": one KEY=VALUE word,
 * applied to imp. Keys: delay, jitter (us ms s), distribution (uniform,
 * normal), loss, loss_correlation, corrupt, duplicate (%, up to 100 with
 * three decimals), rate (bit kbit mbit gbit; 0 = none), state (up, down),
 * seed (0 to 4294967295; 0 = none).
 * 0, or -1 with a message in err naming the word. The config and the CLI
 * use it alike. */
int linkctl_set(struct link_imp *imp, const char *key, const char *value, char *err, size_t errlen);

/* The settings as KEY=VALUE words, in the units linkctl_set reads back
 * (only those not zero; "" for a plain link, "state=down" when down). */
void linkctl_format(const struct link_imp *imp, char *out, size_t len);

#endif
