/* The capture ring: the VMM's writer and a reader together (round trip,
 * overrun and lost counting, a writer racing the reader, a restarted
 * writer), leases and slots, the writer's cost with no reader (it does
 * not write to the file at all), and hostile ring contents refused
 * without reading outside the mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/capring.h"

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct fx {
	uint8_t *map;		/* exactly CAP_FILE_SIZE, page aligned */
	struct cap_writer w;
	struct cap_reader r;
	struct cap_frame f;
};

static const char *const peers[] = { "vm1", "vm2" };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->map = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->map != MAP_FAILED);
	assert_int_equal(capw_attach(&f->w, f->map, CAP_FILE_SIZE, "vm0", peers, 2), 0);
	assert_int_equal(capr_open(&f->r, f->map, CAP_FILE_SIZE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	munmap(f->map, CAP_FILE_SIZE);
	free(f);
	return 0;
}

/* A frame whose bytes all derive from (stream, sseq): a torn copy shows. */
static uint32_t put(struct fx *f, unsigned stream, unsigned dir, uint64_t sseq)
{
	uint8_t buf[CAP_FRAME_MAX];
	uint32_t len = CAP_FRAME_MIN + (sseq * 7 + stream) % (1518 - CAP_FRAME_MIN + 1);

	memset(buf, (int)(sseq + stream), len);
	capw_frame(&f->w, stream, dir, buf, len);
	return len;
}

static void check_frame(const struct cap_frame *fr, uint64_t sseq)
{
	uint32_t len = CAP_FRAME_MIN + (sseq * 7 + fr->stream) % (1518 - CAP_FRAME_MIN + 1);
	uint32_t i;

	assert_int_equal(fr->len, len);
	for (i = 0; i < len; i++)
		if (fr->data[i] != (uint8_t)(sseq + fr->stream))
			fail_msg("frame %llu byte %u is %u", (unsigned long long)sseq, i, fr->data[i]);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	uint32_t want = CAP_BIT(CAP_STREAM_GUEST) | CAP_BIT(CAP_STREAM_LINK(1));
	uint64_t i;

	assert_int_equal(capr_find_stream(&f->r, "vm1"), CAP_STREAM_LINK(0));
	assert_int_equal(capr_find_stream(&f->r, "vm2"), CAP_STREAM_LINK(1));
	assert_int_equal(capr_find_stream(&f->r, "vm0"), -1);	/* stream 0 is the guest, not a link */
	assert_int_equal(capr_find_stream(&f->r, "vm3"), -1);
	assert_int_equal(capr_register(&f->r, want, 42, mono()), 0);
	assert_int_equal(f->r.hdr->wanted, 1);
	assert_int_equal(capw_batch(&f->w), want);
	assert_true(f->w.ts_ns > 1600000000ULL * 1000000000ULL);	/* wall clock */
	for (i = 0; i < 10; i++) {
		put(f, CAP_STREAM_GUEST, i & 1, i);
		put(f, CAP_STREAM_LINK(0), 0, i);	/* not wanted */
		put(f, CAP_STREAM_LINK(1), 0, i);
	}
	for (i = 0; i < 20; i++) {
		assert_int_equal(capr_next(&f->r, &f->f), 1);
		assert_int_equal(f->f.stream, i & 1 ? CAP_STREAM_LINK(1) : CAP_STREAM_GUEST);
		assert_int_equal(f->f.dir, f->f.stream == CAP_STREAM_GUEST ? (i / 2) & 1 : 0);
		assert_int_equal(f->f.ts_ns, f->w.ts_ns);
		check_frame(&f->f, i / 2);
	}
	assert_int_equal(capr_next(&f->r, &f->f), 0);
	capr_mark_end(&f->r);
	assert_int_equal(capr_end(&f->r), 0);
	assert_int_equal(f->r.lost, 0);
	capr_unregister(&f->r);
	assert_int_equal(capw_batch(&f->w), 0);	/* the last reader left */
	assert_int_equal(f->r.hdr->wanted, 0);
}

/* Frames recorded before a reader registers are not its. */
static void test_starts_at_head(void **state)
{
	struct fx *f = *state;

	put(f, CAP_STREAM_GUEST, 0, 0);
	put(f, CAP_STREAM_GUEST, 0, 1);
	assert_int_equal(capr_register(&f->r, CAP_BIT(CAP_STREAM_GUEST), 1, mono()), 0);
	assert_int_equal(capr_next(&f->r, &f->f), 0);
	put(f, CAP_STREAM_GUEST, 0, 2);
	assert_int_equal(capr_next(&f->r, &f->f), 1);
	check_frame(&f->f, 2);
	assert_int_equal(f->r.lost, 0);
}

/* The writer never waits: a reader that fell a ring behind skips ahead
 * and counts exactly the frames of its streams it lost. */
static void test_overrun_counts_lost(void **state)
{
	struct fx *f = *state;
	uint64_t i, got = 0, n = CAP_SLOTS + 300;

	assert_int_equal(capr_register(&f->r, CAP_BIT(CAP_STREAM_GUEST), 1, mono()), 0);
	for (i = 0; i < n; i++) {
		put(f, CAP_STREAM_GUEST, 0, i);
		if (i % 3 == 0)
			put(f, CAP_STREAM_LINK(0), 0, i / 3);	/* others' frames share the ring */
	}
	while (capr_next(&f->r, &f->f) == 1) {
		check_frame(&f->f, f->r.expect[0] - 1);
		got++;
	}
	assert_true(f->r.lost > 0);
	assert_true(got > CAP_SLOTS / 2);
	assert_int_equal(got + f->r.lost, n);
	/* Frames recorded after the end was marked and never read are lost too. */
	put(f, CAP_STREAM_GUEST, 0, n);
	put(f, CAP_STREAM_GUEST, 0, n + 1);
	capr_mark_end(&f->r);
	assert_int_equal(capr_end(&f->r), 0);
	assert_int_equal(got + f->r.lost, n + 2);
}

/* A writer thread racing the reader: every frame read is whole, never a
 * mix of two records, and captured + lost is every frame written. */
struct race {
	struct fx *f;
	uint64_t n;
	volatile int go;
};

static void *writer(void *arg)
{
	struct race *ra = arg;
	uint64_t i;

	while (!__atomic_load_n(&ra->go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < ra->n; i++)
		put(ra->f, CAP_STREAM_GUEST, 0, i);
	__atomic_store_n(&ra->go, 2, __ATOMIC_RELEASE);
	return NULL;
}

static void test_racing_writer(void **state)
{
	struct fx *f = *state;
	struct race ra = { f, 200000, 0 };
	uint64_t got = 0;
	pthread_t t;
	int rc;

	assert_int_equal(capr_register(&f->r, CAP_BIT(CAP_STREAM_GUEST), 1, mono()), 0);
	assert_int_equal(pthread_create(&t, NULL, writer, &ra), 0);
	__atomic_store_n(&ra.go, 1, __ATOMIC_RELEASE);
	for (;;) {
		int done = __atomic_load_n(&ra.go, __ATOMIC_ACQUIRE) == 2;

		while ((rc = capr_next(&f->r, &f->f)) == 1) {
			check_frame(&f->f, f->r.expect[0] - 1);
			got++;
		}
		assert_int_equal(rc, 0);
		if (done)
			break;
	}
	pthread_join(t, NULL);
	capr_mark_end(&f->r);
	assert_int_equal(capr_end(&f->r), 0);
	assert_int_equal(got + f->r.lost, ra.n);
	print_message("racing writer: %llu read, %llu lost\n", (unsigned long long)got, (unsigned long long)f->r.lost);
}

/* A restarted VMM carries on from the same head and counts. */
static void test_writer_restart(void **state)
{
	struct fx *f = *state;

	assert_int_equal(capr_register(&f->r, CAP_BIT(CAP_STREAM_GUEST), 1, mono()), 0);
	put(f, CAP_STREAM_GUEST, 0, 0);
	assert_int_equal(capw_attach(&f->w, f->map, CAP_FILE_SIZE, "vm0", peers, 2), 0);
	put(f, CAP_STREAM_GUEST, 0, 1);
	assert_int_equal(capr_next(&f->r, &f->f), 1);
	check_frame(&f->f, 0);
	assert_int_equal(capr_next(&f->r, &f->f), 1);
	check_frame(&f->f, 1);
	assert_int_equal(f->r.lost, 0);
}

/* No reader: capw_batch reads `wanted` and writes nothing anywhere in the
 * file (it is read-only here: a store would fault). */
static void test_no_reader_costs_nothing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mprotect(f->map, CAP_FILE_SIZE, PROT_READ), 0);
	assert_int_equal(capw_batch(&f->w), 0);
	assert_int_equal(capw_batch(&f->w), 0);
	assert_int_equal(mprotect(f->map, CAP_FILE_SIZE, PROT_READ | PROT_WRITE), 0);
	/* Without a capture file at all, nothing either. */
	memset(&f->w, 0, sizeof(f->w));
	assert_int_equal(capw_batch(&f->w), 0);
}

