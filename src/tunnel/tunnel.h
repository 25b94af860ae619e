/* A tunnel: a node of the link graph that joins the VMs linked to it to
 * the VMs behind one remote VXLAN endpoint (RFC 7348 over UDP/IPv4). The
 * tunnel process (`multivm tunnel`, tunnel_main) owns its links and one
 * UDP socket; it maps no guest memory.
 *
 * Forwarding, with no MAC learning (each tunnel has exactly one remote, so
 * a learnt table would only ever say "the remote"):
 *  - from the network: only datagrams from the remote's address, with a
 *    valid header, the configured VNI and a sane inner frame (vxlan.h).
 *    The inner source may not be a group address nor any VM of this system
 *    (spoofed); group destinations go to every linked VM, unicast to the
 *    linked VM with that MAC (none: no_link).
 *  - from a linked VM: one link record (docs/link-format.md, version 2)
 *    whose offload metadata checks as a VMM receiver checks it, for a
 *    receiver of the default MTU that takes no offloads: a plain frame of
 *    14..1518 bytes, or a TSO / partial-checksum frame (malformed
 *    otherwise, and for TSO whose segments would exceed 1518 bytes);
 *    its source is that VM's MAC (spoofed); unicast to a VM of this
 *    system is not for a tunnel (no_link). Everything else is
 *    encapsulated and sent to the remote: a TSO frame as one datagram per
 *    gso_size segment, a partial checksum completed first, so datagrams
 *    only ever carry plain frames of at most 1518 bytes.
 *  - to a linked VM: plain records (zero metadata).
 * A tunnel that is a wire end (`vm0:eth2 = up`) has one link and checks
 * no MAC: what comes from the remote goes to that link, what the wire's
 * NIC sends goes to the remote, VLAN tags and all, as a cable would.
 * Every datagram and frame not forwarded is counted once, by reason, in
 * the tunnel's stats record (common/stats.h): guest_tx_* count datagrams
 * received from the network, guest_rx_* datagrams sent to it (a TSO
 * frame's segments each count), and so do its links' rx_*.
 *
 * No allocation and no system call per frame: recvmmsg and sendmmsg move
 * up to TUN_BATCH datagrams per call; doorbells are rung once per batch.
 * Where the kernel has them (tun_offloads), runs of equal-sized datagrams
 * to the remote leave as one UDP GSO message (UDP_SEGMENT, up to
 * TUN_GSO_SEGS datagrams), and the socket takes UDP GRO: one received
 * message may hold many datagrams of the size its cmsg says, each checked
 * on its own. A GSO message the kernel refuses (a path MTU too small, a
 * device without checksum offload) is sent again as single datagrams, and
 * GSO is used only below that size from then on. */
#ifndef MULTIVM_TUNNEL_H
#define MULTIVM_TUNNEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/stats.h"
#include "common/limits.h"
#include "link/link.h"
#include "tunnel/vxlan.h"

#define TUN_BATCH	64
#define TUN_BUF		2048	/* > VXLAN_MAX_PAYLOAD: a longer datagram is seen as one */
#define TUN_RX_MSGS	32	/* messages per recvmmsg */
#define TUN_RX_BUF	65536	/* a message: one datagram, or a GRO run of them (< 64 KiB) */
#define TUN_GSO_SEGS	64	/* datagrams per GSO message (the kernel's UDP_MAX_SEGMENTS) */
#define TUN_GSO_BYTES	60000	/* payload per GSO message, well inside an IP packet */
#define TUN_CTL		64	/* room for one int cmsg (UDP_GRO, UDP_SEGMENT) */

struct tunnel {
	uint32_t vni;
	struct in_addr remote;		/* datagrams accepted only from here */
	struct sockaddr_in dest;	/* remote:port, where frames go */
	int fd;				/* the UDP socket; -1 in tests without one */
	uint8_t local[MV_NODES_MAX][6];	/* every VM of this system */
	unsigned nlocal;
	uint32_t local_ip[MV_NODES_MAX];	/* their eth0 addresses (network order) */
	unsigned nlocal_ip;
	struct link *links;
	unsigned nlinks;
	struct vm_stats *st;
	bool wire;			/* one wire end: its one link, any MAC, as a cable */
	unsigned rx_next;		/* round robin among links */
	uint64_t moved;			/* datagrams and frames taken, ever: did a pass work? */
	bool corrupt;			/* the frame being sent gets a bit flipped */
	/* Liveness (vxlan.h: the heartbeat): ns, CLOCK_MONOTONIC. */
	uint64_t hb_next;		/* when the next heartbeat goes */
	uint64_t hb_heard;		/* when the remote was last heard; 0: never */
	uint32_t hb_seq;
	bool remote_gone;		/* heard once, then silent: links shown down */
	uint64_t imp_wake;		/* impaired links hold frames due then; 0: none */

