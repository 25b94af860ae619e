/* How many entries a link gets (its room: the ring and LINK_AREA_PER_ENTRY
 * bytes of frame area per entry, link/link.h), decided once per link when
 * the supervisor creates it (issue 29).
 *
 * A delayed link is its own delay line (link/impair.h): a frame stays on
 * it until due, so the room must hold what a fast sender puts on it
 * during the delay, or the sender waits and the link's throughput is cut
 * to room / delay. So each link gets [system] link_queue_size entries for
 * what any link needs, plus the bandwidth-delay product of its more
 * demanding direction: MV_LINK_FAST_BPS (or the direction's rate, if
 * lower) over its delay plus jitter (normal: three sigma), in entries of
 * LINK_AREA_PER_ENTRY bytes; rounded up to a power of two and capped at
 * MV_QSIZE_MAX. A plain link gets
 * link_queue_size exactly. Both ends are told the result (the node
 * command line), and the link keeps it for its life: a later change of
 * delay (`multivm link set`, apply) works within it (multivm.ini(5)). */
#ifndef MULTIVM_LINK_ROOM_H
#define MULTIVM_LINK_ROOM_H

#include "common/linkctl.h"

/* The entries of a link whose directions do imp[0] and imp[1], given the
 * system's link_queue_size base (mv_qsize_ok()). Always mv_qsize_ok(). */
unsigned link_room_qsize(unsigned base, const struct link_imp imp[2]);

#endif
