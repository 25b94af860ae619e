/* Offloads between two in-process "VMs" over a real link: TSO frames and
 * partial checksums pass to a guest that takes them, are segmented and
 * completed for one that does not (resuming when it runs out of buffers),
 * and hostile headers from a guest or a peer are counted drops. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../guest_model.h"
#include "../tcpframe.h"
#include "net/segment.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };

struct fx {
	struct guest a, b;
	struct link la, lb;
	uint8_t f[VNET_MAX_GSO_FRAME], out[VNET_MAX_GSO_FRAME + 4096];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(guest_pair_init(&f->a, &f->b, &f->la, &f->lb, mac_a, mac_b), 0);
	f->a.net.tx_caps = VNET_CAP_ALL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	guest_pair_free(&f->a, &f->b, &f->la, &f->lb);
	free(f);
	return 0;
}

/* A TSO frame of plen payload bytes from A (IPv4 or IPv6). */
static uint32_t send_tso(struct fx *f, bool v6, uint32_t plen, uint16_t mss, uint8_t flags, uint8_t ecn)
{
	unsigned l4;
	uint32_t len = tf_build(f->f, v6, 0, 12, plen, flags, mac_b, mac_a, &l4);
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .gso_type = (v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) | ecn,
			      .gso_size = mss, .csum_start = l4, .csum_offset = 16, .hdr_len = l4 + 32 };

	tf_partial(f->f, l4, len, v6);
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	return len;
}

static void test_tso_passes_to_a_guest_that_takes_it(void **state)
{
	struct fx *f = *state;
	uint32_t len, got;
	struct vnet_hdr h;

	f->b.net.rx_caps = VNET_CAP_ALL;
	f->b.net.mrg_rxbuf = true;
	guest_post_rx(&f->b, 64);
	len = send_tso(f, false, 20000, 1448, TF_ACK | TF_PSH, 0);
	net_rx(&f->b.net);
	got = guest_recv_merged(&f->b, f->out, sizeof(f->out));
	assert_int_equal(got, NET_HDR_LEN + len);
	memcpy(&h, f->out, sizeof(h));
	assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.num_buffers, (NET_HDR_LEN + len + GM_BUF - 1) / GM_BUF);
	assert_memory_equal(f->out + NET_HDR_LEN, f->f, len);
	assert_int_equal(f->b.st.guest_rx_frames, 1);
	assert_int_equal(f->b.st.link[0].rx_bytes, len);
	assert_int_equal(f->a.st.link[0].tx_bytes, len);
	/* The offload counters: sent with metadata, passed whole, nothing cut. */
	assert_int_equal(f->a.st.tx_offload_frames, 1);
	assert_int_equal(f->a.st.tx_tso_frames, 1);
	assert_int_equal(f->b.st.rx_tso_frames, 1);
	assert_int_equal(f->b.st.seg_frames, 0);
	assert_int_equal(f->b.st.seg_segments, 0);
	assert_int_equal(f->b.st.csum_completed, 0);
}

/* A 64 KiB-class frame for a guest that has posted too few RX buffers:
 * the VMM asks for the kick that brings enough and sleeps, instead of
 * taking the few posted as work (a VMM spun on them, stealing the core
 * from the guests under four TCP streams). */
static void test_waits_for_enough_rx_buffers(void **state)
{
	struct fx *f = *state;
	const uint16_t *ev = (const uint16_t *)&f->b.rx.used->ring[GM_QN];
	uint32_t len, need;

	f->b.net.rx_caps = VNET_CAP_ALL;
	f->b.net.mrg_rxbuf = true;
	guest_post_rx(&f->b, 3);
	len = send_tso(f, false, 40000, 1448, TF_ACK | TF_PSH, 0);
	need = (NET_HDR_LEN + len + GM_BUF - 1) / GM_BUF;
	assert_true(need > 10);
	net_rx(&f->b.net);
	assert_true(f->b.net.rx_full);
	assert_int_equal(f->b.st.guest_rx_frames, 0);
	assert_false(net_arm(&f->b.net));	/* nothing to do until more come */
	assert_int_equal(*ev, 3);		/* a kick when the 4th is posted */
	guest_post_rx(&f->b, 2);
	assert_true(net_arm(&f->b.net));	/* the 4th came: look again */
	net_rx(&f->b.net);			/* still too few */
	assert_true(f->b.net.rx_full);
	assert_int_equal(f->b.st.guest_rx_frames, 0);
	assert_false(net_arm(&f->b.net));
	assert_int_equal(*ev, 5);		/* now when the 6th is */
	guest_post_rx(&f->b, need - 5);
	assert_true(net_arm(&f->b.net));	/* enough now: look again */
	net_rx(&f->b.net);
	assert_false(f->b.net.rx_full);
	assert_int_equal(guest_recv_merged(&f->b, f->out, sizeof(f->out)), NET_HDR_LEN + len);
	assert_memory_equal(f->out + NET_HDR_LEN, f->f, len);
	assert_int_equal(f->b.st.guest_rx_frames, 1);
	assert_int_equal(f->b.st.drop[DROP_QUEUE_FULL] + f->b.st.drop[DROP_MALFORMED], 0);
}

