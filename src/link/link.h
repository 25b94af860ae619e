/* A link: two VMMs joined by a shared memfd holding one split virtqueue
 * per direction plus that direction's frame slots (docs/link-format.md).
 * The sender is the driver of its outgoing queue; the receiver is the
 * device of its incoming queue and trusts nothing the sender wrote. */
#ifndef MULTIVM_LINK_H
#define MULTIVM_LINK_H

#include <net/ethernet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"
#include "link/impair.h"
#include "common/limits.h"
#include "virtq/memmap.h"
#include "virtq/virtq.h"

#define LINK_MAGIC	0x314b4e494c4d564dULL	/* "MVMLINK1" little-endian */
#define LINK_VERSION	2
#define LINK_AREA_PER_ENTRY 8192	/* frame area bytes per queue entry */
#define LINK_ALIGN	64		/* frames start on a cache line */
#define LINK_META_LEN	16		/* before each frame: 12 bytes of offload metadata, 4 reserved */
#define LINK_MIN_FRAME	14
#define LINK_MAX_FRAME	65550		/* a 64 KiB TSO frame */

/* First page of the memfd. Written by the supervisor at creation and again
 * before each VMM start (a peer may have scribbled on it). A VMM checks
 * only magic and version: the layout comes from its own numbers. */
struct link_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t qsize;
	uint32_t area_size;	/* bytes of each direction's frame area */
	uint32_t pad;
	uint64_t dir_off[2];	/* start of each direction's area */
	uint64_t dir_size;	/* bytes per direction: ring, then frame area */
	uint64_t ring_size;	/* bytes of the ring part (page aligned) */
	char name[2][MV_NAME_MAX];	/* side 0 and side 1 VM names */
};
_Static_assert(sizeof(struct link_hdr) == 120 && offsetof(struct link_hdr, qsize) == 12 &&
	       offsetof(struct link_hdr, dir_off) == 24 && offsetof(struct link_hdr, ring_size) == 48 &&
	       offsetof(struct link_hdr, name) == 56, "struct link_hdr layout (docs/link-format.md)");

/* The rest of the header page: one word per direction, at
 * LINK_QUEUE_OFF + 64 * direction, that the direction's receiver writes:
 * 1 while it holds frames on the link until they are due (delay, jitter or
 * rate: link/impair.h), 0 otherwise. Its sender reads it when the link is
 * full: a queue that drops what it cannot hold, as a real link's does,
 * rather than a slow receiver to wait for (vmm/net.h). A peer that lies
 * only makes frames to itself wait or drop. */
#define LINK_QUEUE_OFF	2048
_Static_assert(sizeof(struct link_hdr) <= LINK_QUEUE_OFF && LINK_QUEUE_OFF + 2 * 64 <= 4096,
	       "the queue words sit in the header page, after struct link_hdr");

/* What the supervisor makes per link and hands to the two VMMs. */
struct link_res {
	int memfd;	/* sealed: cannot shrink or grow */
	unsigned qsize;	/* its entries, for its life (link/room.h) */
	int kick[2];	/* eventfd doorbell of direction d (side d sends) */
};

/* Supervisor: creates memfd (sealed) and both doorbells. 0 or -errno. */
int link_create(struct link_res *r, unsigned qsize, const char *name0, const char *name1);
/* Supervisor: (re)writes the header page. 0 or -EIO. */
int link_hdr_write(int memfd, unsigned qsize, const char *name0, const char *name1);
void link_res_close(struct link_res *r);
size_t link_shm_size(unsigned qsize);

/* One end of a link, inside a VMM. */
struct link {
	char peer[MV_NAME_MAX];
	uint8_t peer_mac[ETH_ALEN];	/* set by the caller, kept by attach and set_down */
	bool tunnel;		/* the peer is a tunnel (any MAC behind it); kept like peer_mac */
	int side;		/* 0 or 1: we send on direction side */
	uint32_t peer_version;	/* the header's version, for the refusal message */
	int memfd, rx_kick, tx_kick;
	uint8_t *shm;
	size_t shm_size;
	unsigned qsize;

	struct virtq txq;	/* we are the driver */
	uint8_t *tx_area;	/* our direction's frame area */
	uint32_t area_size;
	uint32_t tx_head;	/* where the next frame goes in tx_area */
	uint32_t tx_pending;	/* offset of the frame link_tx_slot() placed */
	int tx_free;		/* reclaimed descriptors not yet used */
	bool tx_fresh;		/* a new batch: reclaim before placing */
	bool tx_stalled;	/* a frame waited for room in vain: until the link
				 * is empty again, frames for it do not wait */
	uint64_t wait_debt;	/* ms frames waited for room, leaking (vmm/net.h) */
	uint64_t wait_debt_at;	/* ms: when the debt was last brought up to date */
	uint32_t tx_off[MV_QSIZE_MAX];	/* private: where descriptor i's frame starts */

	struct virtq rxq;	/* we are the device */
	struct memmap rx_mem;	/* the peer's frame area: all it may point at */
	struct link_imp_rx imp;	/* what the direction we receive does (impair.h) */

	struct link_stats *st;	/* in the VMM's stats file */
};

/* VMM: maps memfd, checks seals, size and header, sets up both queues,
 * resuming from the indices in shared memory (so a restarted VMM carries
 * on). Takes ownership of the fds on success. 0 or -errno. */
int link_attach(struct link *l, int memfd, int side, unsigned qsize,
		int rx_kick, int tx_kick, const char *peer);
/* VMM: a link that could not be attached. It stays down (l->shm NULL): no
 * memory, no fds; frames for it are counted as link_down drops. */
void link_set_down(struct link *l, const char *peer);
void link_detach(struct link *l);
/* l was copied to where it is now (a node dropping a link before it):
 * points its parts that point into itself there. */
void link_moved(struct link *l);

/* The receiver says whether it holds frames (LINK_QUEUE_OFF); the sender
 * reads what its peer said. */
void link_set_queue(struct link *l, bool holds);
bool link_tx_queue(const struct link *l);

/* Sending (driver side). link_tx_slot() returns room for one frame of
 * len bytes (LINK_MIN_FRAME..LINK_MAX_FRAME) after its LINK_META_LEN bytes
 * of metadata, or NULL if the link is full or stopped (the caller counts
 * the drop); link_tx_commit() queues it; link_tx_flush() publishes the
 * batch and rings the doorbell once if the peer asked for it. */
uint8_t *link_tx_slot(struct link *l, uint32_t len);
void link_tx_commit(struct link *l, uint32_t len);
void link_tx_flush(struct link *l);

/* A sender holding a frame back because the link is full asks the peer
 * to ring it once it has taken frames. Returns true if it already has
 * (try again now). */
bool link_tx_want_room(struct link *l);

/* Receiving (device side): vq_pop/vq_push on l->rxq directly, then
 * link_rx_flush() publishes what was taken and rings the peer if it waits
 * for room; link_rx_rearm() asks the peer for a kick after draining. The
 * doorbell eventfd is l->rx_kick: the VMM watches it edge-triggered and
 * never reads it, so the peer (which shares it) can never make that read
 * block. */
void link_rx_flush(struct link *l);
bool link_rx_rearm(struct link *l);

#endif
