/* A link's room from its delay. See room.h. */
#include "link/room.h"

#include "common/limits.h"
#include "link/link.h"

/* Bytes a direction keeps in flight: its rate (at most a fast link's)
 * times its longest delay. */
static uint64_t bdp_bytes(const struct link_imp *m)
{
	uint64_t bps = m->rate_bps && m->rate_bps < MV_LINK_FAST_BPS ? m->rate_bps : MV_LINK_FAST_BPS;
	uint64_t us = (uint64_t)m->delay_us + (uint64_t)m->jitter_us * (m->dist == LINKCTL_NORMAL ? 3 : 1);

	/* at most 1.25e9 B/s times 4e7 us: no overflow */
	return bps / 8 * us / 1000000;
}

unsigned link_room_qsize(unsigned base, const struct link_imp imp[2])
{
	uint64_t b0 = bdp_bytes(&imp[0]), b1 = bdp_bytes(&imp[1]);
	uint64_t want = (b0 > b1 ? b0 : b1) + LINK_AREA_PER_ENTRY - 1;
	unsigned q = mv_qsize_ok(base) ? base : MV_QSIZE_DEFAULT;

	want = want / LINK_AREA_PER_ENTRY + q;
	while (q < want && q < MV_QSIZE_MAX)
		q *= 2;
	return q;
}
