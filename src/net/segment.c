/* Software TCP segmentation and checksum completion. See segment.h. */
#include "net/segment.h"

#include <string.h>

#include "net/csum.h"

#define ETH_HLEN 14

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

void seg_build(const struct vnet_meta *m, const uint8_t *hdrs, const uint8_t *frame, uint32_t i,
	       bool partial, uint8_t *out, uint32_t *poff, uint32_t *plen)
{
	uint32_t off = m->hdrs_len + i * (uint32_t)m->gso_size, left = m->len - off;
	uint32_t len = left < m->gso_size ? left : m->gso_size;
	uint32_t tcp_len = m->hdrs_len - m->l4_off + len;
	uint8_t *ip = out + ETH_HLEN, *th = out + m->l4_off;
	bool last = i + 1 == m->nsegs;
	uint64_t sum;

	memcpy(out, hdrs, m->hdrs_len);
	if (m->ipv6) {
		put16(ip + 4, tcp_len);
		sum = csum_add(0, ip + 8, 32);	/* source and destination */
	} else {
		put16(ip + 2, m->l4_off - ETH_HLEN + tcp_len);
		put16(ip + 4, (uint16_t)((ip[4] << 8 | ip[5]) + i));
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, m->l4_off - ETH_HLEN)));
		sum = csum_add(0, ip + 12, 8);
	}
	sum += 6 + tcp_len;	/* protocol and TCP length */
	put32(th + 4, get32(th + 4) + i * (uint32_t)m->gso_size);
	if (!last)
		th[13] &= ~0x09;	/* FIN, PSH */
	if (i)
		th[13] &= ~0x80;	/* CWR */
	put16(th + 16, 0);
	if (partial) {
		put16(th + 16, (uint16_t)~csum_fold(sum));
	} else {
		sum = csum_add(sum, th, m->hdrs_len - m->l4_off);
		sum = csum_add(sum, frame + off, len);
		put16(th + 16, csum_fold(sum));
	}
	*poff = off;
	*plen = len;
}

uint16_t seg_csum_complete(const uint8_t *frame, uint32_t start, uint32_t len)
{
	uint16_t c = csum_fold(csum_add(0, frame + start, len - start));

	return c ? c : 0xffff;
}
