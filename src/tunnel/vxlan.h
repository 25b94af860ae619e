/* VXLAN (RFC 7348): the 8-byte header in front of an inner Ethernet frame,
 * carried in UDP (IANA port 4789). Pure functions: no I/O, no state.
 *
 *   0                   1                   2                   3
 *   |R|R|R|R|I|R|R|R|            Reserved (24 bits)                 |
 *   |        VXLAN Network Identifier (VNI)         |   Reserved    |
 *
 * Encapsulation writes flags 0x08 (I) and zeros in every reserved field.
 * Decapsulation requires I; the reserved bits are ignored on receipt, as
 * the RFC says ("MUST be set to zero on transmission and ignored on
 * receipt"). The VNI must be the configured one, and the inner frame an
 * Ethernet frame of 14..VXLAN_MAX_FRAME bytes. */
#ifndef MULTIVM_VXLAN_H
#define MULTIVM_VXLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define VXLAN_HDR_LEN	8
#define VXLAN_FLAG_I	0x08
#define VXLAN_MIN_FRAME	14		/* an Ethernet header */
#define VXLAN_MAX_FRAME	1518		/* what a link carries (docs/link-format.md) */
/* Largest datagram payload we accept; one byte more is read, to see a
 * datagram that is too long rather than cut it. */
#define VXLAN_MAX_PAYLOAD (VXLAN_HDR_LEN + VXLAN_MAX_FRAME)

/* The heartbeat between two multivm tunnels (issue 31): a 60-byte inner
 * frame a tunnel sends its remote every VXLAN_HB_MS, with the same VNI:
 *   dst 01:80:c2:00:00:0e (IEEE link-local: no bridge forwards it),
 *   src 02:00:00:4d:56:00 (locally administered, no VM's),
 *   ethertype 0x88b5 (IEEE local experimental),
 *   "MVMHB1", version 1, flags (VXLAN_HB_HEARS: the sender hears us),
 *   a sequence number (32 bits, big-endian), zeros.
 * A multivm tunnel takes it for itself; Linux's vxlan or Open vSwitch pass
 * it to their bridge, which drops it (link-local, unknown type). A remote
 * heard once and then silent for VXLAN_HB_DEAD_MS is gone: the tunnel's
 * links show up=0 until it is heard again. Remotes never heard (a plain
 * VXLAN peer) are never judged. */
#define VXLAN_HB_LEN		60
/* Five heartbeats missed: gone. 2 s, so that a remote host that stops
 * shows within 3 s (issue 31) with a second to spare for the loop's
 * wake-up and a loaded reader (2.5 s left 0.4 s: measured 2.6 s under
 * ASan); 2.5 110-byte packets a second cost a link nothing it would notice. */
#define VXLAN_HB_MS		400
#define VXLAN_HB_DEAD_MS	2000
#define VXLAN_HB_HEARS		0x01

/* Writes a heartbeat frame (VXLAN_HB_LEN bytes) at f. */
void vxlan_hb_build(uint8_t f[VXLAN_HB_LEN], uint8_t flags, uint32_t seq);

/* Whether frame f (len bytes) is a heartbeat; then *flags. */
bool vxlan_hb_parse(const uint8_t *f, size_t len, uint8_t *flags);

/* Writes the header for vni (< 2^24) at hdr. */
void vxlan_encap(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni);

/* Checks a datagram payload of n bytes. Returns DROP_NONE and sets *frame and
 * *len to the inner frame if it is acceptable for vni, else the drop
 * reason (common/stats.h): DROP_BAD_HEADER (shorter than the header, or I
 * flag clear), DROP_BAD_VNI, DROP_BAD_LENGTH (inner frame shorter than an
 * Ethernet header or longer than VXLAN_MAX_FRAME). */
enum drop_reason vxlan_decap(const uint8_t *p, size_t n, uint32_t vni, const uint8_t **frame, size_t *len);

#endif
