/* The offload checker (net/vnet.c), the checksum (net/csum.c) and the
 * software segmenter (net/segment.c), against a naive reference checksum
 * and hostile headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "net/csum.h"
#include "net/segment.h"
#include "net/vnet.h"
#include "../tcpframe.h"

static const uint8_t ma[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mb[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };
static uint8_t f[VNET_MAX_GSO_FRAME + 64];

static void test_csum_matches_reference(void **state)
{
	static uint8_t buf[4099];
	unsigned len, i;

	srand(1);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = rand();
	for (len = 0; len < sizeof(buf); len += 1 + len / 3) {
		uint16_t want = ~ref_sum(0, buf, len) & 0xffff;

		assert_int_equal(csum_fold(csum_add(0, buf, len)), want);
		/* Pieces of even length chain. */
		if (len >= 10)
			assert_int_equal(csum_fold(csum_add(csum_add(0, buf, 6), buf + 6, len - 6)), want);
	}
	memset(buf, 0xff, sizeof(buf));	/* carries everywhere */
	assert_int_equal(csum_fold(csum_add(0, buf, 4096)), (uint16_t)~ref_sum(0, buf, 4096));
}

static struct vnet_hdr tso(uint8_t type, uint16_t gso_size, unsigned l4)
{
	return (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .gso_type = type, .gso_size = gso_size,
				  .csum_start = l4, .csum_offset = 16, .hdr_len = l4 + 20 };
}

/* Segments frame f (len) into out[] checking every segment. */
static void check_segments(bool v6, unsigned ip_opt, unsigned tcp_opt, uint32_t plen, uint16_t mss,
			   uint8_t flags, bool partial)
{
	static uint8_t seg[VNET_PEEK + 9100];
	struct vnet_meta m;
	struct vnet_hdr h;
	unsigned l4, i, thl = 20 + tcp_opt, nsegs = (plen + mss - 1) / mss;
	uint32_t len = tf_build(f, v6, ip_opt, tcp_opt, plen, flags, mb, ma, &l4), got = 0;

	tf_partial(f, l4, len, v6);
	h = tso(v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, mss, l4);
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_ALL, 1518, &m), 0);
	assert_int_equal(m.nsegs, nsegs);
	assert_int_equal(m.hdrs_len, l4 + thl);
	assert_int_equal(vnet_missing(&m, 0), VNET_CAP_CSUM | (v6 ? VNET_CAP_TSO6 : VNET_CAP_TSO4));
	for (i = 0; i < nsegs; i++) {
		uint32_t poff, pl, slen;
		uint8_t fl;

		seg_build(&m, f, f, i, partial, seg, &poff, &pl);
		assert_int_equal(poff, l4 + thl + i * mss);
		assert_int_equal(pl, i + 1 < nsegs ? mss : plen - i * mss);
		memcpy(seg + m.hdrs_len, f + poff, pl);
		slen = m.hdrs_len + pl;
		assert_true(slen <= 14u + 20 + 40 + 60 + mss);
		if (v6) {
			assert_int_equal(tf_get16(seg + 14 + 4), thl + pl);
		} else {
			assert_int_equal(tf_get16(seg + 14 + 2), slen - 14);
			assert_int_equal(tf_get16(seg + 14 + 4), (uint16_t)(0x1234 + i));
			assert_int_equal(ref_sum(0, seg + 14, 20 + ip_opt), 0xffff);	/* IP header checksum */
			assert_memory_equal(seg + 14 + 20, f + 14 + 20, ip_opt);	/* options copied */
		}
		assert_int_equal(tf_get32(seg + l4 + 4), (uint32_t)(0xfffff000u + i * mss));
		fl = seg[l4 + 13];
		assert_int_equal(!!(fl & TF_FIN), i + 1 == nsegs && (flags & TF_FIN));
		assert_int_equal(!!(fl & TF_PSH), i + 1 == nsegs && (flags & TF_PSH));
		assert_int_equal(!!(fl & TF_CWR), i == 0 && (flags & TF_CWR));
		assert_true(fl & TF_ACK);
		if (partial) {	/* what the receiver completes: then it is right */
			uint16_t c = seg_csum_complete(seg, l4, slen);

			tf_put16(seg + l4 + 16, c);
		}
		assert_true(ref_tcp_ok(seg, l4, slen - l4, v6));
		assert_memory_equal(seg + m.hdrs_len, f + l4 + thl + i * mss, pl);
		got += pl;
	}
	assert_int_equal(got, plen);
}

