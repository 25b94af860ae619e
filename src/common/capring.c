/* The capture ring: one encoder (the VMM) and one decoder (readers). See
 * capring.h for the protocol. */
#include "common/capring.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define RELAXED	__ATOMIC_RELAXED
#define SEQCST	__ATOMIC_SEQ_CST

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);	/* the vDSO: no system call in the sandbox */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct cap_rec *slot_rec(uint8_t *slots, uint64_t seq)
{
	return (struct cap_rec *)(slots + (seq & (CAP_SLOTS - 1)) * (size_t)CAP_SLOT_SIZE);
}

/* ---- Writer ---- */

int capw_attach(struct cap_writer *w, void *map, size_t size, const char *name,
		const char *const peers[], unsigned npeers)
{
	struct cap_hdr *h = map;
	unsigned s;

	memset(w, 0, sizeof(*w));
	if (size < CAP_FILE_SIZE || npeers + 1 > CAP_STREAMS)
		return -EINVAL;
	h->version = CAP_VERSION;
	h->slots = CAP_SLOTS;
	h->slot_size = CAP_SLOT_SIZE;
	h->nstreams = npeers + 1;
	memset(h->stream_name, 0, sizeof(h->stream_name));
	strncpy(h->stream_name[0], name, MV_NAME_MAX - 1);
	for (s = 0; s < npeers; s++)
		strncpy(h->stream_name[1 + s], peers[s], MV_NAME_MAX - 1);
	/* A restarted VMM carries on where its predecessor stopped, so that
	 * readers' positions stay valid. Any value is safe: positions are
	 * only ever used modulo CAP_SLOTS. */
	w->head = __atomic_load_n(&h->head, RELAXED);
	for (s = 0; s < CAP_STREAMS; s++)
		w->total[s] = __atomic_load_n(&h->stream_total[s], RELAXED);
	__atomic_store_n(&h->magic, CAP_MAGIC, __ATOMIC_RELEASE);
	w->hdr = h;
	w->slots = (uint8_t *)map + CAP_HDR_SIZE;
	return 0;
}

/* A lease is live until it runs out. One further ahead than a reader
 * ever sets (clocks read a moment apart aside) counts as run out: a
 * scribbled slot cannot keep the VMM copying. */
static bool live(uint64_t lease, uint64_t now)
{
	return lease > now && lease - now <= CAP_LEASE_NS + 1000000000ULL;
}

/* The streams that live leases ask for. */
static uint32_t live_streams(const struct cap_hdr *h, uint64_t now)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i < CAP_READERS; i++) {
		uint64_t lease = __atomic_load_n(&h->reader[i].lease_ns, SEQCST);

		if (live(lease, now))
			s |= __atomic_load_n(&h->reader[i].streams, SEQCST);
	}
	return s & ((1u << CAP_STREAMS) - 1);
}

uint32_t capw_batch_slow(struct cap_writer *w)
{
	struct cap_hdr *h = w->hdr;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	uint32_t s = live_streams(h, now);

	if (!s) {
		/* Clear, then look again: a reader that registered meanwhile
		 * either is seen now or sees `wanted` clear and sets it again
		 * (both sides store, then load, sequentially consistent). */
		__atomic_store_n(&h->wanted, 0, SEQCST);
		s = live_streams(h, now);
		if (!s)
			return 0;
		__atomic_store_n(&h->wanted, 1, SEQCST);
	}
	w->ts_ns = clock_ns(CLOCK_REALTIME);
	return s;
}

