/* Counters shared between a VMM (writer) and `multivm stats` (reader).
 *
 * The supervisor creates STATE/NAME.stats, sized sizeof(struct vm_stats),
 * and passes it to the VMM as an fd; the VMM maps it and bumps counters
 * with relaxed atomic stores (STAT_ADD, STAT_SET: one writer, aligned
 * 64-bit words, so readers may see a slightly old value, never a torn
 * one). Counters survive a VMM restart because the file does. The layout
 * is pinned below: changing it means a new STATS_VERSION (a reader
 * refuses a file of another version, a VMM starts one afresh). */
#ifndef MULTIVM_STATS_H
#define MULTIVM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define STATS_MAGIC   0x315354534d564d4dULL  /* "MMVMSTS1" little-endian */
#define STATS_VERSION 10

/* Why a frame was dropped. Every dropped frame counts in exactly one. */
enum drop_reason {
	DROP_NONE = -1,		/* not dropped (a routing decision: deliver) */
	DROP_QUEUE_FULL,	/* link (or guest RX) had no room */
	DROP_NO_LINK,		/* unicast to an unknown MAC or an unlinked VM */
	DROP_SPOOFED,		/* source MAC is not the sending VM's own */
	DROP_MALFORMED,		/* bad header, bad length, bad descriptor chain */
	DROP_LINK_DOWN,		/* link stopped after a protocol violation */
	DROP_DISABLED,		/* sent on a TX ring the frontend disabled */
	/* Tunnels (src/tunnel/): datagrams from the network. */
	DROP_NOT_REMOTE,	/* not from the configured remote address */
	DROP_BAD_HEADER,	/* shorter than a VXLAN header, or its I flag clear */
	DROP_BAD_VNI,		/* another VXLAN network */
	DROP_BAD_LENGTH,	/* inner frame shorter than 14 or longer than 1518 bytes */
	DROP_SEND_ERROR,	/* the UDP send failed (no route, socket buffer full) */
	/* Link impairments (common/linkctl.h), counted by the receiving end. */
	DROP_IMPAIRED,		/* lost at random on an impaired link */
	DROP__MAX
};

static inline const char *drop_reason_name(enum drop_reason r)
{
	static const char *const n[DROP__MAX] = {
		"queue_full", "no_link", "spoofed", "malformed", "link_down", "disabled",
		"not_remote", "bad_header", "bad_vni", "bad_length", "send_error", "impaired",
	};
	return (r >= 0 && r < DROP__MAX) ? n[r] : "?";
}

/* One direction pair of a link as seen from one end. */
struct link_stats {
	char peer[MV_NAME_MAX];
	uint64_t tx_frames, tx_bytes;	/* put on the link towards peer */
	uint64_t rx_frames, rx_bytes;	/* taken off the link, delivered to guest */
	uint64_t drop[DROP__MAX];	/* frames for/from this link dropped */
	uint64_t kicks_sent;		/* doorbells rung (batches, not frames) */
	uint64_t errors;		/* protocol violations by the peer */
	uint32_t up;			/* 1 while the link queues run */
	uint32_t pad;
	char nic[MV_IFNAME_MAX];	/* a wire's: our NIC's name; "": the eth0 segment */
	char peer_nic[MV_IFNAME_MAX];	/* a wire's: the peer's NIC ("": a tunnel's end) */
	/* What the impairments of the direction we receive did (linkctl.h);
	 * also counted, by reason, in the VM's drop[]. */
	uint64_t rx_link_down;		/* frames dropped while the link was set down */
	uint64_t rx_impaired;		/* frames lost at random */
	uint64_t rx_duplicated;		/* frames delivered twice */
	uint64_t rx_corrupted;		/* frames delivered with a bit flipped */
	uint32_t held;			/* frames on the link waiting out their delay or rate */
	uint32_t tx_wait_ms;		/* ms our guest's frames waited for room on it */
};

/* A guest NIC of a wire besides eth0 (eth0's are the VM's own fields):
 * its vhost-user session. Its frames are its wire's link counters. */
struct nic_stats {
	char name[MV_IFNAME_MAX];
	uint32_t vu_connected;
	uint32_t vu_accept_errors;
	uint64_t vu_connects, vu_disconnects;
	uint64_t vu_bad_messages;
	uint64_t vq_errors;
};