static void test_segment_ipv4(void **state)
{
	check_segments(false, 0, 12, 5000, 1448, TF_ACK | TF_PSH | TF_FIN | TF_CWR, false);
	check_segments(false, 0, 0, 65535 - 40, 1460, TF_ACK | TF_PSH, false);	/* largest IPv4 frame */
	check_segments(false, 0, 0, 1, 1460, TF_ACK, false);			/* one byte */
	check_segments(false, 0, 0, 2920, 1460, TF_ACK, false);			/* exact multiple */
	check_segments(false, 0, 12, 3001, 1448, TF_ACK | TF_PSH, true);	/* NEEDS_CSUM segments */
}

static void test_segment_ipv4_options(void **state)
{
	check_segments(false, 8, 0, 4000, 1440, TF_ACK | TF_FIN, false);
}

static void test_segment_ipv6(void **state)
{
	check_segments(true, 0, 12, 7777, 1428, TF_ACK | TF_PSH | TF_FIN | TF_CWR, false);
	check_segments(true, 0, 0, 65550 - 74, 8940, TF_ACK, false);		/* jumbo MSS */
	check_segments(true, 0, 12, 3000, 1428, TF_ACK, true);
}

/* NEEDS_CSUM without GSO: any protocol, the generic rule. */
static void test_csum_complete(void **state)
{
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM };
	struct vnet_meta m;
	unsigned l4;
	uint32_t len = tf_build(f, false, 0, 0, 999, TF_ACK, mb, ma, &l4);

	tf_partial(f, l4, len, false);
	h.csum_start = l4;
	h.csum_offset = 16;
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_CSUM, 1518, &m), 0);
	assert_int_equal(m.nsegs, 1);
	assert_int_equal(vnet_missing(&m, VNET_CAP_CSUM), 0);
	assert_int_equal(vnet_missing(&m, 0), VNET_CAP_CSUM);
	tf_put16(f + l4 + 16, seg_csum_complete(f, l4, len));
	assert_true(ref_tcp_ok(f, l4, len - l4, false));
}

