/* Split virtqueue, both sides. See virtq.h for the contract.
 *
 * Shared-memory discipline: every field the other side can write is read
 * exactly once with an atomic load into a local, then checked, then used.
 * Index publication uses release stores; the loads that pair with them
 * use acquire. A full fence separates "publish" from "read the other
 * side's event index" (the classic lost-wakeup race). */
#include "virtq/virtq.h"

#include <string.h>

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FENCE()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

static const char *const errs[VQ_E__MAX] = {
	[VQ_OK] = "ok",
	[VQ_E_AVAIL_IDX] = "avail index moved by more than the queue size",
	[VQ_E_HEAD] = "head descriptor index out of range",
	[VQ_E_NEXT] = "next descriptor index out of range",
	[VQ_E_CHAIN] = "descriptor chain too long (loop?)",
	[VQ_E_ADDR] = "buffer outside the peer's memory",
	[VQ_E_LEN0] = "zero-length descriptor",
	[VQ_E_INDIRECT] = "bad indirect descriptor table",
	[VQ_E_ORDER] = "readable descriptor after a writable one",
	[VQ_E_USED_IDX] = "used index moved past what was in flight",
};

const char *vq_strerror(enum vq_err err)
{
	return ((unsigned)err < VQ_E__MAX) ? errs[err] : "unknown error";
}

size_t vq_ring_size(uint16_t num, size_t *avail_off, size_t *used_off)
{
	size_t a = vring_desc_size(num);
	size_t u = (a + vring_avail_size(num) + VRING_USED_ALIGN - 1) & ~(size_t)(VRING_USED_ALIGN - 1);

	if (avail_off)
		*avail_off = a;
	if (used_off)
		*used_off = u;
	return u + vring_used_size(num);
}

void vq_init(struct virtq *q, uint16_t num, void *desc, void *avail, void *used,
	     const struct memmap *mem, bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	q->num = num;
	vq_remap(q, desc, avail, used, mem, event_idx, indirect);
}

void vq_remap(struct virtq *q, void *desc, void *avail, void *used,
	      const struct memmap *mem, bool event_idx, bool indirect)
{
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->mem = mem;
	q->event_idx = event_idx;
	q->indirect = indirect;
}

