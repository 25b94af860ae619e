/* The virtio-net header's offload metadata (VIRTIO 1.x 5.1.6), as a guest
 * writes it on TX, as it crosses a link (docs/link-format.md) and as a
 * receiving guest gets it. One checker for all three: the header comes
 * from a guest or a peer VMM and nothing in it is trusted.
 *
 * Pure functions: no allocation, no system call, no shared memory (the
 * caller passes a private copy of the frame's first bytes). */
#ifndef MULTIVM_VNET_H
#define MULTIVM_VNET_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define VNET_HDR_LEN		12	/* struct virtio_net_hdr_v1 */
#define VNET_F_NEEDS_CSUM	1
#define VNET_GSO_NONE		0
#define VNET_GSO_TCPV4		1
#define VNET_GSO_UDP		3
#define VNET_GSO_TCPV6		4
#define VNET_GSO_ECN		0x80

#define VNET_MIN_FRAME		14
#define VNET_MAX_GSO_FRAME	65550	/* 64 KiB of IP + Ethernet header: the most a TSO frame may be */
#define VNET_MAX_PLAIN(mtu)	((mtu) + 18u)	/* a frame without GSO: Ethernet + one VLAN tag */
/* The smallest segment a TSO frame may ask for: the smallest MSS Linux
 * itself sends (tcp_min_snd_mss, 48 since CVE-2019-11479), so no honest
 * guest asks for less; at 48 a 64 KiB frame is at most VNET_MAX_SEGS
 * segments (not 65495 one-byte ones), bounding the work a frame makes a
 * VMM or a tunnel do. */
#define VNET_MIN_GSO_SIZE	48
#define VNET_MAX_SEGS		((VNET_MAX_GSO_FRAME + VNET_MIN_GSO_SIZE - 1) / VNET_MIN_GSO_SIZE)
#define VNET_PEEK		192	/* frame bytes the checker needs: Ethernet + IP + TCP, all with options */

/* What one side may send or take (from the negotiated virtio features). */
#define VNET_CAP_CSUM	1u	/* NEEDS_CSUM (CSUM on TX, GUEST_CSUM on RX) */
#define VNET_CAP_TSO4	2u	/* HOST_TSO4 / GUEST_TSO4 */
#define VNET_CAP_TSO6	4u
#define VNET_CAP_ECN	8u	/* HOST_ECN / GUEST_ECN */
#define VNET_CAP_ALL	15u

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;	/* on a link: reserved, 0 */
};
_Static_assert(sizeof(struct vnet_hdr) == VNET_HDR_LEN && offsetof(struct vnet_hdr, gso_size) == 4 &&
	       offsetof(struct vnet_hdr, csum_offset) == 8, "struct virtio_net_hdr_v1 layout");

/* A checked frame: what its header asks for and, for GSO, where its
 * headers are. */
struct vnet_meta {
	uint8_t flags, gso_type;	/* as checked; gso_type with VNET_GSO_ECN */
	uint16_t gso_size;
	uint16_t csum_start, csum_offset;
	uint16_t l4_off;		/* GSO: TCP header offset (= csum_start) */
	uint16_t hdrs_len;		/* GSO: Ethernet + IP + TCP headers */
	uint8_t ipv6;			/* GSO: 1 for TCPV6 */
	uint32_t len;			/* the frame's length */
	uint32_t nsegs;			/* GSO: segments it makes; else 1 */
};

/* Checks header h of a frame of len bytes whose first min(len, VNET_PEEK)
 * bytes are in peek, for a sender allowed caps, whose frames without GSO
 * may be at most max_plain bytes. Returns 0 and fills *m, or -1: the frame
 * is malformed (a counted drop). Accepted: flags NEEDS_CSUM with
 * 14 <= csum_start and csum_start + csum_offset + 2 <= len; GSO TCPV4/TCPV6 (+ECN) of TCP over
 * IPv4 (options allowed) or IPv6 (no extension headers) without VLAN tag,
 * with NEEDS_CSUM at the TCP checksum, IP lengths equal to the frame's,
 * no IPv4 fragment, VNET_MIN_GSO_SIZE <= gso_size <= MV_MTU_MAX, hdr_len <= len, at
 * least one payload byte. hdr_len is otherwise only a hint (VIRTIO 1.x):
 * the headers are found by parsing. */
int vnet_check(const struct vnet_hdr *h, const uint8_t *peek, uint32_t len, unsigned caps,
	       uint32_t max_plain, struct vnet_meta *m);

/* The offloads a receiver allowed caps lacks for frame m: VNET_CAP_TSO4/6
 * or ECN (it must be segmented), VNET_CAP_CSUM (its checksum completed),
 * or 0 (it takes the frame as it is). */
unsigned vnet_missing(const struct vnet_meta *m, unsigned caps);

/* The header a receiver that takes m as it is gets (num_buffers 0). */
void vnet_hdr_of(const struct vnet_meta *m, struct vnet_hdr *h);

#endif