uint8_t *capw_begin(struct cap_writer *w, unsigned stream, unsigned dir, uint32_t len)
{
	struct cap_rec *r = slot_rec(w->slots, w->head);

	/* Orders the previous head store before this record's bytes: a
	 * reader that sees any of them then sees a head past the slot's old
	 * record, and drops its copy as overwritten. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->seq = w->head;
	r->sseq = w->total[stream];
	r->ts_ns = w->ts_ns;
	r->len = len;
	r->stream = stream;
	r->dir = dir;
	r->pad = 0;
	return (uint8_t *)(r + 1);
}

void capw_commit(struct cap_writer *w, unsigned stream)
{
	w->total[stream]++;
	__atomic_store_n(&w->hdr->stream_total[stream], w->total[stream], RELAXED);
	w->head++;
	__atomic_store_n(&w->hdr->head, w->head, __ATOMIC_RELEASE);
}

void capw_frame(struct cap_writer *w, unsigned stream, unsigned dir, const void *frame, uint32_t len)
{
	memcpy(capw_begin(w, stream, dir, len), frame, len);
	capw_commit(w, stream);
}

/* ---- Reader ---- */

int capr_open(struct cap_reader *r, void *map, size_t size)
{
	struct cap_hdr *h = map;

	memset(r, 0, sizeof(*r));
	r->slot = -1;
	if (size < CAP_FILE_SIZE)
		return -EINVAL;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != CAP_MAGIC ||
	    __atomic_load_n(&h->version, RELAXED) != CAP_VERSION ||
	    __atomic_load_n(&h->slots, RELAXED) != CAP_SLOTS ||
	    __atomic_load_n(&h->slot_size, RELAXED) != CAP_SLOT_SIZE)
		return -EPROTO;
	r->hdr = h;
	r->slots = (const uint8_t *)map + CAP_HDR_SIZE;
	return 0;
}

int capr_find_stream(const struct cap_reader *r, const char *peer)
{
	uint32_t n = __atomic_load_n(&r->hdr->nstreams, RELAXED);
	char name[MV_NAME_MAX];
	unsigned s;

	if (n > CAP_STREAMS)
		n = CAP_STREAMS;
	for (s = 1; s < n; s++) {
		memcpy(name, r->hdr->stream_name[s], sizeof(name));
		name[sizeof(name) - 1] = 0;
		if (name[0] && strcmp(name, peer) == 0)
			return s;
	}
	return -1;
}

static void want(struct cap_reader *r)
{
	/* After our lease and streams: see capw_batch_slow(). */
	if (!__atomic_load_n(&r->hdr->wanted, SEQCST))
		__atomic_store_n(&r->hdr->wanted, 1, SEQCST);
}

/* Takes a free slot: one whose lease has run out (or was never set). */
static int claim(struct cap_reader *r, uint32_t pid, uint64_t now)
{
	unsigned i;

	for (i = 0; i < CAP_READERS; i++) {
		struct cap_reader_slot *sl = &r->hdr->reader[i];
		uint64_t old = __atomic_load_n(&sl->lease_ns, SEQCST), lease = now + CAP_LEASE_NS;

		if (live(old, now))
			continue;	/* a live reader's */
		if (!__atomic_compare_exchange_n(&sl->lease_ns, &old, lease, false, SEQCST, SEQCST))
			continue;	/* another reader was quicker */
		__atomic_store_n(&sl->streams, r->streams, SEQCST);
		__atomic_store_n(&sl->pid, pid, RELAXED);
		r->slot = i;
		r->lease = lease;
		want(r);
		return 0;
	}
	r->slot = -1;
	return -EBUSY;
}

int capr_register(struct cap_reader *r, uint32_t streams, uint32_t pid, uint64_t now)
{
	unsigned s;
	int rc;

	r->streams = streams & ((1u << CAP_STREAMS) - 1);
	rc = claim(r, pid, now);
	if (rc < 0)
		return rc;
	/* Head first, then the counts: a frame of ours committed in between
	 * lies at or after the head we start from (and is skipped as older
	 * than expect[]); every later one is ours. */
	r->pos = r->last_head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	for (s = 0; s < CAP_STREAMS; s++) {
		r->expect[s] = __atomic_load_n(&r->hdr->stream_total[s], RELAXED);
		r->floor[s] = r->pos;
		r->seen[s] = false;
	}
	r->lost = 0;
	return 0;
}

int capr_renew(struct cap_reader *r, uint32_t pid, uint64_t now)
{
	uint64_t old = r->lease, lease = now + CAP_LEASE_NS;

	if (r->lease <= now)
		r->lapses++;	/* the VMM may have stopped recording meanwhile */
	if (r->slot >= 0 &&
	    __atomic_compare_exchange_n(&r->hdr->reader[r->slot].lease_ns, &old, lease, false, SEQCST, SEQCST)) {
		r->lease = lease;
		__atomic_store_n(&r->hdr->reader[r->slot].streams, r->streams, SEQCST);
		want(r);
		return 0;
	}
	return claim(r, pid, now);
}