/* A reader killed with SIGKILL leaves a lease that runs out: the next
 * batch clears `wanted`, and from then on the writer writes nothing. */
static void test_dead_reader_lease_runs_out(void **state)
{
	struct fx *f = *state;

	assert_int_equal(capr_register(&f->r, CAP_BIT(CAP_STREAM_GUEST), 1, mono() - CAP_LEASE_NS - 1), 0);
	assert_int_equal(f->r.hdr->wanted, 1);
	assert_int_equal(capw_batch(&f->w), 0);
	assert_int_equal(f->r.hdr->wanted, 0);
	assert_int_equal(mprotect(f->map, CAP_FILE_SIZE, PROT_READ), 0);
	assert_int_equal(capw_batch(&f->w), 0);
	assert_int_equal(mprotect(f->map, CAP_FILE_SIZE, PROT_READ | PROT_WRITE), 0);
	/* A lease set absurdly far ahead does not keep the writer busy. */
	f->r.hdr->reader[3].lease_ns = UINT64_MAX;
	f->r.hdr->reader[3].streams = 1;
	f->r.hdr->wanted = 1;
	assert_int_equal(capw_batch(&f->w), 0);
	/* Renewing after the lease ran out counts a lapse and wants again. */
	assert_int_equal(capr_renew(&f->r, 1, mono()), 0);
	assert_int_equal(f->r.lapses, 1);
	assert_int_equal(f->r.hdr->wanted, 1);
	assert_int_equal(capw_batch(&f->w), CAP_BIT(CAP_STREAM_GUEST));
}

