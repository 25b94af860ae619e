/* Split virtqueue, device and driver sides, against hostile rings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "virtq/virtq.h"

#define QN	8
#define GPA	0x100000ULL	/* guest memory starts here */
#define MEMSZ	0x10000

struct fx {
	uint8_t *mem;		/* region 0: [GPA, GPA+MEMSZ) */
	uint8_t *mem2;		/* region 1: right after region 0 */
	struct memmap map;
	uint8_t ring[8192] __attribute__((aligned(16)));
	struct virtq q;
	uint16_t avail;		/* driver's avail idx */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct mem_region r0 = { .gpa = GPA, .size = MEMSZ }, r1 = { .gpa = GPA + MEMSZ, .size = MEMSZ };
	size_t ao, uo;

	f->mem = aligned_alloc(4096, MEMSZ);
	f->mem2 = aligned_alloc(4096, MEMSZ);
	memset(f->mem, 0, MEMSZ);
	memset(f->mem2, 0, MEMSZ);
	r0.host = f->mem;
	r1.host = f->mem2;
	assert_int_equal(memmap_add(&f->map, &r0), 0);
	assert_int_equal(memmap_add(&f->map, &r1), 0);
	vq_ring_size(QN, &ao, &uo);
	vq_init(&f->q, QN, f->ring, f->ring + ao, f->ring + uo, &f->map, true, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->mem);
	free(f->mem2);
	free(f);
	return 0;
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void post(struct fx *f, uint16_t head)
{
	f->q.avail->ring[f->avail % QN] = head;
	f->avail++;
	f->q.avail->idx = f->avail;
}

static uint16_t *avail_event(struct fx *f)
{
	return (uint16_t *)((uint8_t *)f->q.used + 4 + 8 * QN);
}

static void expect_err(struct fx *f, int err)
{
	struct vq_chain c;

	assert_int_equal(vq_pop(&f->q, &c), -1);
	assert_int_equal(vq_error(&f->q), err);
	/* A stopped queue stays stopped. */
	assert_int_equal(vq_pop(&f->q, &c), -1);
}

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;

	assert_int_equal(vq_pop(&f->q, &c), 0);
	assert_false(vq_avail_pending(&f->q));
}

static void test_simple_chain(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;
	uint8_t buf[300];

	memcpy(f->mem, "hello, ", 7);
	memcpy(f->mem + 100, "world", 5);
	set_desc(&f->q.desc[3], GPA, 7, VRING_DESC_F_NEXT, 5);
	set_desc(&f->q.desc[5], GPA + 100, 5, VRING_DESC_F_NEXT, 1);
	set_desc(&f->q.desc[1], GPA + 200, 64, VRING_DESC_F_WRITE, 0);
	post(f, 3);
	assert_true(vq_avail_pending(&f->q));
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.nout, 2);
	assert_int_equal(c.nin, 1);
	assert_int_equal(c.out_len, 12);
	assert_int_equal(c.in_len, 64);
	assert_int_equal(vq_chain_read(&c, 0, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "hello, world", 12);
	assert_int_equal(vq_chain_read(&c, 5, buf, 4), 4);
	assert_memory_equal(buf, ", wo", 4);
	assert_int_equal(vq_chain_write(&c, 2, "xyz", 3), 3);
	assert_memory_equal(f->mem + 202, "xyz", 3);
	assert_int_equal(vq_chain_write(&c, 60, "abcdefgh", 8), 4);
	vq_push(&f->q, c.head, 15);
	vq_flush(&f->q);
	assert_int_equal(f->q.used->idx, 1);
	assert_int_equal(f->q.used->ring[0].id, 3);
	assert_int_equal(f->q.used->ring[0].len, 15);
	assert_int_equal(vq_pop(&f->q, &c), 0);
}

static void test_loop(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(&f->q.desc[1], GPA, 8, VRING_DESC_F_NEXT, 0);
	post(f, 0);
	expect_err(f, VQ_E_CHAIN);
}