/* A guest whose whole RX ring cannot hold the frame (16 buffers of 2 KiB
 * for 40 KB) never will: the frame is a counted malformed drop and the
 * buffers go back empty, rather than the link waiting for ever. */
static void test_rx_ring_too_small_for_the_frame(void **state)
{
	struct fx *f = *state;
	struct virtq *q = &f->b.rx;
	size_t ao, uo;
	uint8_t *base = (uint8_t *)q->desc;
	uint16_t i;

	f->b.net.rx_caps = VNET_CAP_ALL;
	f->b.net.mrg_rxbuf = true;
	vq_ring_size(16, &ao, &uo);
	vq_init(q, 16, base, base + ao, base + uo, &f->b.map, true, false);
	for (i = 0; i < 16; i++) {
		q->desc[i] = (struct vring_desc){ guest_buf(&f->b, 0, i), GM_BUF, VRING_DESC_F_WRITE, 0 };
		q->avail->ring[i] = i;
	}
	q->avail->idx = 16;
	send_tso(f, false, 40000, 1448, TF_ACK, 0);
	net_rx(&f->b.net);
	assert_false(f->b.net.rx_full);
	assert_int_equal(f->b.st.drop[DROP_MALFORMED], 1);
	assert_int_equal(f->b.st.guest_rx_frames, 0);
	assert_int_equal(q->used->idx, 16);
	for (i = 0; i < 16; i++)
		assert_int_equal(q->used->ring[i].len, 0);
	assert_int_equal(vq_error(q), VQ_OK);
}

/* Segments received by B: each checked, payloads put back together. */
static void check_received_segments(struct fx *f, bool v6, uint32_t plen, uint16_t mss, bool partial,
				    unsigned first, unsigned count, uint8_t flags)
{
	unsigned l4 = v6 ? 54 : 34, nsegs = (plen + mss - 1) / mss, i;

	for (i = first; i < first + count; i++) {
		uint8_t *p = NULL;
		uint32_t got = guest_recv(&f->b, &p), slen = got - NET_HDR_LEN;
		struct vnet_hdr h;
		uint8_t *s = p + NET_HDR_LEN;

		assert_int_not_equal(got, 0);
		memcpy(&h, p, sizeof(h));
		assert_int_equal(h.gso_type, 0);
		assert_int_equal(h.num_buffers, 1);
		assert_true(slen <= 1514);
		assert_int_equal(slen, l4 + 32 + (i + 1 < nsegs ? mss : plen - i * mss));
		if (partial) {
			assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
			assert_int_equal(h.csum_start, l4);
			tf_put16(s + l4 + 16, seg_csum_complete(s, l4, slen));
		} else {
			assert_int_equal(h.flags, 0);
		}
		assert_true(ref_tcp_ok(s, l4, slen - l4, v6));
		assert_int_equal(tf_get32(s + l4 + 4), (uint32_t)(0xfffff000u + i * mss));
		assert_int_equal(!!(s[l4 + 13] & TF_PSH), i + 1 == nsegs && (flags & TF_PSH));
		assert_int_equal(!!(s[l4 + 13] & TF_CWR), i == 0 && (flags & TF_CWR));
		assert_memory_equal(s + l4 + 32, f->f + l4 + 32 + i * mss, slen - l4 - 32);
		if (!v6)
			assert_int_equal(tf_get16(s + 14 + 4), (uint16_t)(0x1234 + i));
	}
}

