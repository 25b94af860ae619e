/* The link record: what link_rec_put writes, link_rec_next reads back
 * (the writer and the reader of one format, tested together), and what a
 * hostile peer might put on the link instead is refused and counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "link/record.h"
#include "net/vnet.h"
#include "../guest_model.h"
#include "../tcpframe.h"

static const uint8_t ma[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 }, mb[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

struct fx {
	struct link a, b;	/* a sends to b */
	struct link_stats sa, sb;
};

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(link_pair(&f.a, &f.b, 64, ma, mb), 0);
	f.a.st = &f.sa;
	f.b.st = &f.sb;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	link_detach(&f->a);
	link_detach(&f->b);
	return 0;
}

/* Puts a frame of len bytes with metadata m (NULL: plain) on a. */
static void send_rec(struct fx *f, const uint8_t *frame, uint32_t len, const struct vnet_meta *m)
{
	uint8_t *slot = link_tx_slot(&f->a, len);

	assert_non_null(slot);
	memcpy(link_rec_put(slot, m), frame, len);
	link_tx_commit(&f->a, len);
	link_tx_flush(&f->a);
}

static void test_plain_round_trip(void **state)
{
	struct fx *f = *state;
	struct link_rec r;
	uint8_t frame[1518];
	unsigned i;

	for (i = 0; i < sizeof(frame); i++)
		frame[i] = i * 13 + 1;
	memcpy(frame, mb, 6);
	memcpy(frame + 6, ma, 6);
	send_rec(f, frame, 60, NULL);
	send_rec(f, frame, 1518, NULL);
	assert_true(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(r.why, DROP_NONE);
	assert_true(r.plain);
	assert_int_equal(r.len, 60);
	assert_int_equal(r.checked, LINK_REC_ADDRS);
	assert_memory_equal(r.peek, frame, LINK_REC_ADDRS);
	assert_memory_equal(r.frame, frame, 60);
	assert_int_equal(r.m.gso_type, 0);
	link_rec_end(&f->b, &r);
	/* The same record, for a receiver of a smaller MTU: malformed. */
	assert_true(link_rec_next(&f->b, &r, 1514));
	assert_int_equal(r.why, DROP_MALFORMED);
	link_rec_keep(&f->b);	/* given back: read again */
	assert_true(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(r.why, DROP_NONE);
	assert_int_equal(r.len, 1518);
	link_rec_end(&f->b, &r);
	assert_false(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(f->sb.errors, 0);
}

/* A TSO frame: the writer's metadata is what the reader checks. */
static void test_tso_round_trip(void **state)
{
	struct fx *f = *state;
	static uint8_t frame[65550];
	struct vnet_hdr h;
	struct vnet_meta m;
	struct link_rec r;
	unsigned l4;
	uint32_t len = tf_build(frame, false, 0, 12, 20000, 0x18, mb, ma, &l4);

	tf_partial(frame, l4, len, false);
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4, .gso_size = 1448,
			       .csum_start = l4, .csum_offset = 16, .hdr_len = l4 + 32 };
	assert_int_equal(vnet_check(&h, frame, len, VNET_CAP_ALL, 1518, &m), 0);
	send_rec(f, frame, len, &m);
	assert_true(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(r.why, DROP_NONE);
	assert_false(r.plain);
	assert_int_equal(r.len, len);
	assert_int_equal(r.checked, VNET_PEEK);
	assert_memory_equal(r.peek, frame, VNET_PEEK);
	assert_int_equal(r.m.gso_type, m.gso_type);
	assert_int_equal(r.m.gso_size, 1448);
	assert_int_equal(r.m.nsegs, m.nsegs);
	assert_int_equal(r.m.hdrs_len, m.hdrs_len);
	link_rec_end(&f->b, &r);
	/* A receiver that takes frames of a 9000 MTU still checks the TSO
	 * headers: a gso_size above what any MTU allows is refused. */
	m.gso_size = 0;
	h.gso_size = 0;
	send_rec(f, frame, len, &m);
	assert_true(link_rec_next(&f->b, &r, 9018));
	assert_int_equal(r.why, DROP_MALFORMED);
	link_rec_end(&f->b, &r);
}

/* A peer that writes a record of another shape (device-writable, too
 * short, too long): malformed, and an error of the link. */
static void test_hostile_shapes(void **state)
{
	struct fx *f = *state;
	struct link_rec r;
	uint8_t frame[64] = { 0 };
	unsigned i;

	memcpy(frame, mb, 6);
	memcpy(frame + 6, ma, 6);
	send_rec(f, frame, 64, NULL);
	for (i = 0; i < f->a.txq.num; i++)	/* the peer scribbles on its descriptors */
		f->a.txq.desc[i].flags |= VRING_DESC_F_WRITE;
	assert_true(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(r.why, DROP_MALFORMED);
	assert_int_equal(f->sb.errors, 1);
	link_rec_end(&f->b, &r);
	for (i = 0; i < f->a.txq.num; i++)
		f->a.txq.desc[i].flags &= ~VRING_DESC_F_WRITE;
	send_rec(f, frame, 64, NULL);
	for (i = 0; i < f->a.txq.num; i++)	/* shorter than metadata + a header */
		f->a.txq.desc[i].len = LINK_META_LEN + LINK_MIN_FRAME - 1;
	assert_true(link_rec_next(&f->b, &r, 1518));
	assert_int_equal(r.why, DROP_MALFORMED);
	assert_int_equal(f->sb.errors, 2);
	link_rec_end(&f->b, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tso_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_shapes, setup, teardown),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
