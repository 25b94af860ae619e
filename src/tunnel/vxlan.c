/* VXLAN header encoding and checking. See vxlan.h. */
#include "tunnel/vxlan.h"

#include <string.h>

#include "common/stats.h"

void vxlan_encap(uint8_t hdr[VXLAN_HDR_LEN], uint32_t vni)
{
	memset(hdr, 0, VXLAN_HDR_LEN);
	hdr[0] = VXLAN_FLAG_I;
	hdr[4] = vni >> 16;
	hdr[5] = vni >> 8;
	hdr[6] = vni;
}

enum drop_reason vxlan_decap(const uint8_t *p, size_t n, uint32_t vni, const uint8_t **frame, size_t *len)
{
	uint32_t got;

	if (n < VXLAN_HDR_LEN || !(p[0] & VXLAN_FLAG_I))
		return DROP_BAD_HEADER;
	got = (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
	if (got != vni)
		return DROP_BAD_VNI;
	n -= VXLAN_HDR_LEN;
	if (n < VXLAN_MIN_FRAME || n > VXLAN_MAX_FRAME)
		return DROP_BAD_LENGTH;
	*frame = p + VXLAN_HDR_LEN;
	*len = n;
	return DROP_NONE;
}