static void test_self_loop(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[2], GPA, 8, VRING_DESC_F_NEXT, 2);
	post(f, 2);
	expect_err(f, VQ_E_CHAIN);
}

static void test_next_out_of_range(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA, 8, VRING_DESC_F_NEXT, QN);
	post(f, 0);
	expect_err(f, VQ_E_NEXT);
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;

	post(f, QN + 5);
	expect_err(f, VQ_E_HEAD);
}

static void test_zero_len(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA, 0, 0, 0);
	post(f, 0);
	expect_err(f, VQ_E_LEN0);
}

static void test_addr_outside(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA - 1, 8, 0, 0);
	post(f, 0);
	expect_err(f, VQ_E_ADDR);
}

static void test_addr_wrap(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], UINT64_MAX - 3, 8, 0, 0);
	post(f, 0);
	expect_err(f, VQ_E_ADDR);
}

static void test_addr_straddles_regions(void **state)
{
	struct fx *f = *state;

	/* Regions are adjacent in guest space but not on our side. */
	set_desc(&f->q.desc[0], GPA + MEMSZ - 4, 8, 0, 0);
	post(f, 0);
	expect_err(f, VQ_E_ADDR);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(&f->q.desc[1], GPA, 8, 0, 0);
	post(f, 0);
	expect_err(f, VQ_E_ORDER);
}