void capr_unregister(struct cap_reader *r)
{
	uint64_t old = r->lease;

	if (r->slot >= 0)
		__atomic_compare_exchange_n(&r->hdr->reader[r->slot].lease_ns, &old, 0, false, SEQCST, SEQCST);
	r->slot = -1;
}

/* Frames of stream s skipped before the one at ring position seq with
 * stream position sseq. At most the ring positions in between (plus one:
 * a VMM that died between counting a frame and publishing it). */
static int account(struct cap_reader *r, unsigned s, uint64_t seq, uint64_t sseq)
{
	uint64_t gap = sseq - r->expect[s];

	if (gap > seq - r->floor[s] + 1)
		return -EBADMSG;
	r->lost += gap;
	r->expect[s] = sseq + 1;
	r->floor[s] = seq + 1;
	r->seen[s] = true;
	return 0;
}

int capr_next(struct cap_reader *r, struct cap_frame *f)
{
	for (;;) {
		uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE), again;
		const struct cap_rec *slot;
		struct cap_rec rec;
		uint32_t n;

		if (head < r->last_head)
			return -EBADMSG;	/* the writer never goes back */
		r->last_head = head;
		if (r->pos == head)
			return 0;
		if (head - r->pos >= CAP_SLOTS) {
			/* Lapped: what was at pos is gone. Skip ahead, with room
			 * to read before the writer comes round again; sseq
			 * gaps count the frames of ours that were lost. */
			r->pos = head - CAP_SLOTS + CAP_SLOTS / 8;
			continue;
		}
		slot = (const struct cap_rec *)(r->slots + (r->pos & (CAP_SLOTS - 1)) * (size_t)CAP_SLOT_SIZE);
		memcpy(&rec, slot, sizeof(rec));
		n = rec.len <= CAP_FRAME_MAX ? rec.len : CAP_FRAME_MAX;	/* within the slot whatever it says */
		memcpy(f->data, slot + 1, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		again = __atomic_load_n(&r->hdr->head, RELAXED);
		if (again < head)
			return -EBADMSG;
		if (again - r->pos >= CAP_SLOTS)
			continue;	/* overwritten while we copied */
		/* A stable copy: now it must make sense. */
		if (rec.seq != r->pos || rec.len < CAP_FRAME_MIN || rec.len > CAP_FRAME_MAX ||
		    rec.stream >= CAP_STREAMS || rec.dir > CAP_DIR_IN)
			return -EBADMSG;
		r->pos++;
		if (!(r->streams & CAP_BIT(rec.stream)))
			continue;
		if (rec.sseq < r->expect[rec.stream]) {
			if (r->seen[rec.stream])
				return -EBADMSG;	/* a stream never goes back */
			continue;	/* recorded before we registered */
		}
		if (account(r, rec.stream, rec.seq, rec.sseq) < 0)
			return -EBADMSG;
		f->ts_ns = rec.ts_ns;
		f->len = rec.len;
		f->stream = rec.stream;
		f->dir = rec.dir;
		return 1;
	}
}

void capr_mark_end(struct cap_reader *r)
{
	unsigned s;

	for (s = 0; s < CAP_STREAMS; s++)
		r->end_total[s] = __atomic_load_n(&r->hdr->stream_total[s], RELAXED);
	r->end_head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
}

int capr_end(struct cap_reader *r)
{
	unsigned s;

	for (s = 0; s < CAP_STREAMS; s++) {
		uint64_t gap;

		if (!(r->streams & CAP_BIT(s)) || r->end_total[s] <= r->expect[s])
			continue;
		gap = r->end_total[s] - r->expect[s];
		if (r->end_head < r->floor[s] || gap > r->end_head - r->floor[s] + 1)
			return -EBADMSG;
		r->lost += gap;
		r->expect[s] = r->end_total[s];
	}
	return 0;
}