	bool gso;			/* send runs as UDP_SEGMENT messages */
	unsigned gso_below;		/* ... of datagrams shorter than this */
	unsigned gso_refused;		/* GSO messages the kernel refused */

	/* Batches: buffers for recvmmsg and sendmmsg (static in the
	 * process: no allocation per frame). */
	struct mmsghdr in_msg[TUN_RX_MSGS], out_msg[TUN_BATCH];
	struct iovec in_iov[TUN_RX_MSGS], out_iov[TUN_BATCH];
	struct sockaddr_in in_from[TUN_RX_MSGS];
	union { struct cmsghdr h; uint8_t b[TUN_CTL]; } in_ctl[TUN_RX_MSGS], out_ctl[TUN_BATCH];
	uint8_t in_buf[TUN_RX_MSGS][TUN_RX_BUF];
	uint8_t out_buf[TUN_BATCH][VXLAN_HDR_LEN + VXLAN_MAX_FRAME];
	uint16_t out_link[TUN_BATCH];	/* which link each outgoing frame came from */
	uint8_t out_first[TUN_BATCH];	/* per message sent: its first datagram */
	uint8_t out_count[TUN_BATCH];	/* ... and how many it carries */
	unsigned nout;
};

/* Sets up the batch vectors; links, st, local MACs, vni, remote filled in
 * by the caller. GSO and GRO stay off until tun_offloads. */
void tun_init(struct tunnel *t);

/* Turns on what the kernel offers on t->fd: UDP GRO on receipt (if gro:
 * not on a shared port, udpsock.h), UDP GSO (UDP_SEGMENT) on sending.
 * Before the sandbox (setsockopt). Returns a bit mask: 1 GRO on, 2 GSO on. */
unsigned tun_offloads(struct tunnel *t, bool gro);

/* Splits a received message of n bytes into datagrams: gso is the GRO
 * segment size from its cmsg (0: none). Returns the size of the datagrams
 * (the last may be shorter), never 0 or more than n for n > 0. */
size_t tun_gro_seg(size_t n, int gso);

/* Whether mac is a VM of this system. */
bool tun_is_local(const struct tunnel *t, const uint8_t mac[6]);

/* One datagram of n bytes from *from (trunc: longer than the buffer):
 * checked, decapsulated and put on the links its destination asks for.
 * Links written to are marked in *dirty (bit i: link i), for
 * tun_flush_links(). Returns DROP_NONE if forwarded to at least one link, else
 * the drop reason (already counted). */
enum drop_reason tun_datagram(struct tunnel *t, const uint8_t *p, size_t n, const struct sockaddr_in *from,
		 bool trunc, uint64_t *dirty);

/* Liveness: sends the heartbeat when due, and shows the tunnel's links
 * down while a remote heard before is silent (up again once it is heard).
 * now: CLOCK_MONOTONIC ns. Returns ms until it must run again. */
int tun_liveness(struct tunnel *t, uint64_t now);

/* Rings the doorbells of the links in dirty. */
void tun_flush_links(struct tunnel *t, uint64_t dirty);

/* Reads up to TUN_BATCH datagrams from the socket and forwards them.
 * Returns true if more may be waiting. */
bool tun_net_rx(struct tunnel *t);

/* Takes frames from the links, encapsulates and sends them, batched.
 * Returns true if more may be waiting. */
bool tun_links_rx(struct tunnel *t);

/* The process: `multivm tunnel ...` (argv as spawn.c builds it), and its
 * row for node_main. */
struct node_kind_ops;
extern const struct node_kind_ops tunnel_kind;
int tunnel_main(int argc, char **argv);

#endif
