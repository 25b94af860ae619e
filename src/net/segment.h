/* Software offloads for a receiver that did not negotiate them: TCP
 * segmentation of a GSO frame into MTU-sized frames, and completing a
 * partial checksum. Pure: the caller passes the frame's checked header
 * bytes (a private copy) and its contiguous body; nothing is allocated. */
#ifndef MULTIVM_SEGMENT_H
#define MULTIVM_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/vnet.h"

/* Segment i (< m->nsegs) of the GSO frame m checked by vnet_check():
 * writes its m->hdrs_len header bytes to out (built from hdrs, the
 * checked copy of the frame's first bytes) and says where its payload is
 * in the frame (*poff, *plen). IPv4: total length, ID + i and header
 * checksum; IPv6: payload length; TCP: sequence number + i * gso_size,
 * FIN and PSH only on the last segment, CWR only on the first. The TCP
 * checksum is complete (computed over the payload at frame + *poff), or
 * with partial the pseudo-header sum a NEEDS_CSUM receiver completes. */
void seg_build(const struct vnet_meta *m, const uint8_t *hdrs, const uint8_t *frame, uint32_t i,
	       bool partial, uint8_t *out, uint32_t *poff, uint32_t *plen);

/* The checksum that completes a NEEDS_CSUM frame: the one's complement
 * sum of frame[start..len) (whose checksum field holds the pseudo-header
 * sum), complemented; 0 becomes 0xffff (RFC 768). */
uint16_t seg_csum_complete(const uint8_t *frame, uint32_t start, uint32_t len);

#endif