void vq_clear(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

void vq_set_base(struct virtq *q, uint16_t base)
{
	q->last_avail = q->used_idx = q->signalled_used = base;
	q->signalled_valid = false;
	q->notify_off = false;	/* a new ring: its flags are the driver's to set up */
}

/* A peer may have scribbled on the indices: that only makes the first
 * pop or reclaim fail cleanly. */
void vq_resume_device(struct virtq *q)
{
	vq_set_base(q, LOAD_ACQ(&q->used->idx));
}

void vq_resume_driver(struct virtq *q)
{
	q->avail_idx = q->kicked_avail = LOAD_ACQ(&q->avail->idx);
	q->last_used = LOAD_ACQ(&q->used->idx);
	if ((uint16_t)(q->avail_idx - q->last_used) > q->num)
		q->last_used = q->avail_idx;
}

void vq_no_interrupt(struct virtq *q)
{
	STORE(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

void vq_desc_peek(const struct virtq *q, uint16_t d, uint64_t *addr, uint32_t *len)
{
	*addr = LOAD(&q->desc[d % q->num].addr);
	*len = LOAD(&q->desc[d % q->num].len);
}

static int fail(struct virtq *q, enum vq_err err)
{
	if (!q->err)
		q->err = err;
	return -1;
}

/* used_event lives after avail->ring[num], avail_event after used->ring[num]. */
static uint16_t *used_event(const struct virtq *q)
{
	return &q->avail->ring[q->num];
}

static uint16_t *avail_event(const struct virtq *q)
{
	/* Computed in bytes: the slot is a u16 after the used elements. */
	return (uint16_t *)((uint8_t *)q->used + offsetof(struct vring_used, ring) +
			    sizeof(struct vring_used_elem) * q->num);
}

/* True if event lies in (old, new]: the other side asked to be told. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static void desc_read(const struct vring_desc *d, struct vring_desc *out)
{
	out->addr = LOAD(&d->addr);
	out->len = LOAD(&d->len);
	out->flags = LOAD(&d->flags);
	out->next = LOAD(&d->next);
}

/* Switches the walk to an indirect table. Only a chain's sole descriptor
 * may be indirect: no nesting, no mixing, whole table inside one region. */
static enum vq_err enter_indirect(struct virtq *q, const struct vring_desc *d, unsigned count,
			  const struct vring_desc **table, uint32_t *tsize)
{
	const struct vring_desc *t;

	if (!q->indirect || count != 0 || (d->flags & VRING_DESC_F_NEXT))
		return VQ_E_INDIRECT;
	if (d->len == 0 || d->len % sizeof(*t) || d->len / sizeof(*t) > VQ_MAX_SIZE)
		return VQ_E_INDIRECT;
	t = memmap_gpa(q->mem, d->addr, d->len);
	if (!t || (uintptr_t)t % _Alignof(struct vring_desc))
		return VQ_E_INDIRECT;
	*table = t;
	*tsize = d->len / sizeof(*t);
	return VQ_OK;
}

static enum vq_err walk(struct virtq *q, uint16_t head, struct vq_chain *c)
{
	const struct vring_desc *table = q->desc;
	uint32_t tsize = q->num, idx = head;
	uint64_t out_len = 0, in_len = 0;
	unsigned count = 0;
	bool indirect = false;

	c->nout = c->nin = 0;
	for (;;) {
		struct vring_desc d;
		struct vq_seg *s;
		void *p;

		desc_read(&table[idx], &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			enum vq_err e = indirect ? VQ_E_INDIRECT :
				enter_indirect(q, &d, count, &table, &tsize);
			if (e)
				return e;
			indirect = true;
			idx = 0;
			continue;
		}
		if (d.len == 0)
			return VQ_E_LEN0;
		if (count >= VQ_MAX_SEGS || count >= tsize)
			return VQ_E_CHAIN;
		p = memmap_gpa(q->mem, d.addr, d.len);
		if (!p)
			return VQ_E_ADDR;
		s = &c->seg[count++];
		s->p = p;
		s->len = d.len;
		if (d.flags & VRING_DESC_F_WRITE) {
			c->nin++;
			in_len += d.len;
		} else {
			if (c->nin)
				return VQ_E_ORDER;
			c->nout++;
			out_len += d.len;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= tsize)
			return VQ_E_NEXT;
		idx = d.next;
	}
	if (out_len > UINT32_MAX || in_len > UINT32_MAX)
		return VQ_E_CHAIN;
	c->out_len = out_len;
	c->in_len = in_len;
	c->head = head;
	return VQ_OK;
}

/* Starts loading what the next pops will touch, so that the misses on
 * memory the other side (often another CPU) last wrote overlap instead of
 * coming one after another: the descriptor two entries ahead, and the
 * buffer of the next one (its descriptor was prefetched by the previous
 * pop). What is read here is only a hint: translated and bounds-checked,
 * never used, and vq_pop reads it again. */
static void prefetch_ahead(const struct virtq *q, uint16_t pending)
{
	struct vring_desc d;
	uint16_t h;
	uint8_t *p;

	if (pending > 1) {
		h = LOAD(&q->avail->ring[(uint16_t)(q->last_avail + 1) % q->num]);
		if (h < q->num)
			__builtin_prefetch(&q->desc[h]);
	}
	if (pending == 0 || !q->mem)
		return;
	h = LOAD(&q->avail->ring[q->last_avail % q->num]);
	if (h >= q->num)
		return;
	desc_read(&q->desc[h], &d);
	if (!d.len || (d.flags & VRING_DESC_F_INDIRECT))
		return;
	p = memmap_gpa(q->mem, d.addr, d.len < 128 ? d.len : 128);
	if (!p)
		return;
	if (d.flags & VRING_DESC_F_WRITE) {
		__builtin_prefetch(p, 1);
		if (d.len > 64)
			__builtin_prefetch(p + 64, 1);
	} else {
		__builtin_prefetch(p);
		if (d.len > 64)
			__builtin_prefetch(p + 64);
	}
}

int vq_pop(struct virtq *q, struct vq_chain *c)
{
	uint16_t avail, pending, head;
	enum vq_err e;

	if (q->err)
		return -1;
	if (!q->num)
		return 0;
	avail = LOAD_ACQ(&q->avail->idx);
	pending = avail - q->last_avail;
	if (pending == 0)
		return 0;
	if (pending > q->num)
		return fail(q, VQ_E_AVAIL_IDX);
	head = LOAD(&q->avail->ring[q->last_avail % q->num]);
	if (head >= q->num)
		return fail(q, VQ_E_HEAD);
	e = walk(q, head, c);
	if (e)
		return fail(q, e);
	q->last_avail++;
	prefetch_ahead(q, pending - 1);
	return 1;
}

void vq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void vq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &q->used->ring[q->used_idx % q->num];

	STORE(&e->id, head);
	STORE(&e->len, len);
	q->used_idx++;
}

bool vq_flush(struct virtq *q)
{
	uint16_t old, new_idx;
	bool valid;

	if (!q->num)
		return false;
	new_idx = q->used_idx;
	STORE_REL(&q->used->idx, new_idx);
	FENCE();
	old = q->signalled_used;
	valid = q->signalled_valid;
	if (valid && old == new_idx)
		return false;
	q->signalled_used = new_idx;
	q->signalled_valid = true;
	if (q->event_idx)
		return !valid || need_event(LOAD(used_event(q)), new_idx, old);
	return !(LOAD(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

void vq_disable_notify(struct virtq *q)
{
	if (!q->num || q->err || q->event_idx || q->notify_off)
		return;
	STORE(&q->used->flags, VRING_USED_F_NO_NOTIFY);
	q->notify_off = true;
}

bool vq_want_avail(struct virtq *q, uint16_t n)
{
	if (!q->num || q->err)
		return false;
	if (n == 0)
		n = 1;
	/* The driver kicks when its avail idx moves past avail_event. */
	if (q->event_idx)
		STORE(avail_event(q), (uint16_t)(q->last_avail + n - 1));
	else
		STORE(&q->used->flags, 0);
	q->notify_off = false;
	FENCE();
	return (uint16_t)(LOAD_ACQ(&q->avail->idx) - q->last_avail) >= n;
}

bool vq_enable_notify(struct virtq *q)
{
	return vq_want_avail(q, 1);
}

bool vq_avail_pending(const struct virtq *q)
{
	return q->num && !q->err && LOAD_ACQ(&q->avail->idx) != q->last_avail;
}

int vq_reclaim(struct virtq *q)
{
	uint16_t used, done, inflight;

	if (q->err)
		return -1;
	used = LOAD_ACQ(&q->used->idx);
	done = used - q->last_used;
	inflight = q->avail_idx - q->last_used;
	if (done > inflight)
		return fail(q, VQ_E_USED_IDX);
	q->last_used = used;
	return q->num - (uint16_t)(q->avail_idx - q->last_used);
}

uint16_t vq_add(struct virtq *q, uint64_t addr, uint32_t len)
{
	uint16_t id = q->avail_idx % q->num;
	struct vring_desc *d = &q->desc[id];

	STORE(&d->addr, addr);
	STORE(&d->len, len);
	STORE(&d->flags, 0);
	STORE(&d->next, 0);
	STORE(&q->avail->ring[id], id);
	q->avail_idx++;
	return id;
}

bool vq_kick_needed(struct virtq *q)
{
	uint16_t old = q->kicked_avail, new_idx = q->avail_idx;

	if (q->err || old == new_idx)
		return false;
	STORE_REL(&q->avail->idx, new_idx);
	FENCE();
	q->kicked_avail = new_idx;
	if (q->event_idx)
		return need_event(LOAD(avail_event(q)), new_idx, old);
	return !(LOAD(&q->used->flags) & VRING_USED_F_NO_NOTIFY);
}

bool vq_want_used(struct virtq *q)
{
	if (!q->num || q->err)
		return false;
	STORE(used_event(q), q->last_used);
	FENCE();
	return LOAD_ACQ(&q->used->idx) != q->last_used;
}

/* Copies between buf and segments [first, first+count) of c, starting
 * at byte off of those segments; to_chain picks the direction. */
static size_t chain_copy(const struct vq_chain *c, unsigned first, unsigned count, size_t off,
			 uint8_t *buf, size_t len, bool to_chain)
{
	size_t done = 0;
	unsigned i;

	for (i = first; i < first + count && done < len; i++) {
		const struct vq_seg *s = &c->seg[i];
		size_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		if (to_chain)
			memcpy(s->p + off, buf + done, n);
		else
			memcpy(buf + done, s->p + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	return chain_copy(c, 0, c->nout, off, dst, len, false);
}

size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	return chain_copy(c, c->nout, c->nin, off, (uint8_t *)src, len, true);
}
