/* Link impairments, on the receiving side. See impair.h. */
#include "link/impair.h"

#include <string.h>
#include <time.h>

#include "link/link.h"

uint64_t link_imp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct link_imp_rx *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
}

/* A seed spread over all 64 bits (SplitMix64's finaliser), never 0: the
 * xorshift state must not be. */
static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x ? x : 1;
}

/* Uniform in [0, LINKCTL_PPM). */
static uint32_t ppm_draw(struct link_imp_rx *s)
{
	return (uint32_t)(((rnd(s) >> 32) * LINKCTL_PPM) >> 32);
}

void link_imp_set(struct link *l, const struct link_imp *imp)
{
	struct link_imp_rx *s = &l->imp;
	bool was = s->on;

	s->imp = *imp;
	s->on = linkctl_active(imp);
	link_set_queue(l, link_imp_holds(s));
	if (s->on && !was) {	/* frames already posted count as arriving now */
		s->seen = l->rxq.last_avail;
		s->head_valid = false;
		s->last_due = s->rate_free = 0;
	}
	if (imp->seed) {	/* the same draws after every change: reproducible */
		s->rng = splitmix(imp->seed);
		s->last_u = 0;
	} else if (!s->rng) {
		s->rng = splitmix(0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)l ^ link_imp_now());
	}
	if (!s->on) {
		s->wake_ns = 0;
		s->head_valid = false;
	}
}

void link_imp_stamp(struct link *l, uint64_t now)
{
	struct link_imp_rx *s = &l->imp;
	uint16_t num = l->rxq.num, avail, n;

	if (!l->rxq.avail || !num)
		return;
	avail = __atomic_load_n(&l->rxq.avail->idx, __ATOMIC_ACQUIRE);
	n = (uint16_t)(avail - s->seen);
	if (n > num)	/* a peer's lie: vq_pop stops the queue; stamp no more than the ring */
		n = num;
	for (; n; n--, s->seen++)
		s->arrive[s->seen % num] = now;
	link_imp_held(l);
}

void link_imp_held(struct link *l)
{
	if (l->st)
		__atomic_store_n(&l->st->held, (uint16_t)(l->imp.seen - l->rxq.last_avail), __ATOMIC_RELAXED);
}

/* A jitter draw in [-j, j] (uniform) or with sigma j (normal: the sum of
 * twelve uniforms, Irwin-Hall), in ns. */
static int64_t jitter_ns(struct link_imp_rx *s)
{
	int64_t j = (int64_t)s->imp.jitter_us * 1000;
	int64_t sum = 0;
	int k;

	if (!j)
		return 0;
	if (s->imp.dist != LINKCTL_NORMAL)
		return (int64_t)((rnd(s) >> 11) % (uint64_t)(2 * j + 1)) - j;
	for (k = 0; k < 12; k++)
		sum += (int64_t)(rnd(s) >> 44);	/* 20 bits: [0, 2^20) */
	return (sum - 6 * (1 << 20)) * j / (1 << 20);
}

/* The fate of a frame, drawn once: loss (with netem's correlation: the
 * draw leans on the last one), duplication, corruption. */
static uint8_t fate(struct link_imp_rx *s)
{
	const struct link_imp *m = &s->imp;
	uint8_t f = IMP_PASS;

	if (m->loss_ppm) {
		uint64_t u = ppm_draw(s), c = m->loss_corr_ppm;

		u = (u * (LINKCTL_PPM - c) + s->last_u * c) / LINKCTL_PPM;
		s->last_u = u;
		if (u < m->loss_ppm)
			return IMP_LOST;
	}
	if (m->duplicate_ppm && ppm_draw(s) < m->duplicate_ppm)
		f |= IMP_DUP;
	if (m->corrupt_ppm && ppm_draw(s) < m->corrupt_ppm)
		f |= IMP_CORRUPT;
	return f;
}

unsigned link_imp_judge(struct link *l, uint32_t len, uint64_t now)
{
	struct link_imp_rx *s = &l->imp;
	uint16_t pos = (uint16_t)(l->rxq.last_avail - 1), num = l->rxq.num;

	if (s->imp.down) {
		s->head_valid = false;
		s->wake_ns = 0;
		return IMP_DOWN;
	}
	if (!s->head_valid || s->head_pos != pos) {
		int64_t due = (int64_t)s->arrive[pos % num] + (int64_t)s->imp.delay_us * 1000 + jitter_ns(s);
		uint64_t d = due > 0 ? (uint64_t)due : 0;

		if (d < s->last_due)	/* never before the frame ahead: no reordering */
			d = s->last_due;
		if (s->imp.rate_bps) {	/* the link is busy with the frames ahead */
			uint64_t start = s->rate_free;

			/* The shaper's clock may lag by IMP_RATE_BURST_NS: a
			 * receiver that woke late, or saw a frame late, makes
			 * the time up instead of losing it (a token bucket that
			 * deep); after a longer idle it starts afresh. */
			if (start + IMP_RATE_BURST_NS < d)
				start = d - IMP_RATE_BURST_NS;
			s->rate_free = start + (uint64_t)len * 8 * 1000000000ull / s->imp.rate_bps;
			if (d < s->rate_free)
				d = s->rate_free;
		}
		s->last_due = d;
		s->head_due = d;
		s->head_pos = pos;
		s->head_fate = fate(s);
		s->head_valid = true;
	}
	if (now < s->head_due) {
		s->wake_ns = s->head_due;
		return IMP_WAIT;
	}
	s->head_valid = false;
	s->wake_ns = 0;
	return s->head_fate;
}
