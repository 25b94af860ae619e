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

static const uint8_t hb_head[20] = {
	0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e,	/* IEEE link-local group */
	0x02, 0x00, 0x00, 0x4d, 0x56, 0x00,	/* locally administered */
	0x88, 0xb5,				/* local experimental */
	'M', 'V', 'M', 'H', 'B', '1',
};

void vxlan_hb_build(uint8_t f[VXLAN_HB_LEN], uint8_t flags, uint32_t seq)
{
	memset(f, 0, VXLAN_HB_LEN);
	memcpy(f, hb_head, sizeof(hb_head));
	f[20] = 1;	/* version */
	f[21] = flags;
	f[22] = seq >> 24;
	f[23] = seq >> 16;
	f[24] = seq >> 8;
	f[25] = seq;
}

bool vxlan_hb_parse(const uint8_t *f, size_t len, uint8_t *flags)
{
	if (len != VXLAN_HB_LEN || memcmp(f, hb_head, sizeof(hb_head)) || f[20] != 1)
		return false;
	*flags = f[21];
	return true;
}
