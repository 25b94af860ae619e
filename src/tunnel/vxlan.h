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

/* Writes the header for vni (< 2^24) at hdr. */
void vxlan_encap(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni);

/* Checks a datagram payload of n bytes. Returns DROP_NONE and sets *frame and
 * *len to the inner frame if it is acceptable for vni, else the drop
 * reason (common/stats.h): DROP_BAD_HEADER (shorter than the header, or I
 * flag clear), DROP_BAD_VNI, DROP_BAD_LENGTH (inner frame shorter than an
 * Ethernet header or longer than VXLAN_MAX_FRAME). */
enum drop_reason vxlan_decap(const uint8_t *p, size_t n, uint32_t vni, const uint8_t **frame, size_t *len);

#endif