static void test_slots(void **state)
{
	struct fx *f = *state;
	static struct cap_reader r[CAP_READERS + 1];
	uint64_t now = mono();
	unsigned i;

	for (i = 0; i < CAP_READERS; i++) {
		assert_int_equal(capr_open(&r[i], f->map, CAP_FILE_SIZE), 0);
		assert_int_equal(capr_register(&r[i], CAP_BIT(i), 100 + i, now), 0);
	}
	assert_int_equal(capr_open(&r[i], f->map, CAP_FILE_SIZE), 0);
	assert_int_equal(capr_register(&r[i], 1, 999, now), -EBUSY);
	assert_int_equal(capw_batch(&f->w), (1u << CAP_STREAMS) - 1);
	capr_unregister(&r[5]);
	assert_int_equal(capw_batch(&f->w), ((1u << CAP_STREAMS) - 1) & ~CAP_BIT(5));
	assert_int_equal(capr_register(&r[i], CAP_BIT(5), 999, now), 0);
	assert_int_equal(r[i].slot, 5);
	assert_int_equal(f->r.hdr->reader[5].pid, 999);
	/* A renewal keeps the slot. */
	assert_int_equal(capr_renew(&r[2], 102, now + 1000), 0);
	assert_int_equal(r[2].slot, 2);
	assert_int_equal(r[2].lapses, 0);
}

/* What a hostile writer can put in the file is refused, and every copy
 * stays inside the mapping (ASan build: an exact-size mapping). */
static void expect_bad(struct fx *f)
{
	assert_int_equal(capr_next(&f->r, &f->f), -EBADMSG);
}

static struct cap_rec *rec_at(struct fx *f, uint64_t seq)
{
	return (struct cap_rec *)(f->map + CAP_HDR_SIZE + (seq % CAP_SLOTS) * CAP_SLOT_SIZE);
}

