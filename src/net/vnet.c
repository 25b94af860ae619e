/* virtio-net header checks. See vnet.h. */
#include "net/vnet.h"

#include <string.h>

#define ETH_HLEN	14
#define IP6_HLEN	40
#define PROTO_TCP	6

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP and TCP headers of a GSO frame; fills m's header fields. */
static int parse_tcp(const uint8_t *p, uint32_t len, uint32_t have, int ipv6, struct vnet_meta *m)
{
	uint32_t l4, thl;

	if (have < ETH_HLEN + 20 || be16(p + 12) != (ipv6 ? 0x86dd : 0x0800))
		return -1;
	if (ipv6) {
		if (have < ETH_HLEN + IP6_HLEN || p[ETH_HLEN] >> 4 != 6)
			return -1;
		/* No extension headers: the TCP header follows directly. */
		if (p[ETH_HLEN + 6] != PROTO_TCP || be16(p + ETH_HLEN + 4) != len - ETH_HLEN - IP6_HLEN)
			return -1;
		l4 = ETH_HLEN + IP6_HLEN;
	} else {
		uint32_t ihl = (p[ETH_HLEN] & 15) * 4u;

		if (p[ETH_HLEN] >> 4 != 4 || ihl < 20 || have < ETH_HLEN + ihl)
			return -1;
		if (p[ETH_HLEN + 9] != PROTO_TCP || be16(p + ETH_HLEN + 2) != len - ETH_HLEN)
			return -1;
		if (be16(p + ETH_HLEN + 6) & 0x3fff)	/* MF or a fragment offset */
			return -1;
		l4 = ETH_HLEN + ihl;
	}
	if (have < l4 + 20)
		return -1;
	thl = (p[l4 + 12] >> 4) * 4u;
	if (thl < 20 || have < l4 + thl || len <= l4 + thl)
		return -1;
	/* The checksum to complete must be TCP's. */
	if (m->csum_start != l4 || m->csum_offset != 16)
		return -1;
	m->l4_off = l4;
	m->hdrs_len = l4 + thl;
	m->ipv6 = ipv6;
	m->nsegs = (len - m->hdrs_len + m->gso_size - 1) / m->gso_size;
	return m->nsegs <= VNET_MAX_SEGS ? 0 : -1;
}

int vnet_check(const struct vnet_hdr *h, const uint8_t *peek, uint32_t len, unsigned caps,
	       uint32_t max_plain, struct vnet_meta *m)
{
	uint8_t gso = h->gso_type & ~VNET_GSO_ECN;
	uint32_t have = len < VNET_PEEK ? len : VNET_PEEK;

	memset(m, 0, sizeof(*m));
	m->flags = h->flags;
	m->gso_type = h->gso_type;
	m->gso_size = h->gso_size;
	m->csum_start = h->csum_start;
	m->csum_offset = h->csum_offset;
	m->len = len;
	m->nsegs = 1;
	if (len < VNET_MIN_FRAME || len > VNET_MAX_GSO_FRAME)
		return -1;
	if (h->flags & ~VNET_F_NEEDS_CSUM)
		return -1;
	if (h->flags & VNET_F_NEEDS_CSUM) {
		/* The checksum lies past the Ethernet header (whose addresses
		 * the VMMs rewrite with the ones they checked). */
		if (!(caps & VNET_CAP_CSUM) || h->csum_start < VNET_MIN_FRAME ||
		    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
			return -1;
	} else {
		m->csum_start = m->csum_offset = 0;
	}
	if (h->gso_type == VNET_GSO_NONE) {
		m->gso_size = 0;
		return len <= max_plain ? 0 : -1;
	}
	if ((h->gso_type & VNET_GSO_ECN) && !(caps & VNET_CAP_ECN))
		return -1;
	if (gso == VNET_GSO_TCPV4 ? !(caps & VNET_CAP_TSO4) :
	    gso == VNET_GSO_TCPV6 ? !(caps & VNET_CAP_TSO6) : 1)
		return -1;
	if (!(h->flags & VNET_F_NEEDS_CSUM) || h->gso_size < VNET_MIN_GSO_SIZE || h->gso_size > MV_MTU_MAX ||
	    h->hdr_len > len)
		return -1;
	return parse_tcp(peek, len, have, gso == VNET_GSO_TCPV6, m);
}

unsigned vnet_missing(const struct vnet_meta *m, unsigned caps)
{
	unsigned need = 0;

	if (m->gso_type) {
		need |= (m->gso_type & ~VNET_GSO_ECN) == VNET_GSO_TCPV6 ? VNET_CAP_TSO6 : VNET_CAP_TSO4;
		if (m->gso_type & VNET_GSO_ECN)
			need |= VNET_CAP_ECN;
	}
	if (m->flags & VNET_F_NEEDS_CSUM)
		need |= VNET_CAP_CSUM;
	return need & ~caps;
}

void vnet_hdr_of(const struct vnet_meta *m, struct vnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->flags = m->flags;
	h->gso_type = m->gso_type;
	if (m->gso_type) {
		h->gso_size = m->gso_size;
		h->hdr_len = m->hdrs_len;
	}
	h->csum_start = m->csum_start;
	h->csum_offset = m->csum_offset;
}
