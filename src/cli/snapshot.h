/* One reading of a running system's state directory: the status lines and
 * every VMM's counters, as `multivm status`, `stats` and `top` show them.
 * The printers (cli/report.h) and the rates (cli/rate.h) only ever look at
 * this struct, so text, JSON and Prometheus carry the same values.
 *
 * Everything read is untrusted: status lines are bounded and split
 * generically (NAME key=value ...), a stats file is used only when its
 * magic, version and link count are right, and counters are capped at
 * INT64_MAX so that every output format can carry them exactly. */
#ifndef MULTIVM_SNAPSHOT_H
#define MULTIVM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/linkctl.h"
#include "common/stats.h"
#include "common/statusline.h"
#include "config/config.h"

/* The counters of one VM, in the order `stats` prints them; drops by
 * reason are printed before VM_VQ_ERRORS. */
enum vm_counter {
	VM_TX_FRAMES, VM_TX_BYTES, VM_RX_FRAMES, VM_RX_BYTES,
	VM_VQ_ERRORS, VM_VU_BAD_MESSAGES, VM_VU_ACCEPT_ERRORS, VM_VU_PEER_REFUSED, VM_VU_CONNECTED, VM_VMM_STARTS,
	VM_TX_OFFLOAD, VM_TX_TSO, VM_RX_TSO, VM_SEG_FRAMES, VM_SEG_SEGMENTS, VM_CSUM_COMPLETED,
	VM_BUSY_NS, VM_YIELDS, VM_SLEEPS, VM_REMOTE_DOWN, VM_HANDOFF_REFUSED,
	VM__N
};
#define VM_DROPS_BEFORE VM_VQ_ERRORS

/* One direction A->B of a link; drops are printed before LINK_KICKS. */
enum link_counter {
	LINK_FRAMES, LINK_BYTES, LINK_DELIVERED, LINK_DELIVERED_BYTES,
	LINK_KICKS, LINK_WAIT_MS, LINK_ERRORS, LINK_UP, LINK_HELD, LINK_DUPLICATED, LINK_CORRUPTED,
	LINK__N
};
#define LINK_DROPS_BEFORE LINK_KICKS

/* How each counter is named: key in `stats` and its JSON, and the
 * Prometheus metric (after multivm_vm_ or multivm_link_). */
struct counter_desc {
	const char *key;
	const char *metric;
	const char *help;
	bool gauge;
	bool needs_peer;	/* also from the receiving VM's counters */
};
extern const struct counter_desc vm_counter_desc[VM__N];
extern const struct counter_desc link_counter_desc[LINK__N];

/* A link direction's settings (common/linkctl.h), in the order status and
 * stats print them after its name or counters, keyed as `multivm link
 * show --json` keys them. A word setting (words != NULL) has one of
 * those values: its number is the index, and Prometheus shows it as one
 * series per word labelled `key`, 1 for the value it has. */
enum link_setting {
	LSET_STATE, LSET_DELAY, LSET_JITTER, LSET_DIST, LSET_LOSS, LSET_LOSS_CORR, LSET_CORRUPT, LSET_DUPLICATE,
	LSET_RATE, LSET_SEED,
	LSET__N
};
struct setting_desc {
	const char *key;
	const char *metric;
	const char *help;
	const char *const *words;	/* NULL: a number */
};
extern const struct setting_desc link_setting_desc[LSET__N];

/* Setting k of imp: a number, or the index of its word. */
uint64_t snapshot_setting(const struct link_imp *imp, enum link_setting k);

struct snap_vm {
	char name[MV_NAME_MAX];
	bool valid;		/* counters read; else all 0 (VMM not started yet, damaged file) */
	uint32_t version;	/* !valid: the stats version the file has, if not ours; else 0 */
	uint64_t c[VM__N];
	uint64_t drop[DROP__MAX];
};

struct snap_link {
	unsigned from, to;	/* indices into snapshot.vm */
	char from_nic[MV_IFNAME_MAX], to_nic[MV_IFNAME_MAX];	/* a wire's ends; "": the segment's */
	bool peer_valid;	/* the receiving VM's counters (delivered) were read */
	uint64_t c[LINK__N];
	uint64_t drop[DROP__MAX];	/* dropped by the sending end, by reason */
	int dir;		/* its settings: index into snapshot.dir, -1 if not read */
};

/* A link direction as the receiving node's control file (STATE/NAME.ctl)
 * holds it: its settings in force. */
struct snap_dir {
	unsigned from, to;	/* indices into snapshot.vm */
	char from_nic[MV_IFNAME_MAX], to_nic[MV_IFNAME_MAX];
	struct link_imp imp;
};

struct snapshot {
	unsigned nvms, nlinks;
	struct status_vm status[MV_NODES_MAX];
	struct snap_vm vm[MV_NODES_MAX];
	struct snap_link link[MV_NODES_MAX * (MV_NODES_MAX - 1)];
	unsigned ndirs;
	struct snap_dir dir[MV_NODES_MAX * MV_NODE_LINKS_MAX];
};

/* Reads DIR/status into s (nvms, status[], vm[].name); -errno if the file
 * cannot be opened. Counters are left alone. */
int snapshot_status(const char *dir, struct snapshot *s);

/* snapshot_status, then every VM's counters and the links between them. */
int snapshot_read(const char *dir, struct snapshot *s);

/* Every node's control file, read under its shared lock into s->dir[]
 * (snapshot_fill_ctl); a node whose file cannot be read is named on
 * standard error and its directions left out. After snapshot_status, or
 * snapshot_read to pair them with the links' counters. */
void snapshot_ctl(const char *dir, struct snapshot *s);

/* The directions of the nodes' control files ctl[i] (NULL: not read)
 * into s->dir[], in the order of the senders' links (that of `stats`),
 * each direction from the file of the node receiving it; then each
 * s->link[] gets its direction's index. */
void snapshot_fill_ctl(struct snapshot *s, const struct linkctl *const ctl[]);

/* Flattens one VMM's raw counters and its peers' into s (after nvms and
 * vm[].name are set); raw[i] NULL means VM i's counters are not valid. */
void snapshot_fill(struct snapshot *s, const struct vm_stats *const raw[]);

/* "A->B" for a link on the segment, "A:NIC->B:NIC" for a wire ("A:NIC->T"
 * to a tunnel): into out, returned. */
const char *snapshot_link_name(const struct snapshot *s, const struct snap_link *l, char *out, size_t len);
/* The same for a direction of s->dir[]. */
const char *snapshot_dir_name(const struct snapshot *s, const struct snap_dir *d, char *out, size_t len);

/* Index of the VM called name in s, or -1. */
int snapshot_vm(const struct snapshot *s, const char *name);

#endif