static void test_tso_segmented_for_a_plain_guest(void **state)
{
	struct fx *f = *state;

	guest_post_rx(&f->b, 64);
	send_tso(f, false, 20000, 1448, TF_ACK | TF_PSH, 0);
	net_rx(&f->b.net);
	check_received_segments(f, false, 20000, 1448, false, 0, 14, TF_ACK | TF_PSH);
	assert_int_equal(guest_recv(&f->b, &(uint8_t *){ 0 }), 0);
	assert_int_equal(f->b.st.guest_rx_frames, 14);
	assert_int_equal(f->b.st.link[0].rx_frames, 1);
	assert_int_equal(f->a.st.tx_tso_frames, 1);
	assert_int_equal(f->b.st.seg_frames, 1);
	assert_int_equal(f->b.st.seg_segments, 14);
	assert_int_equal(f->b.st.rx_tso_frames, 0);
	assert_int_equal(f->b.st.csum_completed, 0);	/* segments' checksums count as segmenting */
	/* IPv6 too, and a guest that takes NEEDS_CSUM but not TSO. */
	f->b.net.rx_caps = VNET_CAP_CSUM;
	send_tso(f, true, 5000, 1428, TF_ACK | TF_FIN | TF_PSH, 0);
	net_rx(&f->b.net);
	check_received_segments(f, true, 5000, 1428, true, 0, 4, TF_ACK | TF_FIN | TF_PSH);
	assert_int_equal(f->a.st.tx_tso_frames, 2);
	assert_int_equal(f->b.st.seg_frames, 2);
	assert_int_equal(f->b.st.seg_segments, 18);
}

/* ECN: a guest with TSO4 but not ECN gets segments, CWR on the first. */
static void test_tso_ecn_needs_guest_ecn(void **state)
{
	struct fx *f = *state;

	f->b.net.rx_caps = VNET_CAP_CSUM | VNET_CAP_TSO4;
	guest_post_rx(&f->b, 64);
	send_tso(f, false, 4000, 1448, TF_ACK | TF_CWR, VNET_GSO_ECN);
	net_rx(&f->b.net);
	check_received_segments(f, false, 4000, 1448, true, 0, 3, TF_ACK | TF_CWR);
}

/* Out of RX buffers halfway: the rest comes when buffers do, nothing twice. */
static void test_segmenting_resumes(void **state)
{
	struct fx *f = *state;

	guest_post_rx(&f->b, 5);
	send_tso(f, false, 20000, 1448, TF_ACK | TF_PSH, 0);
	net_rx(&f->b.net);
	check_received_segments(f, false, 20000, 1448, false, 0, 5, TF_ACK | TF_PSH);
	assert_int_equal(guest_recv(&f->b, &(uint8_t *){ 0 }), 0);
	assert_int_equal(f->b.st.link[0].rx_frames, 0);	/* still on the link */
	assert_int_equal(f->b.st.seg_segments, 5);
	assert_int_equal(f->b.st.seg_frames, 0);	/* counted once it is whole */
	guest_post_rx(&f->b, 64);
	net_rx(&f->b.net);
	check_received_segments(f, false, 20000, 1448, false, 5, 9, TF_ACK | TF_PSH);
	assert_int_equal(guest_recv(&f->b, &(uint8_t *){ 0 }), 0);
	assert_int_equal(f->b.st.link[0].rx_frames, 1);
	assert_int_equal(f->b.st.guest_rx_frames, 14);
	assert_int_equal(f->b.st.seg_segments, 14);
	assert_int_equal(f->b.st.seg_frames, 1);
}