static void test_avail_jump(void **state)
{
	struct fx *f = *state;

	f->q.avail->idx = QN + 1;
	expect_err(f, VQ_E_AVAIL_IDX);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct vring_desc *t = (struct vring_desc *)(f->mem + 0x1000);
	struct vq_chain c;

	set_desc(&t[0], GPA + 0x2000, 10, VRING_DESC_F_NEXT, 1);
	set_desc(&t[1], GPA + 0x3000, 20, VRING_DESC_F_WRITE, 0);
	set_desc(&f->q.desc[4], GPA + 0x1000, 2 * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	post(f, 4);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_int_equal(c.head, 4);
	assert_int_equal(c.nout, 1);
	assert_int_equal(c.nin, 1);
	assert_ptr_equal(c.seg[0].p, f->mem + 0x2000);
	assert_ptr_equal(c.seg[1].p, f->mem + 0x3000);
}

static void test_indirect_nested(void **state)
{
	struct fx *f = *state;
	struct vring_desc *t = (struct vring_desc *)(f->mem + 0x1000);

	set_desc(&t[0], GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(&f->q.desc[0], GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_INDIRECT);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	vq_remap(&f->q, f->q.desc, f->q.avail, f->q.used, &f->map, true, false);
	set_desc(&f->q.desc[0], GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_INDIRECT);
}

static void test_indirect_past_region(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA + MEMSZ - 32, 64, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_INDIRECT);
}

static void test_indirect_bad_size(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA + 0x1000, 24, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_INDIRECT);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;

	set_desc(&f->q.desc[0], GPA + 0x1000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	post(f, 0);
	expect_err(f, VQ_E_INDIRECT);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;
	struct vring_desc *t = (struct vring_desc *)(f->mem + 0x1000);

	set_desc(&t[0], GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(&t[1], GPA, 8, VRING_DESC_F_NEXT, 0);
	set_desc(&f->q.desc[0], GPA + 0x1000, 2 * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_CHAIN);
}

static void test_chain_too_long(void **state)
{
	struct fx *f = *state;
	struct vring_desc *t = (struct vring_desc *)(f->mem + 0x1000);
	int i;

	/* A loop-free chain longer than we accept (indirect lifts the ring limit). */
	for (i = 0; i < VQ_MAX_SEGS + 1; i++)
		set_desc(&t[i], GPA, 8, i < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(&f->q.desc[0], GPA + 0x1000, (VQ_MAX_SEGS + 1) * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	expect_err(f, VQ_E_CHAIN);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;
	int i;

	f->avail = 65533;
	vq_set_base(&f->q, 65533);
	for (i = 0; i < 6; i++) {
		set_desc(&f->q.desc[i], GPA + 16 * i, 16, 0, 0);
		post(f, i);
	}
	for (i = 0; i < 6; i++) {
		assert_int_equal(vq_pop(&f->q, &c), 1);
		assert_int_equal(c.head, i);
		vq_push(&f->q, c.head, 0);
	}
	assert_int_equal(vq_pop(&f->q, &c), 0);
	vq_flush(&f->q);
	assert_int_equal(f->q.used->idx, 3);	/* 65533 + 6 mod 2^16 */
	assert_int_equal(vq_error(&f->q), 0);
}

/* The descriptor is rewritten after the device read it: the chain keeps
 * the values read once (the pointer was computed from the first read). */
static void test_double_fetch(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;

	set_desc(&f->q.desc[0], GPA, 8, 0, 0);
	post(f, 0);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	set_desc(&f->q.desc[0], GPA + 0x100000000ULL, 0xffffffff, VRING_DESC_F_NEXT, 0);
	assert_ptr_equal(c.seg[0].p, f->mem);
	assert_int_equal(c.seg[0].len, 8);
}

static void test_event_idx_notify(void **state)
{
	struct fx *f = *state;
	uint16_t *used_event = &f->q.avail->ring[QN];
	struct vq_chain c;
	int i;

	for (i = 0; i < 4; i++) {
		set_desc(&f->q.desc[i], GPA, 8, 0, 0);
		post(f, i);
	}
	/* The driver wants an interrupt only after the 3rd used entry. */
	*used_event = 2;
	assert_int_equal(vq_pop(&f->q, &c), 1);
	vq_push(&f->q, c.head, 0);
	assert_true(vq_flush(&f->q));	/* first flush always notifies */
	assert_int_equal(vq_pop(&f->q, &c), 1);
	vq_push(&f->q, c.head, 0);
	assert_false(vq_flush(&f->q));	/* used idx 2: event 2 not passed */
	assert_int_equal(vq_pop(&f->q, &c), 1);
	vq_push(&f->q, c.head, 0);
	assert_true(vq_flush(&f->q));	/* used idx 3 passes event 2 */
	assert_false(vq_flush(&f->q));	/* nothing new */

	/* enable_notify publishes avail_event and sees late arrivals. */
	assert_true(vq_enable_notify(&f->q));	/* entry 3 still pending */
	assert_int_equal(*avail_event(f), 3);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_false(vq_enable_notify(&f->q));
}

/* The driver's side of EVENT_IDX (VIRTIO 1.x 2.7.10): it kicks when its
 * avail idx moves from old past the device's avail_event. */
static bool driver_kicks(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* A device that needs n entries (a frame that takes n RX buffers) asks
 * for the kick that brings the n-th, and the fewer already posted do not
 * count as work: it must not poll them (a VMM spun on them). */
static void test_want_avail(void **state)
{
	struct fx *f = *state;
	uint16_t *ev = avail_event(f);
	struct vq_chain c;
	int i;

	for (i = 0; i < 8; i++)
		set_desc(&f->q.desc[i], GPA + 64 * i, 64, VRING_DESC_F_WRITE, 0);
	for (i = 0; i < 3; i++)
		post(f, i);
	assert_false(vq_want_avail(&f->q, 5));	/* three posted, five needed */
	assert_int_equal(*ev, 4);
	post(f, 3);
	assert_false(driver_kicks(*ev, 4, 3));	/* the fourth: no kick yet */
	assert_false(vq_want_avail(&f->q, 5));
	post(f, 4);
	assert_true(driver_kicks(*ev, 5, 4));	/* the fifth: kick */
	assert_true(vq_want_avail(&f->q, 5));

	/* Counted from what the device has taken; n 0 is n 1. */
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_true(vq_want_avail(&f->q, 3));	/* 2, 3, 4 */
	assert_false(vq_want_avail(&f->q, 4));
	assert_int_equal(*ev, 5);
	assert_true(vq_want_avail(&f->q, 0));
	assert_int_equal(*ev, 2);
	/* A batch that jumps past the event index still kicks once. */
	assert_false(vq_want_avail(&f->q, 6));
	assert_int_equal(*ev, 7);
	post(f, 5);
	post(f, 6);
	post(f, 7);
	assert_true(driver_kicks(*ev, 8, 5));
	assert_true(vq_want_avail(&f->q, 6));

	/* Without EVENT_IDX: the flag asks for every kick, and the count
	 * still decides whether there is work. */
	vq_remap(&f->q, f->q.desc, f->q.avail, f->q.used, &f->map, false, true);
	vq_disable_notify(&f->q);
	assert_false(vq_want_avail(&f->q, 7));
	assert_int_equal(f->q.used->flags, 0);
	assert_true(vq_want_avail(&f->q, 6));
}

static void test_no_event_idx_flags(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;

	vq_remap(&f->q, f->q.desc, f->q.avail, f->q.used, &f->map, false, true);
	set_desc(&f->q.desc[0], GPA, 8, 0, 0);
	post(f, 0);
	f->q.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(vq_pop(&f->q, &c), 1);
	vq_push(&f->q, c.head, 0);
	assert_false(vq_flush(&f->q));
}

/* Without EVENT_IDX the driver is told not to kick while we poll, with
 * one store (none when the flag is already set), until enable_notify. */
static void test_disable_notify(void **state)
{
	struct fx *f = *state;

	vq_remap(&f->q, f->q.desc, f->q.avail, f->q.used, &f->map, false, true);
	vq_disable_notify(&f->q);
	assert_int_equal(f->q.used->flags, VRING_USED_F_NO_NOTIFY);
	f->q.used->flags = 0;		/* only we write it: no second store */
	vq_disable_notify(&f->q);
	assert_int_equal(f->q.used->flags, 0);
	assert_false(vq_enable_notify(&f->q));
	f->q.used->flags = 7;
	assert_false(vq_enable_notify(&f->q));
	assert_int_equal(f->q.used->flags, 0);
	vq_disable_notify(&f->q);
	assert_int_equal(f->q.used->flags, VRING_USED_F_NO_NOTIFY);

	/* With EVENT_IDX nothing to write: the event index asks once. */
	vq_remap(&f->q, f->q.desc, f->q.avail, f->q.used, &f->map, true, true);
	f->q.used->flags = 0;
	assert_false(vq_enable_notify(&f->q));
	vq_disable_notify(&f->q);
	assert_int_equal(f->q.used->flags, 0);
}

static void test_driver_side(void **state)
{
	struct fx *f = *state;
	uint16_t *ev = avail_event(f);
	int i;

	assert_int_equal(vq_reclaim(&f->q), QN);
	*ev = 0;
	vq_add(&f->q, 0x10, 100);
	assert_true(vq_kick_needed(&f->q));	/* crosses avail_event 0 */
	vq_add(&f->q, 0x20, 100);
	assert_false(vq_kick_needed(&f->q));	/* device did not re-arm */
	assert_false(vq_kick_needed(&f->q));	/* nothing new: no kick */
	assert_int_equal(f->q.avail->idx, 2);
	assert_int_equal(f->q.desc[1].addr, 0x20);
	assert_int_equal(f->q.avail->ring[1], 1);
	for (i = 2; i < QN; i++)
		vq_add(&f->q, 0, 1);
	assert_int_equal(vq_reclaim(&f->q), 0);
	f->q.used->idx = 3;
	assert_int_equal(vq_reclaim(&f->q), 3);
	/* A device claiming more used entries than were in flight. */
	f->q.used->idx = 3 + QN;
	assert_int_equal(vq_reclaim(&f->q), -1);
	assert_int_equal(vq_error(&f->q), VQ_E_USED_IDX);
}

/* A driver waiting for room asks to be told of the next used entry
 * (used_event); the device, sharing the ring, says so at its next flush
 * and not again until asked again. */
static void test_want_used(void **state)
{
	struct fx *f = *state;
	struct virtq dev;
	size_t ao, uo;
	int i;

	vq_ring_size(QN, &ao, &uo);
	vq_init(&dev, QN, f->ring, f->ring + ao, f->ring + uo, NULL, true, false);
	for (i = 0; i < QN; i++)
		vq_add(&f->q, 0, 1);
	vq_kick_needed(&f->q);
	assert_int_equal(vq_reclaim(&f->q), 0);	/* full */
	/* The device takes two before the driver asks: the recheck sees them. */
	vq_push(&dev, 0, 0);
	vq_push(&dev, 1, 0);
	vq_flush(&dev);
	assert_true(vq_want_used(&f->q));
	assert_int_equal(vq_reclaim(&f->q), 2);
	vq_add(&f->q, 0, 1);
	vq_add(&f->q, 0, 1);
	vq_kick_needed(&f->q);
	/* Full again; asked with nothing new: the device rings at its next
	 * flush, and a flush after that does not ring. */
	assert_false(vq_want_used(&f->q));
	vq_push(&dev, 2, 0);
	assert_true(vq_flush(&dev));
	vq_push(&dev, 3, 0);
	assert_false(vq_flush(&dev));
	assert_int_equal(vq_reclaim(&f->q), 2);
}

/* The part sizes VIRTIO 1.x 2.7 gives, and the contiguous layout. */
static void test_ring_sizes(void **state)
{
	size_t ao, uo;

	assert_int_equal(vring_desc_size(256), 4096);
	assert_int_equal(vring_avail_size(256), 6 + 2 * 256);
	assert_int_equal(vring_used_size(256), 6 + 8 * 256);
	assert_int_equal(vq_ring_size(256, &ao, &uo), 4616 + 2054);
	assert_int_equal(ao, 4096);
	assert_int_equal(uo, 4616);	/* 4096 + 518, rounded up to 4 */
	assert_int_equal(vq_ring_size(QN, &ao, &uo), 152 + 70);
	assert_int_equal(uo % VRING_USED_ALIGN, 0);
}

/* The device takes over where a previous device published its used idx,
 * and a chain posted before the takeover is popped from there. */
static void test_resume_device(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;

	f->avail = 40;
	f->q.used->idx = 40;
	set_desc(&f->q.desc[2], GPA, 8, 0, 0);
	post(f, 2);
	vq_resume_device(&f->q);
	assert_int_equal(vq_base(&f->q), 40);
	assert_int_equal(vq_used_count(&f->q), 40);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_int_equal(c.head, 2);
	vq_push(&f->q, c.head, 0);
	assert_true(vq_flush(&f->q));	/* first flush after a resume notifies */
	assert_int_equal(f->q.used->idx, 41);
}

/* SET_VRING_BASE: both device indices start at base. */
static void test_set_base(void **state)
{
	struct fx *f = *state;
	struct vq_chain c;

	vq_set_base(&f->q, 1000);
	f->avail = 1000;
	set_desc(&f->q.desc[1], GPA, 8, 0, 0);
	post(f, 1);
	assert_int_equal(vq_pop(&f->q, &c), 1);
	assert_int_equal(vq_base(&f->q), 1001);
	vq_push(&f->q, c.head, 8);
	vq_flush(&f->q);
	assert_int_equal(f->q.used->idx, 1001);
	assert_int_equal(f->q.used->ring[1000 % QN].id, 1);
}

/* The driver resumes from both indices in the ring: what was in flight
 * stays in flight, and the next descriptor is avail idx mod num. */
static void test_resume_driver(void **state)
{
	struct fx *f = *state;

	f->q.avail->idx = 13;
	f->q.used->idx = 10;
	vq_resume_driver(&f->q);
	vq_no_interrupt(&f->q);
	assert_int_equal(f->q.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(vq_reclaim(&f->q), QN - 3);
	assert_int_equal(vq_next_desc(&f->q), 13 % QN);
	assert_int_equal(vq_add(&f->q, 0x10, 1), 13 % QN);
	vq_kick_needed(&f->q);	/* publishes avail idx */
	assert_int_equal(f->q.avail->idx, 14);

	/* A used idx that a peer scribbled far away: nothing is in flight,
	 * and a later bad move still fails the reclaim. */
	f->q.avail->idx = 100;
	f->q.used->idx = 5000;
	vq_resume_driver(&f->q);
	assert_int_equal(vq_reclaim(&f->q), -1);
	assert_int_equal(vq_error(&f->q), VQ_E_USED_IDX);
}

/* A remap points at other rings and keeps indices, notification state
 * and a stop; a clear forgets everything. */
static void test_remap_and_clear(void **state)
{
	struct fx *f = *state;
	static uint8_t other[8192] __attribute__((aligned(16)));
	struct vq_chain c;
	size_t ao, uo;
	int i;

	for (i = 0; i < 3; i++) {
		set_desc(&f->q.desc[i], GPA, 8, 0, 0);
		post(f, i);
		assert_int_equal(vq_pop(&f->q, &c), 1);
		vq_push(&f->q, c.head, 0);
	}
	assert_true(vq_flush(&f->q));
	memcpy(other, f->ring, sizeof(other));
	vq_ring_size(QN, &ao, &uo);
	vq_remap(&f->q, other, other + ao, other + uo, &f->map, true, true);
	assert_int_equal(vq_size(&f->q), QN);
	assert_int_equal(vq_base(&f->q), 3);
	assert_int_equal(vq_used_count(&f->q), 3);
	assert_false(vq_flush(&f->q));		/* nothing new since the last flush */
	assert_int_equal(vq_pop(&f->q, &c), 0);

	((struct vring_avail *)(other + ao))->idx = 3 + QN + 1;	/* the guest misbehaves */
	assert_int_equal(vq_pop(&f->q, &c), -1);
	vq_remap(&f->q, f->ring, f->ring + ao, f->ring + uo, &f->map, true, true);
	assert_false(vq_ready(&f->q));
	assert_int_equal(vq_error(&f->q), VQ_E_AVAIL_IDX);

	vq_clear(&f->q);
	assert_int_equal(vq_size(&f->q), 0);
	assert_int_equal(vq_error(&f->q), VQ_OK);
	assert_false(vq_ready(&f->q));
	assert_int_equal(vq_pop(&f->q, &c), 0);
}

static void test_memmap(void **state)
{
	struct fx *f = *state;
	struct mem_region bad = { .gpa = GPA + 10, .size = 10 };
	struct mem_region zero = { .gpa = 0, .size = 0 };
	struct mem_region wrap = { .gpa = UINT64_MAX - 1, .size = 10 };

	assert_int_equal(memmap_add(&f->map, &bad), -22);	/* overlaps */
	assert_int_equal(memmap_add(&f->map, &zero), -22);
	assert_int_equal(memmap_add(&f->map, &wrap), -22);
	assert_null(memmap_gpa(&f->map, GPA, 0));
	assert_non_null(memmap_gpa(&f->map, GPA, MEMSZ));
	assert_null(memmap_gpa(&f->map, GPA, MEMSZ + 1));
	assert_null(memmap_gpa(&f->map, GPA + 1, UINT64_MAX));
	assert_ptr_equal(memmap_gpa(&f->map, GPA + MEMSZ + 5, 1), f->mem2 + 5);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty), T(test_simple_chain), T(test_loop), T(test_self_loop),
		T(test_next_out_of_range), T(test_head_out_of_range), T(test_zero_len),
		T(test_addr_outside), T(test_addr_wrap), T(test_addr_straddles_regions),
		T(test_readable_after_writable), T(test_avail_jump), T(test_indirect),
		T(test_indirect_nested), T(test_indirect_not_negotiated),
		T(test_indirect_past_region), T(test_indirect_bad_size), T(test_indirect_with_next),
		T(test_indirect_loop), T(test_chain_too_long), T(test_wraparound),
		T(test_double_fetch), T(test_event_idx_notify), T(test_want_avail), T(test_no_event_idx_flags), T(test_disable_notify),
		T(test_driver_side), T(test_want_used), T(test_ring_sizes), T(test_resume_device), T(test_set_base),
		T(test_resume_driver), T(test_remap_and_clear), T(test_memmap),
	};

	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
