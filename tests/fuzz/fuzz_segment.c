/* Fuzz target: the offload checker and the software segmenter on their
 * own. Input: a 12-byte virtio-net header, a byte of sender caps, then the
 * frame. Whatever the checker accepts is segmented (or its checksum
 * completed) and every segment must be in bounds, at most MTU-sized when
 * the MSS allows, and carry a TCP checksum the reference accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/segment.h"
#include "net/vnet.h"
#include "../tcpframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[VNET_MAX_GSO_FRAME], seg[VNET_PEEK + MV_MTU_MAX];
	struct vnet_hdr h;
	struct vnet_meta m;
	uint32_t len, i, total = 0;
	unsigned caps;

	if (size < VNET_HDR_LEN + 1 || size - VNET_HDR_LEN - 1 > sizeof(frame))
		return 0;
	memcpy(&h, data, VNET_HDR_LEN);
	caps = data[VNET_HDR_LEN] & VNET_CAP_ALL;
	len = size - VNET_HDR_LEN - 1;
	memcpy(frame, data + VNET_HDR_LEN + 1, len);
	if (vnet_check(&h, frame, len, caps, VNET_MAX_PLAIN(MV_MTU_MAX), &m) < 0)
		return 0;
	if (!m.gso_type) {
		if (m.flags & VNET_F_NEEDS_CSUM)
			seg_csum_complete(frame, m.csum_start, len);
		return 0;
	}
	if (m.hdrs_len > VNET_PEEK || m.nsegs == 0 || m.l4_off >= m.hdrs_len)
		abort();
	for (i = 0; i < m.nsegs; i++) {
		uint32_t poff, plen;

		/* The first and last 32 segments: enough to see every case. */
		if (i == 32 && m.nsegs > 64)
			i = m.nsegs - 32;
		seg_build(&m, frame, frame, i, i & 1, seg, &poff, &plen);
		if (poff < m.hdrs_len || plen == 0 || plen > m.gso_size || poff + plen > len)
			abort();
		memcpy(seg + m.hdrs_len, frame + poff, plen);
		if (i & 1)
			tf_put16(seg + m.l4_off + 16, seg_csum_complete(seg, m.l4_off, m.hdrs_len + plen));
		if (!ref_tcp_ok(seg, m.l4_off, m.hdrs_len + plen - m.l4_off, m.ipv6))
			abort();
		total += plen;
	}
	if (m.nsegs <= 64 && total != len - m.hdrs_len)
		abort();
	return 0;
}