/* NEEDS_CSUM without GSO: completed for a guest without GUEST_CSUM. */
static void test_checksum_completed(void **state)
{
	struct fx *f = *state;
	unsigned l4;
	uint32_t len = tf_build(f->f, false, 0, 0, 1000, TF_ACK, mac_b, mac_a, &l4);
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = l4, .csum_offset = 16 };
	uint8_t *p = NULL;

	tf_partial(f->f, l4, len, false);
	guest_post_rx(&f->b, 4);
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	net_rx(&f->b.net);
	assert_int_equal(guest_recv(&f->b, &p), NET_HDR_LEN + len);
	assert_int_equal(p[0], 0);
	assert_true(ref_tcp_ok(p + NET_HDR_LEN, l4, len - l4, false));
	assert_int_equal(f->a.st.tx_offload_frames, 1);
	assert_int_equal(f->a.st.tx_tso_frames, 0);
	assert_int_equal(f->b.st.csum_completed, 1);
	/* A guest with GUEST_CSUM gets it partial, as sent. */
	f->b.net.rx_caps = VNET_CAP_CSUM;
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	net_rx(&f->b.net);
	assert_int_equal(guest_recv(&f->b, &p), NET_HDR_LEN + len);
	assert_int_equal(p[0], VNET_F_NEEDS_CSUM);
	assert_memory_equal(p + NET_HDR_LEN, f->f, len);
	assert_int_equal(f->a.st.tx_offload_frames, 2);
	assert_int_equal(f->b.st.csum_completed, 1);
	assert_int_equal(f->b.st.rx_tso_frames, 0);
}

/* Without MRG_RXBUF a large frame needs one large buffer: 2 KiB ones are
 * too small, a counted drop; the link carries on. */
static void test_large_frame_without_mrg_rxbuf(void **state)
{
	struct fx *f = *state;
	uint8_t *p = NULL, buf[60] = { 0 };

	f->b.net.rx_caps = VNET_CAP_ALL;
	guest_post_rx(&f->b, 8);
	send_tso(f, false, 20000, 1448, TF_ACK, 0);
	net_rx(&f->b.net);
	assert_int_equal(f->b.st.drop[DROP_MALFORMED], 1);
	assert_int_equal(f->b.st.rx_tso_frames + f->b.st.seg_frames, 0);	/* a drop, not passed */
	memcpy(buf, mac_b, 6);
	memcpy(buf + 6, mac_a, 6);
	guest_send(&f->a, buf, 60);
	net_tx(&f->a.net);
	net_rx(&f->b.net);
	assert_int_equal(guest_recv(&f->b, &p), 0);	/* the too-small buffer, length 0 */
	assert_int_equal(guest_recv(&f->b, &p), NET_HDR_LEN + 60);
}

/* Hostile headers from the guest: counted malformed, nothing sent. */
static void test_guest_hostile_headers(void **state)
{
	struct fx *f = *state;
	unsigned l4;
	uint32_t len = tf_build(f->f, false, 0, 0, 3000, TF_ACK, mac_b, mac_a, &l4);
	struct vnet_hdr ok = { .flags = 1, .gso_type = 1, .gso_size = 1448, .csum_start = l4, .csum_offset = 16 };
	struct vnet_hdr h;

	h = ok, h.gso_size = 0;
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	h = ok, h.csum_offset = 0xfff0;
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	h = ok, h.hdr_len = 0xffff;
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	h = ok, h.gso_type = VNET_GSO_UDP;
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	h = ok, h.gso_size = 1;	/* 3000 one-byte segments: below VNET_MIN_GSO_SIZE */
	guest_send_hdr(&f->a, &h, f->f, len);
	net_tx(&f->a.net);
	f->a.net.tx_caps = VNET_CAP_CSUM;	/* TSO not negotiated */
	guest_send_hdr(&f->a, &ok, f->f, len);
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.drop[DROP_MALFORMED], 6);
	assert_int_equal(f->a.st.link[0].tx_frames, 0);
	assert_int_equal(f->a.st.guest_tx_frames, 6);
	assert_int_equal(f->a.st.tx_offload_frames, 0);	/* only checked frames count */
}

/* Hostile metadata from the peer, after the sender checked it: the
 * receiver checks again. */