static void test_hostile_records(void **state)
{
	struct fx *f = *state;
	static const uint16_t bad_len[] = { 0, 13, CAP_FRAME_MAX + 1, 65535 };
	struct cap_hdr *h = (struct cap_hdr *)f->map;
	unsigned i;

	for (i = 0; i < 8; i++) {
		assert_int_equal(capr_register(&f->r, CAP_BIT(0), 1, mono()), 0);
		put(f, CAP_STREAM_GUEST, 0, f->w.total[0]);
		switch (i) {
		case 0: case 1: case 2: case 3:
			rec_at(f, f->w.head - 1)->len = bad_len[i];
			break;
		case 4:
			rec_at(f, f->w.head - 1)->seq += CAP_SLOTS;	/* not the record it should be */
			break;
		case 5:
			rec_at(f, f->w.head - 1)->stream = CAP_STREAMS;
			break;
		case 6:
			rec_at(f, f->w.head - 1)->dir = 2;
			break;
		case 7:	/* more frames lost than the ring held */
			rec_at(f, f->w.head - 1)->sseq += 1000;
			break;
		}
		expect_bad(f);
	}
	/* head going backwards */
	assert_int_equal(capr_register(&f->r, CAP_BIT(0), 1, mono()), 0);
	put(f, CAP_STREAM_GUEST, 0, f->w.total[0]);
	assert_int_equal(capr_next(&f->r, &f->f), 1);
	h->head -= 1;
	expect_bad(f);
	/* a stream going backwards */
	h->head += 1;
	assert_int_equal(capr_register(&f->r, CAP_BIT(0), 1, mono()), 0);
	put(f, CAP_STREAM_GUEST, 0, f->w.total[0]);
	put(f, CAP_STREAM_GUEST, 0, f->w.total[0]);
	assert_int_equal(capr_next(&f->r, &f->f), 1);
	rec_at(f, f->w.head - 1)->sseq -= 1;
	expect_bad(f);
	/* end counts more than could have been recorded */
	assert_int_equal(capr_register(&f->r, CAP_BIT(0), 1, mono()), 0);
	capr_mark_end(&f->r);
	f->r.end_total[0] += CAP_SLOTS * 4;
	assert_int_equal(capr_end(&f->r), -EBADMSG);
}

static void test_hostile_header(void **state)
{
	struct fx *f = *state;
	struct cap_hdr *h = (struct cap_hdr *)f->map;
	struct cap_reader r;
	unsigned i;

	assert_int_equal(capr_open(&r, f->map, CAP_FILE_SIZE - 1), -EINVAL);
	h->slots = CAP_SLOTS * 2;
	assert_int_equal(capr_open(&r, f->map, CAP_FILE_SIZE), -EPROTO);
	h->slots = CAP_SLOTS;
	h->version = 2;
	assert_int_equal(capr_open(&r, f->map, CAP_FILE_SIZE), -EPROTO);
	h->version = CAP_VERSION;
	h->magic = 0;	/* a file no VMM has written yet */
	assert_int_equal(capr_open(&r, f->map, CAP_FILE_SIZE), -EPROTO);
	h->magic = CAP_MAGIC;
	/* Names without a NUL, too many streams: still bounded. */
	h->nstreams = 1000;
	memset(h->stream_name, 'x', sizeof(h->stream_name));
	assert_int_equal(capr_open(&r, f->map, CAP_FILE_SIZE), 0);
	assert_int_equal(capr_find_stream(&r, "vm1"), -1);
	/* Random ring contents and heads: answers, never a crash. */
	srand(7);
	for (i = 0; i < 2000; i++) {
		size_t k;

		for (k = 0; k < 64; k++)
			f->map[CAP_HDR_SIZE + (size_t)rand() % ((size_t)CAP_SLOTS * CAP_SLOT_SIZE)] = rand();
		if (i % 10 == 0) {
			capr_unregister(&r);
			assert_int_equal(capr_register(&r, (uint32_t)rand(), 1, mono()), 0);
			h->head = ((uint64_t)rand() << 32) | (uint64_t)rand();
		}
		h->head += rand() % 5;
		for (k = 0; k < 4; k++) {
			int rc = capr_next(&r, &f->f);

			assert_true(rc == 1 || rc == 0 || rc == -EBADMSG);
			if (rc == 1)
				assert_true(f->f.len >= CAP_FRAME_MIN && f->f.len <= CAP_FRAME_MAX);
			if (rc != 1)
				break;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starts_at_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun_counts_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_racing_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reader_costs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_reader_lease_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_header, setup, teardown),
	};

	return cmocka_run_group_tests_name("capring", tests, NULL, NULL);
}
