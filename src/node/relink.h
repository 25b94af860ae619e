/* A running node takes a new link, or drops one, from its supervisor
 * (multivm apply) without restarting: messages on its handoff channel
 * (common/handoff.h), acted on between batches, in the loop's fd phase.
 * eth0 segment links, and a VMM's wire NICs each with its one link
 * (HANDOFF_ADD_NIC: the NIC served on the listening socket handed with
 * it, its link named after it; HANDOFF_DROP_NIC: the NIC's session and
 * socket closed, then its link dropped). An add at index i moves the links from i on
 * up one place, a drop the links after it down one (their counters,
 * settings and doorbells with them), so the node's links stay in the
 * order the supervisor's config gives them. A message that does not fit (an index
 * beyond the links, a peer already linked, a kind or NIC layout that
 * cannot take it) is refused: its fds closed, handoff_refused counted, a
 * log line, and the answer says why; the node and its links carry on. */
#ifndef MULTIVM_RELINK_H
#define MULTIVM_RELINK_H

#include "common/handoff.h"
#include "node/node.h"

/* Acts on m (an add takes its fds: attached, or closed). 0 or -errno. */
int node_relink(struct node *n, const struct handoff_msg *m);

/* The loop's handler for the handoff fd (ctx: the node). */
int node_on_handoff(void *ctx, uint32_t arg);

#endif