static void test_peer_hostile_metadata(void **state)
{
	struct fx *f = *state;
	struct vnet_hdr *meta = (struct vnet_hdr *)f->la.tx_area;

	guest_post_rx(&f->b, 64);
	send_tso(f, false, 3000, 1448, TF_ACK, 0);
	meta->gso_size = 0;
	net_rx(&f->b.net);
	send_tso(f, false, 3000, 1448, TF_ACK, 0);
	meta = (struct vnet_hdr *)(f->la.tx_area + f->la.tx_off[1]);
	meta->csum_start = 0xfff0;
	net_rx(&f->b.net);
	send_tso(f, false, 3000, 1448, TF_ACK, 0);
	f->la.tx_area[f->la.tx_off[2] + LINK_META_LEN + 14 + 9] = 17;	/* "TCP" that is UDP */
	net_rx(&f->b.net);
	send_tso(f, false, 3000, 1448, TF_ACK, 0);	/* one-byte segments asked for by the peer */
	meta = (struct vnet_hdr *)(f->la.tx_area + f->la.tx_off[3]);
	meta->gso_size = 1;
	net_rx(&f->b.net);
	assert_int_equal(f->b.st.drop[DROP_MALFORMED], 4);
	assert_int_equal(f->b.st.link[0].drop[DROP_MALFORMED], 4);
	assert_int_equal(f->a.st.tx_tso_frames, 4);
	assert_int_equal(f->b.st.rx_tso_frames + f->b.st.seg_frames + f->b.st.seg_segments, 0);
	assert_int_equal(guest_recv(&f->b, &(uint8_t *){ 0 }), 0);
	assert_int_equal(f->lb.rxq.err, 0);
}

/* mtu 9000: jumbo frames without GSO pass; one byte more does not. */
static void test_jumbo_mtu(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[9100];
	uint32_t got;

	f->a.net.mtu = f->b.net.mtu = 9000;
	f->b.net.mrg_rxbuf = true;
	memset(buf, 0x33, sizeof(buf));
	memcpy(buf, mac_b, 6);
	memcpy(buf + 6, mac_a, 6);
	guest_post_rx(&f->b, 64);
	guest_send_hdr(&f->a, (uint8_t[NET_HDR_LEN]){ 0 }, buf, 9018);
	net_tx(&f->a.net);
	guest_send_hdr(&f->a, (uint8_t[NET_HDR_LEN]){ 0 }, buf, 9019);
	net_tx(&f->a.net);
	net_rx(&f->b.net);
	got = guest_recv_merged(&f->b, f->out, sizeof(f->out));
	assert_int_equal(got, NET_HDR_LEN + 9018);
	assert_memory_equal(f->out + NET_HDR_LEN, buf, 9018);
	assert_int_equal(f->a.st.drop[DROP_MALFORMED], 1);
}

/* A link fills by bytes as well as by entries: 64 KiB frames until full;
 * the next waits in the guest's ring, is dropped (counted) once it waited
 * too long, and there is room again once the receiver took them. */
static void test_link_fills_by_bytes(void **state)
{
	struct fx *f = *state;
	unsigned i, sent;

	f->b.net.rx_caps = VNET_CAP_ALL;
	f->b.net.mrg_rxbuf = true;
	for (i = 0; i < 12 && !f->a.net.tx_wait; i++)	/* a waiting frame keeps its buffers */
		send_tso(f, false, 60000, 1448, TF_ACK, 0);
	sent = f->a.st.link[0].tx_frames;
	assert_true(sent >= 3 && sent < 12);	/* 512 KiB of area at 64 entries */
	assert_int_equal(i, sent + 1);
	assert_int_equal(f->a.net.tx_wait, 1);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 0);
	net_tx_expire(&f->a.net);
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 1);
	guest_post_rx(&f->b, 256);
	while (net_rx(&f->b.net))
		;
	for (i = 0; i < sent; i++)
		assert_int_not_equal(guest_recv_merged(&f->b, f->out, sizeof(f->out)), 0);
	send_tso(f, false, 60000, 1448, TF_ACK, 0);
	assert_int_equal(f->a.st.link[0].tx_frames, sent + 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tso_passes_to_a_guest_that_takes_it), T(test_tso_segmented_for_a_plain_guest),
		T(test_tso_ecn_needs_guest_ecn), T(test_segmenting_resumes), T(test_checksum_completed),
		T(test_large_frame_without_mrg_rxbuf), T(test_waits_for_enough_rx_buffers), T(test_rx_ring_too_small_for_the_frame), T(test_guest_hostile_headers),
		T(test_peer_hostile_metadata), T(test_jumbo_mtu), T(test_link_fills_by_bytes),
	};

	return cmocka_run_group_tests_name("forwarding with offloads", tests, NULL, NULL);
}
