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

/* Bytes of each part of a ring of num entries, and the alignment each
 * part must have (VIRTIO 1.x 2.7): the one place these are computed. */
#define VRING_DESC_ALIGN	16
#define VRING_AVAIL_ALIGN	2
#define VRING_USED_ALIGN	4

static inline size_t vring_desc_size(unsigned num)
{
	return sizeof(struct vring_desc) * (size_t)num;
}

/* flags, idx, ring[num], used_event */
static inline size_t vring_avail_size(unsigned num)
{
	return offsetof(struct vring_avail, ring) + sizeof(uint16_t) * ((size_t)num + 1);
}

/* flags, idx, ring[num], avail_event */
static inline size_t vring_used_size(unsigned num)
{
	return offsetof(struct vring_used, ring) + sizeof(struct vring_used_elem) * (size_t)num +
	       sizeof(uint16_t);
}

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

const char *vq_strerror(enum vq_err err);

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

/* Only virtq.c writes these fields; other modules use the functions below
 * (vq_set_base, vq_resume_*, vq_remap, vq_clear) and the accessors. */
struct virtq {
	uint16_t num;			/* 0: not set up */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct memmap *mem;	/* translates descriptor addresses */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	enum vq_err err;		/* non-zero: stopped */

	/* device side */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill (unpublished) */
	uint16_t signalled_used;	/* used idx at the last notification */
	bool signalled_valid;
	bool notify_off;		/* we set VRING_USED_F_NO_NOTIFY (no EVENT_IDX) */

	/* driver side (fixed mapping: avail slot i always uses descriptor i) */
	uint16_t avail_idx;		/* next avail entry to fill (unpublished) */
	uint16_t kicked_avail;		/* avail idx at the last kick check */
	uint16_t last_used;		/* used entries reclaimed so far */
};

/* Bytes needed for a ring of num entries laid out contiguously:
 * desc at 0, avail at *avail_off, used at *used_off (4-byte aligned). */
size_t vq_ring_size(uint16_t num, size_t *avail_off, size_t *used_off);

/* Sets up q over rings already translated, with every index at 0: then
 * vq_set_base() or vq_resume_*() says where to start. */
void vq_init(struct virtq *q, uint16_t num, void *desc, void *avail, void *used,
	     const struct memmap *mem, bool event_idx, bool indirect);

/* Points q at other rings (vhost-user: a new memory table, new ring
 * addresses), keeping where it was: indices, notification state, error. */
void vq_remap(struct virtq *q, void *desc, void *avail, void *used,
	      const struct memmap *mem, bool event_idx, bool indirect);

/* Forgets the rings: q is not set up (vq_size() 0) until vq_init(). */
void vq_clear(struct virtq *q);

/* Device side: the next avail entry to take and the next used entry to
 * fill are both base (vhost-user SET_VRING_BASE). */
void vq_set_base(struct virtq *q, uint16_t base);

/* Device side: carries on from the used idx in the ring, where the
 * previous device of this queue stopped (a link after a VMM restart). */
void vq_resume_device(struct virtq *q);

/* Driver side: carries on from the avail and used idx in the ring (a link
 * after a VMM restart). A used idx further than num behind is not trusted:
 * everything counts as reclaimed, and a bad one fails the next reclaim. */
void vq_resume_driver(struct virtq *q);

/* Driver side: asks the device never to notify used buffers (links
 * reclaim when they next send). */
void vq_no_interrupt(struct virtq *q);

/* ---- state, read-only ---- */

/* Entries; 0 while not set up. */
static inline uint16_t vq_size(const struct virtq *q)
{
	return q->num;
}

/* Why q was stopped; VQ_OK while it runs. */
static inline enum vq_err vq_error(const struct virtq *q)
{
	return q->err;
}

/* Set up and not stopped. */
static inline bool vq_ready(const struct virtq *q)
{
	return q->num && !q->err;
}

/* Device side: where a device taking over would start (vhost-user
 * GET_VRING_BASE): the next avail entry to take. */
static inline uint16_t vq_base(const struct virtq *q)
{
	return q->last_avail;
}

/* Device side: used entries filled so far, published or not (mod 2^16):
 * compare two readings to tell whether vq_push() was called between. */
static inline uint16_t vq_used_count(const struct virtq *q)
{
	return q->used_idx;
}

/* Driver side: the descriptor the next vq_add() fills (a link's slot). */
static inline uint16_t vq_next_desc(const struct virtq *q)
{
	return q->avail_idx % q->num;
}

/* Driver side: entries made available and not reclaimed yet. */
static inline uint16_t vq_in_flight(const struct virtq *q)
{
	return (uint16_t)(q->avail_idx - q->last_used);
}

/* Driver side: the descriptor of in-flight entry i (0: the oldest). */
static inline uint16_t vq_flight_desc(const struct virtq *q, uint16_t i)
{
	return (uint16_t)(q->last_used + i) % q->num;
}

/* Driver side: descriptor d's addr and len as the ring holds them now
 * (shared memory: the caller checks them). */
void vq_desc_peek(const struct virtq *q, uint16_t d, uint64_t *addr, uint32_t *len);

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

/* The same for a device that needs at least n entries (n >= 1) beyond
 * those it has taken, as a frame that needs n RX buffers where fewer are
 * posted: with EVENT_IDX the driver kicks once the n-th is available;
 * without, on every entry it adds. Returns true if n are there already.
 * Asking for one more than it has seen keeps a device from polling
 * entries it cannot use yet. */
bool vq_want_avail(struct virtq *q, uint16_t n);

/* Asks the driver not to kick: we are taking entries anyway. Without
 * EVENT_IDX the flag stays until vq_enable_notify(); with it there is
 * nothing to do (the event index asks for one kick only). One store, and
 * only when the flag changes. */
void vq_disable_notify(struct virtq *q);

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

/* Asks the device to notify the next used entry (EVENT_IDX used_event),
 * then rechecks. Returns true if entries were used meanwhile (reclaim
 * now). Only for a queue with EVENT_IDX. */
bool vq_want_used(struct virtq *q);

/* ---- copying ---- */

/* Copies up to len bytes from the readable segments of c starting at byte
 * off into dst. Returns bytes copied. */
size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);

/* Copies len bytes from src into the writable segments of c starting at
 * byte off. Returns bytes copied (less than len if the chain is short). */
size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len);

#endif
