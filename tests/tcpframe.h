/* Test frames: TCP over IPv4/IPv6 in Ethernet, with correct lengths, and a
 * naive reference checksum (byte by byte, 16-bit words) to judge the
 * optimised one by. Header-only: each user includes it once. */
#ifndef MULTIVM_TCPFRAME_H
#define MULTIVM_TCPFRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TF_FIN 0x01
#define TF_PSH 0x08
#define TF_ACK 0x10
#define TF_CWR 0x80

static inline uint16_t tf_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tf_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tf_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void tf_put32(uint8_t *p, uint32_t v) { tf_put16(p, v >> 16); tf_put16(p + 2, v); }

/* One's complement sum of 16-bit words, the slow obvious way. */
static inline uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

/* Whether the TCP checksum of a frame (l4 at l4, tcp_len bytes) is right. */
static inline bool ref_tcp_ok(const uint8_t *f, unsigned l4, unsigned tcp_len, bool v6)
{
	uint32_t s;

	if (v6)
		s = ref_sum(0, f + 14 + 8, 32);
	else
		s = ref_sum(0, f + 14 + 12, 8);
	s = ref_sum(s, (const uint8_t[]){ 0, 6, tcp_len >> 8, tcp_len & 0xff }, 4);
	s = ref_sum(s, f + l4, tcp_len);
	return s == 0xffff;
}

/* Builds Ethernet + IPv4 (ip_opt bytes of options, a multiple of 4) or
 * IPv6 + TCP (tcp_opt bytes of options) + payload of plen bytes (byte i is
 * i * 7 + 3). Returns the frame length; *l4 gets the TCP offset. */
static inline uint32_t tf_build(uint8_t *f, bool v6, unsigned ip_opt, unsigned tcp_opt, uint32_t plen,
				uint8_t flags, const uint8_t dst[6], const uint8_t src[6], unsigned *l4)
{
	unsigned iphl = v6 ? 40 : 20 + ip_opt, thl = 20 + tcp_opt, o = 14;
	uint32_t i, len = 14 + iphl + thl + plen;

	memset(f, 0, 14 + iphl + thl);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (v6) {
		tf_put16(f + 12, 0x86dd);
		f[o] = 0x60;
		tf_put16(f + o + 4, thl + plen);
		f[o + 6] = 6;
		f[o + 7] = 64;
		for (i = 0; i < 32; i++)
			f[o + 8 + i] = 0x20 + i;
	} else {
		tf_put16(f + 12, 0x0800);
		f[o] = 0x40 | (iphl / 4);
		tf_put16(f + o + 2, len - 14);
		tf_put16(f + o + 4, 0x1234);	/* ID */
		tf_put16(f + o + 6, 0x4000);	/* DF */
		f[o + 8] = 64;
		f[o + 9] = 6;
		tf_put32(f + o + 12, 0xc0a80101);
		tf_put32(f + o + 16, 0xc0a80102);
		for (i = 0; i < ip_opt; i++)
			f[o + 20 + i] = 1;	/* NOP options */
	}
	o += iphl;
	*l4 = o;
	tf_put16(f + o, 40000);
	tf_put16(f + o + 2, 5201);
	tf_put32(f + o + 4, 0xfffff000);	/* wraps during segmentation */
	tf_put32(f + o + 8, 77);
	f[o + 12] = (thl / 4) << 4;
	f[o + 13] = flags;
	tf_put16(f + o + 14, 65535);
	for (i = 0; i < tcp_opt; i++)
		f[o + 20 + i] = 1;
	for (i = 0; i < plen; i++)
		f[o + thl + i] = (uint8_t)(i * 7 + 3);
	return len;
}

/* What a TSO sender puts in the TCP checksum field: the pseudo-header sum
 * (not complemented). */
static inline void tf_partial(uint8_t *f, unsigned l4, uint32_t len, bool v6)
{
	uint32_t tcp_len = len - l4, s;

	s = v6 ? ref_sum(0, f + 14 + 8, 32) : ref_sum(0, f + 14 + 12, 8);
	s = ref_sum(s, (const uint8_t[]){ 0, 6, (tcp_len >> 8) & 0xff, tcp_len & 0xff }, 4);
	s = ref_sum(s, (const uint8_t[]){ tcp_len >> 24, (tcp_len >> 16) & 0xff }, 2);
	tf_put16(f + l4 + 16, s);
}

#endif
