/* Forwarding between one guest's virtio-net queues and its links.
 * No switch: the sending VMM picks the link by destination MAC, the
 * receiving VMM delivers to its guest. No allocation, no syscall per
 * frame; doorbells are rung once per batch, and only when asked.
 *
 * Capture (common/capring.h): each batch asks the ring once which streams
 * readers want (one relaxed load when none); only then are frames copied
 * into it: the guest's eth0 (frames it sent with a valid header and
 * length, whatever became of them, and frames delivered to it) and each
 * link (frames put on it). */
#ifndef MULTIVM_NET_H
#define MULTIVM_NET_H

#include <net/ethernet.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/capring.h"
#include "common/stats.h"
#include "link/link.h"
#include "net/vnet.h"
#include "virtq/virtq.h"

#define NET_HDR_LEN	12	/* struct virtio_net_hdr_v1 (VERSION_1) */
#define NET_HDR_NUM_BUFFERS	10	/* its le16 num_buffers */
#define NET_ETH_ADDRS	(2 * ETH_ALEN)	/* destination and source: read once, checked, copied over */
#define NET_MIN_FRAME	ETH_HLEN
#define NET_MAX_FRAME	VNET_MAX_PLAIN(MV_MTU_DEFAULT)	/* without GSO at the default MTU */
#define NET_BATCH	64	/* chains per queue per pass */
#define NET_RX_MAX_BUFS	64	/* guest RX buffers one frame may take (MRG_RXBUF) */

struct net {
	uint8_t mac[ETH_ALEN];
	struct virtq *rxq, *txq;	/* guest queues; NULL while not running */
	struct link *links;
	unsigned nlinks;
	struct vm_stats *st;
	unsigned rx_next;		/* round-robin start among links */
	bool tx_discard;		/* TX ring disabled: take and drop */
	bool rx_call, tx_call;		/* guest notifications owed */
	bool rx_full;			/* the last net_rx() ran out of guest buffers */
	uint16_t rx_want;		/* then: buffers its next frame needs at least */
	unsigned tx_wait;		/* 1 + the full link the guest's next frame
					 * waits for (net_tx); 0: none */
	bool tx_moved;			/* net_tx took frames (the caller clears it) */
	unsigned wait_link;		/* 1 + the link net_tx_bound is timing; 0: none */
	uint64_t wait_from;		/* ms: when that wait began */
	uint64_t moved;			/* chains taken from any queue, ever: did a pass work? */
	struct cap_writer cap;		/* hdr NULL: no capture ring */
	struct cap_writer *capw;	/* the ring's writer, if not cap: a VMM's
					 * NICs share eth0's (one writer per ring) */
	unsigned link_base;		/* links[0]'s index among the VMM's links:
					 * its capture stream */
	bool wire;			/* a wire's NIC: every frame to or from its
					 * one link, any MAC, as a cable */
	bool corrupt;			/* the frame being delivered gets a bit
					 * flipped (an impaired link, link/impair.h) */
	uint64_t imp_wake;		/* the last net_rx() held frames due then
					 * (CLOCK_MONOTONIC ns); 0: none */

	/* Offloads, from the features the guest negotiated (VNET_CAP_*):
	 * what it may send, what it takes (else its frames are completed
	 * or segmented here), whether a frame may span RX buffers. */
	unsigned tx_caps, rx_caps;
	bool mrg_rxbuf;
	unsigned mtu;			/* 0: MV_MTU_DEFAULT */
	uint32_t seg_done[MV_NODE_LINKS_MAX];	/* segments of link i's head frame delivered */
	struct vq_chain rxc[NET_RX_MAX_BUFS];	/* the RX buffers of one frame */
};

/* Where a guest frame goes: returns DROP_NONE and sets *mask (bit i =
 * link i), or returns the drop reason. Pure function of the addresses.
 * Unicast to a MAC no peer VM has goes to every tunnel link (none:
 * no_link). A wire's NIC sends everything to its one link. */
enum drop_reason net_route(const struct net *n, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
			   uint64_t *mask);

/* Moves up to NET_BATCH frames from the guest TX queue to links.
 * Returns true if more may be waiting. While called, the guest is asked
 * not to kick (net_arm() asks again). A frame for one link that is full
 * stays in the guest's ring (tx_wait says which link) and is tried again
 * by the next call; the caller bounds the wait with net_tx_expire(). */
bool net_tx(struct net *n);

/* The frame in tx_wait waited long enough: its link counts as stalled,
 * and until it is empty again frames for it are dropped (queue_full)
 * rather than held, so that a peer that stopped taking frames cannot
 * hold up the guest's frames to the others for long. */
void net_tx_expire(struct net *n);

/* How long a guest's frames may wait for room on one link (NET_WAIT_MS).
 * A wait lasts until the guest's TX moves again. A frozen peer is stalled
 * (net_tx_expire) after one wait of NET_WAIT_MS. A peer that drips (takes
 * a frame every 60 ms, each of which lets the guest's whole TX move once)
 * must not hold every other destination up for ever: the part of each
 * wait beyond NET_WAIT_FREE is the link's debt, which drains at a quarter
 * of real time, and a wait also ends in a stall once debt + wait reach
 * NET_WAIT_MS (three such waits). A busy but healthy peer keeps its link
 * full nearly all the time, in waits of a few ms between which frames go:
 * that is backpressure, and costs no debt at all (tests/unit/test_wait).
 * A link whose receiver holds frames until due (delay, rate: link.h's
 * LINK_QUEUE_OFF) is a queue, as netem's: a wait on it lasts while frames
 * trickle out and all of it is debt, so once it is full for NET_WAIT_MS
 * the excess is dropped (queue_full) and the link never stalls the guest. */
#define NET_WAIT_MS	100	/* several scheduler periods of a busy host (a TCG
				 * guest on 2 CPUs was seen to leave its link full
				 * for over 10 ms), yet half TCP's 200 ms minimum
				 * RTO: a frozen peer holds the others up once, briefly */
#define NET_WAIT_LEAK	4	/* the debt drains at 1/NET_WAIT_LEAK of real time */
#define NET_WAIT_FREE	10	/* ms of each wait that cost no debt: a receiving
				 * guest descheduled for a tick or two */

/* Called after each pass with the monotonic time in ms: accounts the wait
 * of the frame in tx_wait on its link (tx_wait_ms in its counters), and
 * stalls that link when its debt is spent (then *more: the guest's TX has
 * work again). Returns ms until that happens, or -1 (nothing waits). */
int net_tx_bound(struct net *n, uint64_t now_ms, bool *more);

/* Moves frames from links into the guest RX queue while it has buffers,
 * completing checksums and segmenting TSO frames the guest cannot take.
 * Returns true if more may be waiting. */
bool net_rx(struct net *n);

/* Before sleeping: asks for the doorbells that say there is work (guest
 * TX kicks, or the peer's word that a full link has room; link doorbells,
 * or guest RX kicks if the guest ran out of buffers), then rechecks.
 * Returns true if work arrived meanwhile (poll again). Until then nobody
 * needs to ring us: we poll anyway. */
bool net_arm(struct net *n);

#endif