/* Each hostile header is refused (a counted malformed drop upstream). */
static void test_hostile_headers(void **state)
{
	struct vnet_meta m;
	struct vnet_hdr h;
	unsigned l4, l6;
	uint32_t len = tf_build(f, false, 0, 0, 3000, TF_ACK, mb, ma, &l4);
	static uint8_t g[4000];

#define BAD(hdr, frame, n, caps) do { struct vnet_hdr h_ = (hdr); \
		assert_int_equal(vnet_check(&h_, (frame), (n), (caps), 1518, &m), -1); } while (0)
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_ALL, 1518, &m), 0);
	/* csum_start + csum_offset + 2 beyond the frame, or inside Ethernet */
	BAD(((struct vnet_hdr){ .flags = 1, .csum_start = 50, .csum_offset = 9 }), f, 60, VNET_CAP_CSUM);
	BAD(((struct vnet_hdr){ .flags = 1, .csum_start = 0xffff, .csum_offset = 0xffff }), f, 60, VNET_CAP_CSUM);
	BAD(((struct vnet_hdr){ .flags = 1, .csum_start = 4, .csum_offset = 0 }), f, 60, VNET_CAP_CSUM);
	/* NEEDS_CSUM not negotiated; unknown flags (DATA_VALID is RX only) */
	BAD(((struct vnet_hdr){ .flags = 1, .csum_start = 34, .csum_offset = 16 }), f, 60, 0);
	BAD(((struct vnet_hdr){ .flags = 2 }), f, 60, VNET_CAP_ALL);
	/* too long without GSO, too short, too long at all */
	BAD(((struct vnet_hdr){ 0 }), f, 1519, VNET_CAP_ALL);
	BAD(((struct vnet_hdr){ 0 }), f, 13, VNET_CAP_ALL);
	BAD(h, f, VNET_MAX_GSO_FRAME + 1, VNET_CAP_ALL);
	/* gso_size 0 or absurd; hdr_len past the frame */
	h.gso_size = 0;
	BAD(h, f, len, VNET_CAP_ALL);
	h.gso_size = 60000;
	BAD(h, f, len, VNET_CAP_ALL);
	/* Below the smallest MSS a sender uses (48): one 64 KiB frame would
	 * be tens of thousands of segments for the segmenter. 48 passes. */
	h.gso_size = 1;
	BAD(h, f, len, VNET_CAP_ALL);
	h.gso_size = VNET_MIN_GSO_SIZE - 1;
	BAD(h, f, len, VNET_CAP_ALL);
	h.gso_size = VNET_MIN_GSO_SIZE;
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_ALL, 1518, &m), 0);
	assert_true(m.nsegs <= VNET_MAX_SEGS);
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	h.hdr_len = len + 1;
	BAD(h, f, len, VNET_CAP_ALL);
	/* GSO types: UDP, unknown, TSO not negotiated, ECN not negotiated,
	 * IPv6 type on an IPv4 frame, GSO without NEEDS_CSUM */
	h = tso(VNET_GSO_UDP, 1448, l4);
	BAD(h, f, len, VNET_CAP_ALL);
	h = tso(0x7f, 1448, l4);
	BAD(h, f, len, VNET_CAP_ALL);
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	BAD(h, f, len, VNET_CAP_CSUM | VNET_CAP_TSO6);
	h.gso_type |= VNET_GSO_ECN;
	BAD(h, f, len, VNET_CAP_CSUM | VNET_CAP_TSO4);
	h = tso(VNET_GSO_TCPV6, 1448, l4);
	BAD(h, f, len, VNET_CAP_ALL);
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	h.flags = 0;
	BAD(h, f, len, VNET_CAP_ALL);
	/* csum_start not at the TCP header, csum_offset not TCP's */
	h = tso(VNET_GSO_TCPV4, 1448, l4 + 4);
	BAD(h, f, len, VNET_CAP_ALL);
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	h.csum_offset = 6;
	BAD(h, f, len, VNET_CAP_ALL);
	/* a "TCP" frame that is UDP */
	h = tso(VNET_GSO_TCPV4, 1448, l4);
	f[14 + 9] = 17;
	BAD(h, f, len, VNET_CAP_ALL);
	f[14 + 9] = 6;
	/* IP length disagreeing with the frame, both ways */
	BAD(h, f, len - 1, VNET_CAP_ALL);
	BAD(h, f, len + 1, VNET_CAP_ALL);
	/* an IPv4 fragment */
	f[14 + 6] |= 0x20;
	BAD(h, f, len, VNET_CAP_ALL);
	f[14 + 6] &= ~0x20;
	/* IHL < 5, version 6 in an IPv4 ethertype, a VLAN tag */
	f[14] = 0x44;
	BAD(h, f, len, VNET_CAP_ALL);
	f[14] = 0x65;
	BAD(h, f, len, VNET_CAP_ALL);
	f[14] = 0x45;
	tf_put16(f + 12, 0x8100);
	BAD(h, f, len, VNET_CAP_ALL);
	tf_put16(f + 12, 0x0800);
	/* TCP data offset < 5, or TCP header past the frame; no payload */
	f[l4 + 12] = 0x40;
	BAD(h, f, len, VNET_CAP_ALL);
	f[l4 + 12] = 0xf0;	/* 60 bytes: runs into payload, fine; but frame of 80? */
	{
		uint32_t short_len = tf_build(g, false, 0, 0, 10, TF_ACK, mb, ma, &l4);

		g[l4 + 12] = 0xf0;	/* TCP header of 60 bytes in a frame with 30 after IP */
		BAD(tso(VNET_GSO_TCPV4, 1448, l4), g, short_len, VNET_CAP_ALL);
		short_len = tf_build(g, false, 0, 0, 0, TF_ACK, mb, ma, &l4);
		BAD(tso(VNET_GSO_TCPV4, 1448, l4), g, short_len, VNET_CAP_ALL);	/* no payload */
	}
	f[l4 + 12] = 0x50;
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_ALL, 1518, &m), 0);
	/* IPv6 with an extension header (hop-by-hop) before TCP */
	len = tf_build(f, true, 0, 0, 3000, TF_ACK, mb, ma, &l6);
	h = tso(VNET_GSO_TCPV6, 1428, l6);
	assert_int_equal(vnet_check(&h, f, len, VNET_CAP_ALL, 1518, &m), 0);
	f[14 + 6] = 0;
	BAD(h, f, len, VNET_CAP_ALL);
	f[14 + 6] = 6;
	tf_put16(f + 14 + 4, 1);	/* payload length disagrees */
	BAD(h, f, len, VNET_CAP_ALL);
	/* a frame shorter than its headers claim to be */
	BAD(h, f, 60, VNET_CAP_ALL);
#undef BAD
}

static void test_missing_and_header_out(void **state)
{
	struct vnet_meta m = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN,
			       .gso_size = 1448, .csum_start = 34, .csum_offset = 16, .hdrs_len = 54 };
	struct vnet_hdr h;

	assert_int_equal(vnet_missing(&m, VNET_CAP_ALL), 0);
	assert_int_equal(vnet_missing(&m, VNET_CAP_CSUM | VNET_CAP_TSO4), VNET_CAP_ECN);
	assert_int_equal(vnet_missing(&m, VNET_CAP_CSUM | VNET_CAP_TSO6 | VNET_CAP_ECN), VNET_CAP_TSO4);
	vnet_hdr_of(&m, &h);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4 | VNET_GSO_ECN);
	assert_int_equal(h.hdr_len, 54);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.num_buffers, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_segment_ipv4),
		cmocka_unit_test(test_segment_ipv4_options),
		cmocka_unit_test(test_segment_ipv6),
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_missing_and_header_out),
	};

	return cmocka_run_group_tests_name("offload", tests, NULL, NULL);
}