struct vm_stats {
	uint64_t magic;
	uint32_t version;
	uint32_t nlinks;
	char name[MV_NAME_MAX];
	uint64_t vmm_starts;		/* how many times a VMM attached */
	uint64_t guest_tx_frames, guest_tx_bytes;	/* taken from guest TX */
	uint64_t guest_rx_frames, guest_rx_bytes;	/* put in guest RX */
	uint64_t drop[DROP__MAX];	/* all drops of this VM, by reason */
	uint64_t vu_connects, vu_disconnects;	/* vhost-user sessions */
	uint64_t vu_bad_messages;	/* malformed vhost-user messages */
	uint64_t vq_errors;		/* guest queues stopped as malformed */
	uint32_t vu_connected;
	uint32_t vu_accept_errors;	/* accept4 failed for want of fds or memory */
	/* Offload work (src/net/), all guests' frames of this VM. A TSO
	 * frame off a link is passed whole (rx_tso_frames), segmented
	 * (seg_frames) or dropped: exactly one. */
	uint64_t tx_offload_frames;	/* guest TX frames with NEEDS_CSUM or GSO metadata */
	uint64_t tx_tso_frames;		/* TSO frames put whole on a link (once per link) */
	uint64_t rx_tso_frames;		/* TSO frames passed whole to the guest */
	uint64_t seg_frames;		/* TSO frames segmented in software for the guest */
	uint64_t seg_segments;		/* segments delivered from them */
	uint64_t csum_completed;	/* frames whose partial checksum was completed here */
	/* Where the VMM's time goes (src/vmm/main.c serve()). */
	uint64_t vmm_busy_ns;		/* wall time working: its loop outside waits and yields */
	uint64_t vmm_yields;		/* times it let others on its core run first, frames streaming */
	uint64_t vmm_sleeps;		/* times it ran out of work and waited for an event */
	struct link_stats link[MV_NODE_LINKS_MAX];
	/* Wire NIC slots besides eth0, up to the last in use (one dropped at
	 * run time, common/handoff.h, leaves its nic[] entry zeroed). */
	uint32_t nnics;
	uint32_t remote_down;		/* a tunnel: times its remote fell silent (tunnel/vxlan.h) */
	struct nic_stats nic[MV_NICS_MAX];
	/* Bumped by every pass of the node's loop, which passes at least
	 * every LINKCTL_POLL_MS even when idle: the supervisor's liveness
	 * check (a stopped or wedged node stops it). */
	uint64_t heartbeat;
	/* Connections to any of its NICs' sockets from a peer that is not its
	 * frontend (vmm/peercred.h): accepted, refused, closed. */
	uint64_t vu_peer_refused;
	/* Messages on the link handoff channel (common/handoff.h) refused:
	 * malformed, or a link that does not fit (node/relink.c). */
	uint64_t handoff_refused;
};

_Static_assert(DROP__MAX == 12, "drop reasons are part of the layout (STATS_VERSION 8)");
_Static_assert(sizeof(struct link_stats) == 256 && offsetof(struct link_stats, tx_frames) == 32 &&
	       offsetof(struct link_stats, drop) == 64 && offsetof(struct link_stats, kicks_sent) == 160 &&
	       offsetof(struct link_stats, up) == 176 && offsetof(struct link_stats, nic) == 184 &&
	       offsetof(struct link_stats, peer_nic) == 200 && offsetof(struct link_stats, rx_link_down) == 216 &&
	       offsetof(struct link_stats, held) == 248, "struct link_stats layout (STATS_VERSION 8)");
_Static_assert(sizeof(struct nic_stats) == 56 && offsetof(struct nic_stats, vu_connects) == 24,
	       "struct nic_stats layout (STATS_VERSION 8)");
_Static_assert(sizeof(struct vm_stats) == 296 + 63 * 256 + 8 + 8 * 56 + 24 &&
	       offsetof(struct vm_stats, vu_peer_refused) == 296 + 63 * 256 + 8 + 8 * 56 + 8 &&
	       offsetof(struct vm_stats, handoff_refused) == 296 + 63 * 256 + 8 + 8 * 56 + 16 &&
	       offsetof(struct vm_stats, heartbeat) == 296 + 63 * 256 + 8 + 8 * 56 && offsetof(struct vm_stats, name) == 16 &&
	       offsetof(struct vm_stats, vmm_starts) == 48 && offsetof(struct vm_stats, drop) == 88 &&
	       offsetof(struct vm_stats, vu_connects) == 184 && offsetof(struct vm_stats, vu_connected) == 216 &&
	       offsetof(struct vm_stats, tx_offload_frames) == 224 && offsetof(struct vm_stats, csum_completed) == 264 &&
	       offsetof(struct vm_stats, vmm_busy_ns) == 272 && offsetof(struct vm_stats, vmm_sleeps) == 288 &&
	       offsetof(struct vm_stats, link) == 296 && offsetof(struct vm_stats, nic) == 296 + 63 * 256 + 8,
	       "struct vm_stats layout (STATS_VERSION 10)");

/* The writer's side: c is a counter in the mapped file. */
#define STAT_ADD(c, n)	__atomic_store_n(&(c), (c) + (n), __ATOMIC_RELAXED)
#define STAT_SET(c, v)	__atomic_store_n(&(c), (v), __ATOMIC_RELAXED)

#endif
