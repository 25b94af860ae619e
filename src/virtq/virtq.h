/* One split-virtqueue implementation (VIRTIO 1.x, 2.7) for every queue in
 * multivm: the guest's RX/TX queues (we are the device) and the link
 * queues (the sender is the driver, the receiver the device).
 *
 * The other side of every queue is untrusted. Each ring index, descriptor
 * field and address is read once, checked, then used; a violation stops
 * the queue (vq->err) and is reported by the caller once. */
#ifndef MULTIVM_VIRTQ_H
#define MULTIVM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtq/memmap.h"

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_USED_F_NO_NOTIFY	1
#define VRING_AVAIL_F_NO_INTERRUPT 1

#define VQ_MAX_SIZE	32768
#define VQ_MAX_SEGS	64	/* longest chain we accept, in descriptors */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* then avail_event */
};

/* The split ring's layout, as VIRTIO 1.x section 2.7 fixes it. */
_Static_assert(sizeof(struct vring_desc) == 16 && offsetof(struct vring_desc, len) == 8 &&
	       offsetof(struct vring_desc, next) == 14, "struct vring_desc layout");
_Static_assert(offsetof(struct vring_avail, ring) == 4 && sizeof(struct vring_used_elem) == 8 &&
	       offsetof(struct vring_used, ring) == 4, "avail and used ring layout");

/* Why a queue was stopped. */
enum vq_err {
	VQ_OK = 0,
	VQ_E_AVAIL_IDX,		/* avail idx moved by more than the queue size */
	VQ_E_HEAD,		/* head index out of range */
	VQ_E_NEXT,		/* next index out of range */
	VQ_E_CHAIN,		/* chain longer than the queue or VQ_MAX_SEGS (loop) */
	VQ_E_ADDR,		/* buffer outside the peer's memory, or straddling */
	VQ_E_LEN0,		/* zero-length descriptor */
	VQ_E_INDIRECT,		/* bad indirect table (nested, size, not negotiated) */
	VQ_E_ORDER,		/* device-readable after device-writable */
	VQ_E_USED_IDX,		/* used idx moved by more than was in flight */
	VQ_E__MAX
};

const char *vq_strerror(int err);

/* A descriptor chain, as the device sees it: readable segments first,
 * then writable ones, each already translated and bounds-checked. */
struct vq_seg {
	uint8_t *p;
	uint32_t len;
};

struct vq_chain {
	uint16_t head;
	uint16_t nout, nin;		/* readable, writable segment counts */
	uint32_t out_len, in_len;	/* total bytes of each */
	struct vq_seg seg[VQ_MAX_SEGS];	/* nout readable, then nin writable */
};

struct virtq {
	uint16_t num;			/* 0: not set up */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct memmap *mem;	/* translates descriptor addresses */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	int err;			/* enum vq_err; non-zero: stopped */

	/* device side */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill (unpublished) */
	uint16_t signalled_used;	/* used idx at the last notification */
	bool signalled_valid;

	/* driver side (fixed mapping: avail slot i always uses descriptor i) */
	uint16_t avail_idx;		/* next avail entry to fill (unpublished) */
	uint16_t kicked_avail;		/* avail idx at the last kick check */
	uint16_t last_used;		/* used entries reclaimed so far */
};

/* Bytes needed for a ring of num entries laid out contiguously:
 * desc at 0, avail at *avail_off, used at *used_off (4-byte aligned). */
size_t vq_ring_size(uint16_t num, size_t *avail_off, size_t *used_off);

/* Sets up q over rings already translated. Indices start from the given
 * values (vhost-user SET_VRING_BASE, or a link being re-attached). */
void vq_init(struct virtq *q, uint16_t num, void *desc, void *avail, void *used,
	     const struct memmap *mem, bool event_idx, bool indirect);

/* ---- device side ---- */

/* Takes the next available chain. Returns 1 with *c filled, 0 when the
 * ring is empty, -1 when the queue is (now) stopped: see q->err. */
int vq_pop(struct virtq *q, struct vq_chain *c);

/* Gives back the chain just popped, untouched (the ring entry is taken
 * again by the next vq_pop). Only valid right after vq_pop returned 1. */
void vq_unpop(struct virtq *q);

/* Returns chain head as used with len bytes written (not yet visible). */
void vq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Publishes pushed entries. Returns true if the driver asked to be
 * notified (EVENT_IDX used_event, or no NO_INTERRUPT flag). */
bool vq_flush(struct virtq *q);

/* Asks the driver to kick on the next available entry, then rechecks.
 * Returns true if entries arrived meanwhile (caller should poll again). */
bool vq_enable_notify(struct virtq *q);

/* Whether the driver has made entries available that we have not taken. */
bool vq_avail_pending(const struct virtq *q);

/* ---- driver side (links) ---- */

/* Reclaims used entries. Returns entries free for vq_add, or -1 if the
 * device moved used idx past what was in flight (q->err set). */
int vq_reclaim(struct virtq *q);

/* Makes descriptor (avail_idx % num) available: addr/len, device-readable.
 * Caller checked vq_reclaim() > 0. Returns the descriptor index used. */
uint16_t vq_add(struct virtq *q, uint64_t addr, uint32_t len);

/* Publishes added entries. Returns true if the device wants a kick. */
bool vq_kick_needed(struct virtq *q);

/* ---- copying ---- */

/* Copies up to len bytes from the readable segments of c starting at byte
 * off into dst. Returns bytes copied. */
size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);

/* Copies len bytes from src into the writable segments of c starting at
 * byte off. Returns bytes copied (less than len if the chain is short). */
size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len);

#endif
