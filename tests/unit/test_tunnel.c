/* VXLAN tunnels: the header (RFC 7348), and a tunnel forwarding between a
 * real UDP socket pair on loopback and an in-process VM over a real link:
 * every acceptance rule and every drop reason; a tunnel takes no offloads
 * (a VM's TSO frame leaves it as MTU-sized datagrams, a partial checksum
 * completed) and puts no offload metadata on its links; a port tunnels
 * share steers each datagram to its VNI's socket (udpsock.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../guest_model.h"
#include "../tcpframe.h"
#include "net/segment.h"
#include "link/impair.h"
#include "tunnel/tunnel.h"
#include "tunnel/udpsock.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };	/* the VM linked to the tunnel */
static const uint8_t mac_c[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 3 };	/* a VM here, not linked */
static const uint8_t mac_r[6] = { 0x02, 0, 0, 0, 0, 0x77 };		/* a remote VM */
static const uint8_t mac_t[6] = { 0 };					/* unused: the tunnel end */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- the header ---- */

static void test_encap_layout(void **state)
{
	uint8_t h[VXLAN_HDR_LEN];
	static const uint8_t want[VXLAN_HDR_LEN] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };

	memset(h, 0xee, sizeof(h));
	vxlan_encap(h, 0x123456);
	assert_memory_equal(h, want, sizeof(want));
}

static void test_decap(void **state)
{
	uint8_t d[VXLAN_MAX_PAYLOAD + 1] = { 0 };
	const uint8_t *f;
	size_t len;

	vxlan_encap(d, 42);
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN + 60, 42, &f, &len), -1);
	assert_ptr_equal(f, d + VXLAN_HDR_LEN);
	assert_int_equal(len, 60);
	/* Boundaries of the inner frame. */
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN + 14, 42, &f, &len), -1);
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN + 13, 42, &f, &len), DROP_BAD_LENGTH);
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN + 1518, 42, &f, &len), -1);
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN + 1519, 42, &f, &len), DROP_BAD_LENGTH);
	assert_int_equal(vxlan_decap(d, VXLAN_HDR_LEN, 42, &f, &len), DROP_BAD_LENGTH);
	assert_int_equal(vxlan_decap(d, 7, 42, &f, &len), DROP_BAD_HEADER);
	assert_int_equal(vxlan_decap(d, 0, 42, &f, &len), DROP_BAD_HEADER);
	assert_int_equal(vxlan_decap(d, 60, 43, &f, &len), DROP_BAD_VNI);
	/* Reserved bits are ignored on receipt (RFC 7348, section 5). */
	d[0] = 0xff;
	d[1] = d[2] = d[3] = d[7] = 0xa5;
	assert_int_equal(vxlan_decap(d, 60, 42, &f, &len), -1);
	/* The I flag is required. */
	d[0] = 0xf7;
	assert_int_equal(vxlan_decap(d, 60, 42, &f, &len), DROP_BAD_HEADER);
	/* All 24 bits of the VNI count, the reserved byte after it does not. */
	vxlan_encap(d, MV_VNI_MAX);
	assert_int_equal(vxlan_decap(d, 60, MV_VNI_MAX, &f, &len), -1);
	assert_int_equal(vxlan_decap(d, 60, 0xfffffe, &f, &len), DROP_BAD_VNI);
}

/* ---- the tunnel ---- */

struct fx {
	struct guest a;			/* vm0, linked to the tunnel */
	struct link la, lt[1];		/* vm0's end, the tunnel's end */
	struct vm_stats tst;
	struct tunnel t;
	int peer;			/* the "remote": a UDP socket on 127.0.0.1 */
	struct sockaddr_in peer_addr, tun_addr;
};

static int udp_on(struct sockaddr_in *a)
{
	socklen_t n = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = 0;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)a, &n), 0);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(link_pair(&f->la, &f->lt[0], 64, mac_a, mac_t), 0);
	f->la.tunnel = true;
	guest_init(&f->a, mac_a, &f->la, 1);
	f->lt[0].st = &f->tst.link[0];
	tun_init(&f->t);
	f->t.vni = 42;
	f->t.st = &f->tst;
	f->t.links = f->lt;
	f->t.nlinks = 1;
	memcpy(f->t.local[0], mac_a, 6);
	memcpy(f->t.local[1], mac_c, 6);
	f->t.nlocal = 2;
	f->peer = udp_on(&f->peer_addr);
	f->t.fd = udp_on(&f->tun_addr);
	f->t.remote = f->peer_addr.sin_addr;
	f->t.dest = f->peer_addr;
	assert_int_equal(tun_offloads(&f->t, true), 3);	/* loopback: UDP GRO and GSO */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->peer);
	close(f->t.fd);
	link_detach(&f->la);
	link_detach(&f->lt[0]);
	free(f->a.mem);
	free(f);
	return 0;
}

/* A VXLAN datagram carrying dst <- src, len bytes of inner frame. */
static size_t dgram(uint8_t *b, uint32_t vni, const uint8_t dst[6], const uint8_t src[6], size_t len)
{
	vxlan_encap(b, vni);
	memset(b + VXLAN_HDR_LEN, 0x5a, len);
	memcpy(b + VXLAN_HDR_LEN, dst, 6);
	memcpy(b + VXLAN_HDR_LEN + 6, src, 6);
	return VXLAN_HDR_LEN + len;
}

/* What vm0's guest received: count, and the last frame's length. */
static unsigned delivered(struct fx *f, uint32_t *last)
{
	uint8_t *p;
	unsigned n = 0;
	uint32_t len;

	net_rx(&f->a.net);
	while ((len = guest_recv(&f->a, &p)) != 0) {
		*last = len - NET_HDR_LEN;
		n++;
	}
	return n;
}

static void test_from_network(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in other = f->peer_addr;
	uint8_t b[TUN_BUF];
	uint64_t dirty = 0;
	uint32_t last = 0;

	guest_post_rx(&f->a, 32);
	/* Unicast to vm0, and a broadcast: both delivered. */
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 100), &f->peer_addr, false, &dirty), -1);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, bcast, mac_r, 60), &f->peer_addr, false, &dirty), -1);
	assert_int_equal(dirty, 1);
	tun_flush_links(&f->t, dirty);
	assert_int_equal(delivered(f, &last), 2);
	assert_int_equal(last, 60);
	assert_int_equal(f->tst.link[0].tx_frames, 2);
	assert_int_equal(f->a.st.link[0].rx_frames, 2);

	/* Each refusal, counted once by reason. */
	other.sin_addr.s_addr = htonl(0x7f000002);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 60), &other, false, &dirty), DROP_NOT_REMOTE);
	other.sin_family = AF_INET6;
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 60), &other, false, &dirty), DROP_NOT_REMOTE);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 43, mac_a, mac_r, 60), &f->peer_addr, false, &dirty), DROP_BAD_VNI);
	dgram(b, 42, mac_a, mac_r, 60);
	b[0] = 0;
	assert_int_equal(tun_datagram(&f->t, b, 68, &f->peer_addr, false, &dirty), DROP_BAD_HEADER);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 10), &f->peer_addr, false, &dirty), DROP_BAD_LENGTH);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 1519), &f->peer_addr, false, &dirty), DROP_BAD_LENGTH);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 60), &f->peer_addr, true, &dirty), DROP_BAD_LENGTH);
	/* A local VM's address as source, linked or not, or a group source. */
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_a, 60), &f->peer_addr, false, &dirty), DROP_SPOOFED);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, bcast, mac_c, 60), &f->peer_addr, false, &dirty), DROP_SPOOFED);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, bcast, 60), &f->peer_addr, false, &dirty), DROP_SPOOFED);
	/* Unicast to a VM not linked to the tunnel. */
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_c, mac_r, 60), &f->peer_addr, false, &dirty), DROP_NO_LINK);
	assert_int_equal(f->tst.drop[DROP_NOT_REMOTE], 2);
	assert_int_equal(f->tst.drop[DROP_BAD_VNI], 1);
	assert_int_equal(f->tst.drop[DROP_BAD_HEADER], 1);
	assert_int_equal(f->tst.drop[DROP_BAD_LENGTH], 3);
	assert_int_equal(f->tst.drop[DROP_SPOOFED], 3);
	assert_int_equal(f->tst.drop[DROP_NO_LINK], 1);
	assert_int_equal(f->tst.guest_tx_frames, 2 + 11);
	assert_int_equal(delivered(f, &last), 0);
}

static void test_from_network_socket(void **state)
{
	struct fx *f = *state;
	uint8_t b[TUN_BUF + 100];
	uint32_t last = 0;
	unsigned got = 0;
	bool more;
	int i;

	guest_post_rx(&f->a, 200);
	for (i = 0; i < 100; i++)
		assert_int_equal(sendto(f->peer, b, dgram(b, 42, mac_a, mac_r, 64 + i), 0,
					(struct sockaddr *)&f->tun_addr, sizeof(f->tun_addr)), 72 + i);
	/* One datagram longer than any frame: refused whole, not cut. */
	memset(b, 0, sizeof(b));
	vxlan_encap(b, 42);
	assert_int_equal(sendto(f->peer, b, sizeof(b), 0, (struct sockaddr *)&f->tun_addr,
				sizeof(f->tun_addr)), (ssize_t)sizeof(b));
	/* A batch at a time, drained by vm0 in between (the link holds 64). */
	do {
		more = tun_net_rx(&f->t);
		got += delivered(f, &last);
	} while (more);
	assert_int_equal(got, 100);
	assert_int_equal(f->tst.drop[DROP_QUEUE_FULL], 0);
	assert_int_equal(last, 163);
	assert_int_equal(f->tst.drop[DROP_BAD_LENGTH], 1);
	assert_int_equal(f->tst.guest_tx_frames, 101);
}

/* vm0's guest sends; its VMM routes; the tunnel encapsulates and sends. */
static void test_to_network(void **state)
{
	struct fx *f = *state;
	uint8_t buf[1600], got[TUN_BUF];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	/* Unknown unicast and broadcast go to the tunnel link; so would a
	 * frame to a local VM vm0 is not linked to, which the tunnel refuses. */
	memset(buf, 0x11, sizeof(buf));
	memcpy(buf, mac_r, 6);
	memcpy(buf + 6, mac_a, 6);
	guest_send(&f->a, buf, 1518);
	memcpy(buf, bcast, 6);
	guest_send(&f->a, buf, 42 + 18);
	memcpy(buf, mac_c, 6);
	guest_send(&f->a, buf, 60);
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.link[0].tx_frames, 3);
	tun_links_rx(&f->t);
	n = recvfrom(f->peer, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, VXLAN_HDR_LEN + 1518);
	assert_int_equal(from.sin_port, f->tun_addr.sin_port);
	assert_memory_equal(got, ((const uint8_t[]){ 8, 0, 0, 0, 0, 0, 42, 0 }), 8);
	assert_memory_equal(got + 8, mac_r, 6);
	assert_memory_equal(got + 14, mac_a, 6);
	assert_int_equal(got[8 + 1517], 0x11);
	n = recv(f->peer, got, sizeof(got), 0);
	assert_int_equal(n, VXLAN_HDR_LEN + 60);
	assert_memory_equal(got + 8, bcast, 6);
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);	/* nothing for mac_c */
	assert_int_equal(f->tst.drop[DROP_NO_LINK], 1);
	assert_int_equal(f->tst.guest_rx_frames, 2);
	assert_int_equal(f->tst.link[0].rx_frames, 2);
	assert_int_equal(f->tst.guest_rx_bytes, 1518 + 60);
}

/* The VMM's side: a frame out of a tunnel may not claim a local source. */
static void test_vmm_checks_tunnel_sources(void **state)
{
	struct fx *f = *state;
	uint8_t *slot, *p = NULL;
	uint64_t mask;

	assert_int_equal(net_route(&f->a.net, mac_r, mac_a, &mask), -1);
	assert_int_equal(mask, 1);
	guest_post_rx(&f->a, 8);
	slot = link_tx_slot(&f->lt[0], 60);	/* a compromised tunnel process */
	memset(slot, 0, LINK_META_LEN + 60);
	memcpy(slot + LINK_META_LEN, mac_a, 6);
	memcpy(slot + LINK_META_LEN + 6, mac_a, 6);
	link_tx_commit(&f->lt[0], 60);
	slot = link_tx_slot(&f->lt[0], 60);
	memset(slot, 0, LINK_META_LEN + 60);
	memcpy(slot + LINK_META_LEN, mac_a, 6);
	memcpy(slot + LINK_META_LEN + 6, mac_r, 6);
	link_tx_commit(&f->lt[0], 60);
	link_tx_flush(&f->lt[0]);
	net_rx(&f->a.net);
	assert_int_equal(f->a.st.drop[DROP_SPOOFED], 1);
	assert_int_equal(guest_recv(&f->a, &p), NET_HDR_LEN + 60);
	assert_memory_equal(p + NET_HDR_LEN + 6, mac_r, 6);
}

/* A linked VMM is not trusted either: its frames must carry its MAC. */
static void test_from_vm_checked(void **state)
{
	struct fx *f = *state;
	uint8_t *slot, got[TUN_BUF];

	slot = link_tx_slot(&f->la, 60);
	memset(slot, 0, LINK_META_LEN + 60);
	memcpy(slot + LINK_META_LEN, mac_r, 6);
	memcpy(slot + LINK_META_LEN + 6, mac_c, 6);	/* not vm0's */
	link_tx_commit(&f->la, 60);
	slot = link_tx_slot(&f->la, 1519);
	memset(slot, 0, LINK_META_LEN + 1519);
	memcpy(slot + LINK_META_LEN, mac_r, 6);
	memcpy(slot + LINK_META_LEN + 6, mac_a, 6);
	link_tx_commit(&f->la, 1519);	/* plain, longer than MTU 1500 allows */
	slot = link_tx_slot(&f->la, 60);
	memset(slot, 0, LINK_META_LEN + 60);
	slot[0] = VNET_F_NEEDS_CSUM;	/* metadata a checked guest could not have sent */
	memcpy(slot + 4, (uint16_t[]){ 0, 50, 9 }, 6);	/* gso_size 0, csum_start 50, csum_offset 9 */
	memcpy(slot + LINK_META_LEN, mac_r, 6);
	memcpy(slot + LINK_META_LEN + 6, mac_a, 6);
	link_tx_commit(&f->la, 60);
	link_tx_flush(&f->la);
	tun_links_rx(&f->t);
	assert_int_equal(f->tst.drop[DROP_SPOOFED], 1);
	assert_int_equal(f->tst.drop[DROP_MALFORMED], 2);
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);
}

/* A TSO frame from vm0's guest (which negotiated TSO) of plen payload
 * bytes to a remote VM; its VMM puts it on the link as it is. */
static uint32_t send_tso(struct fx *f, uint8_t *frame, bool v6, uint32_t plen, uint16_t mss)
{
	unsigned l4;
	uint32_t len = tf_build(frame, v6, 0, 12, plen, TF_ACK | TF_PSH, mac_r, mac_a, &l4);
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .gso_type = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
			      .gso_size = mss, .csum_start = l4, .csum_offset = 16, .hdr_len = l4 + 32 };

	tf_partial(frame, l4, len, v6);
	guest_send_hdr(&f->a, &h, frame, len);
	net_tx(&f->a.net);
	return len;
}

/* The datagrams the remote got for a TSO frame: MTU-sized inner frames,
 * each a complete TCP segment, payloads in order. */
static void check_datagrams(struct fx *f, const uint8_t *frame, bool v6, uint32_t plen, uint16_t mss)
{
	unsigned l4 = v6 ? 54 : 34, nsegs = (plen + mss - 1) / mss, i;
	uint8_t got[TUN_BUF];

	for (i = 0; i < nsegs; i++) {
		ssize_t n = recv(f->peer, got, sizeof(got), 0);
		const uint8_t *s = got + VXLAN_HDR_LEN;
		uint32_t slen = n - VXLAN_HDR_LEN, want = i + 1 < nsegs ? mss : plen - i * mss;

		assert_true(n > VXLAN_HDR_LEN);
		assert_true(slen <= VXLAN_MAX_FRAME);
		assert_int_equal(slen, l4 + 32 + want);
		assert_memory_equal(got, ((const uint8_t[]){ 8, 0, 0, 0, 0, 0, 42, 0 }), 8);
		assert_memory_equal(s, mac_r, 6);
		assert_memory_equal(s + 6, mac_a, 6);
		assert_true(ref_tcp_ok(s, l4, slen - l4, v6));	/* checksum complete */
		assert_int_equal(tf_get32(s + l4 + 4), (uint32_t)(0xfffff000u + i * mss));
		assert_memory_equal(s + l4 + 32, frame + l4 + 32 + i * mss, want);
	}
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);
}

static void test_tso_leaves_as_mtu_sized_datagrams(void **state)
{
	struct fx *f = *state;
	static uint8_t frame[VNET_MAX_GSO_FRAME];
	int big = 1 << 20;

	setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	f->a.net.tx_caps = VNET_CAP_ALL;
	send_tso(f, frame, false, 20000, 1448);
	assert_int_equal(f->a.st.link[0].tx_frames, 1);	/* one record on the link */
	tun_links_rx(&f->t);
	check_datagrams(f, frame, false, 20000, 1448);
	assert_int_equal(f->tst.guest_rx_frames, 14);
	assert_int_equal(f->tst.link[0].rx_frames, 14);
	/* IPv6, more segments than a sendmmsg batch. */
	send_tso(f, frame, true, 40000, 500);
	tun_links_rx(&f->t);
	check_datagrams(f, frame, true, 40000, 500);
	assert_int_equal(f->tst.guest_rx_frames, 14 + 80);
	/* Segments too large for a datagram: refused, counted. */
	send_tso(f, frame, false, 4000, 1600);
	tun_links_rx(&f->t);
	assert_int_equal(f->tst.drop[DROP_MALFORMED], 1);
	assert_int_equal(recv(f->peer, frame, 100, 0), -1);
}

/* A partial checksum (NEEDS_CSUM without TSO) is completed on the way out. */
static void test_partial_checksum_completed(void **state)
{
	struct fx *f = *state;
	uint8_t frame[1518], got[TUN_BUF];
	unsigned l4;
	uint32_t len = tf_build(frame, false, 0, 12, 1000, TF_ACK, mac_r, mac_a, &l4);
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = l4, .csum_offset = 16 };

	f->a.net.tx_caps = VNET_CAP_ALL;
	tf_partial(frame, l4, len, false);
	guest_send_hdr(&f->a, &h, frame, len);
	net_tx(&f->a.net);
	tun_links_rx(&f->t);
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), VXLAN_HDR_LEN + len);
	assert_true(ref_tcp_ok(got + VXLAN_HDR_LEN, l4, len - l4, false));
	assert_memory_equal(got + VXLAN_HDR_LEN + l4 + 32, frame + l4 + 32, 1000);
}

/* What the tunnel puts on a link is plain: 16 zero bytes of metadata. */
static void test_to_link_plain(void **state)
{
	struct fx *f = *state;
	uint8_t b[TUN_BUF];
	uint64_t dirty = 0;
	struct vq_chain c;

	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_a, mac_r, 1518), &f->peer_addr, false, &dirty),
			 DROP_NONE);
	tun_flush_links(&f->t, dirty);
	assert_int_equal(vq_pop(&f->la.rxq, &c), 1);
	assert_int_equal(c.out_len, LINK_META_LEN + 1518);
	assert_memory_equal(c.seg[0].p, ((const uint8_t[LINK_META_LEN]){ 0 }), LINK_META_LEN);
	assert_memory_equal(c.seg[0].p + LINK_META_LEN, b + VXLAN_HDR_LEN, 1518);
}

/* Datagrams of one size leave as one UDP GSO message; the peer (no GRO)
 * gets them one by one, in order, each counted. */
static void test_gso_run(void **state)
{
	struct fx *f = *state;
	uint8_t buf[1600], got[TUN_BUF];
	unsigned i;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, mac_r, 6);
	memcpy(buf + 6, mac_a, 6);
	for (i = 0; i < 40; i++) {
		buf[20] = i;
		guest_send(&f->a, buf, i < 39 ? 1000 : 700);	/* a shorter last one joins the run */
	}
	net_tx(&f->a.net);
	tun_links_rx(&f->t);
	for (i = 0; i < 40; i++) {
		assert_int_equal(recv(f->peer, got, sizeof(got), 0), VXLAN_HDR_LEN + (i < 39 ? 1000 : 700));
		assert_int_equal(got[VXLAN_HDR_LEN + 20], i);
	}
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);
	assert_int_equal(f->tst.guest_rx_frames, 40);
	assert_int_equal(f->tst.link[0].rx_frames, 40);
	assert_int_equal(f->t.gso_refused, 0);
}

/* A GSO message the kernel refuses (here: a socket without UDP checksums,
 * which UDP_SEGMENT needs) goes again as single datagrams; GSO is not
 * asked for that size again. */
static void test_gso_refused_falls_back(void **state)
{
	struct fx *f = *state;
	uint8_t buf[1600], got[TUN_BUF];
	int one = 1;
	unsigned i;

	assert_int_equal(setsockopt(f->t.fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)), 0);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, mac_r, 6);
	memcpy(buf + 6, mac_a, 6);
	for (i = 0; i < 10; i++)
		guest_send(&f->a, buf, 500);
	net_tx(&f->a.net);
	tun_links_rx(&f->t);
	for (i = 0; i < 10; i++)
		assert_int_equal(recv(f->peer, got, sizeof(got), 0), VXLAN_HDR_LEN + 500);
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);
	assert_int_equal(f->t.gso_refused, 1);
	assert_int_equal(f->t.gso_below, VXLAN_HDR_LEN + 500);
	assert_int_equal(f->tst.guest_rx_frames, 10);
	assert_int_equal(f->tst.drop[DROP_SEND_ERROR], 0);
}

/* A GRO message (one flow's datagrams joined by the kernel): each datagram
 * is checked and forwarded on its own; a bad one in the middle is dropped
 * alone. The split is bounds-checked against hostile sizes. */
static void test_gro_split(void **state)
{
	struct fx *f = *state;
	static uint8_t b[20 * 80];
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(uint16_t))]; } ctl = { 0 };
	struct iovec iov = { b, 0 };
	struct msghdr h = { .msg_name = &f->tun_addr, .msg_namelen = sizeof(f->tun_addr), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	uint16_t seg = VXLAN_HDR_LEN + 64;
	uint32_t last = 0;
	unsigned i, got = 0;

	for (i = 0; i < 20; i++)
		iov.iov_len += dgram(b + iov.iov_len, i == 7 ? 43 : 42, mac_a, mac_r, i < 19 ? 64 : 30);
	ctl.h.cmsg_level = SOL_UDP;
	ctl.h.cmsg_type = UDP_SEGMENT;
	ctl.h.cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(&ctl.h), &seg, sizeof(seg));
	assert_int_equal(sendmsg(f->peer, &h, 0), (ssize_t)iov.iov_len);
	guest_post_rx(&f->a, 32);
	assert_false(tun_net_rx(&f->t));
	assert_int_equal(f->t.in_msg[0].msg_len, iov.iov_len);	/* it came as one message */
	got = delivered(f, &last);
	assert_int_equal(got, 19);
	assert_int_equal(last, 30);
	assert_int_equal(f->tst.drop[DROP_BAD_VNI], 1);
	assert_int_equal(f->tst.guest_tx_frames, 20);
	/* Segment sizes from a cmsg are used only within the message. */
	assert_int_equal(tun_gro_seg(100, 0), 100);
	assert_int_equal(tun_gro_seg(100, -5), 100);
	assert_int_equal(tun_gro_seg(100, 100), 100);
	assert_int_equal(tun_gro_seg(100, 1000), 100);
	assert_int_equal(tun_gro_seg(100, 1), 1);
	assert_int_equal(tun_gro_seg(100, 72), 72);
}

/* Liveness: a heartbeat goes to the remote (and is what the remote
 * recognises); one from the remote is taken, not forwarded; a remote heard
 * once and then silent for VXLAN_HB_DEAD_MS shows the links down, and up again when
 * heard. A remote never heard is never judged. */
static void test_heartbeat(void **state)
{
	struct fx *f = *state;
	uint8_t b[TUN_BUF], flags = 0xff;
	uint64_t dirty = 0, t0 = link_imp_now(), dead = VXLAN_HB_DEAD_MS * 1000000ull;
	uint32_t last = 0;
	ssize_t got;

	f->lt[0].st->up = 1;
	assert_true(tun_liveness(&f->t, t0) > 0);
	got = recv(f->peer, b, sizeof(b), MSG_DONTWAIT);
	assert_int_equal(got, VXLAN_HDR_LEN + VXLAN_HB_LEN);
	assert_true(vxlan_hb_parse(b + VXLAN_HDR_LEN, VXLAN_HB_LEN, &flags));
	assert_int_equal(flags, 0);	/* nothing heard yet */
	assert_int_equal(b[6], 42);	/* the tunnel's VNI */
	/* Never heard: silence says nothing about a plain VXLAN peer. */
	tun_liveness(&f->t, t0 + 10000000000ull);
	assert_int_equal(f->lt[0].st->up, 1);
	/* The remote's heartbeat: taken, not delivered to vm0. */
	guest_post_rx(&f->a, 8);
	vxlan_encap(b, 42);
	vxlan_hb_build(b + VXLAN_HDR_LEN, VXLAN_HB_HEARS, 7);
	assert_int_equal(tun_datagram(&f->t, b, VXLAN_HDR_LEN + VXLAN_HB_LEN, &f->peer_addr, false, &dirty), -1);
	tun_flush_links(&f->t, dirty);
	assert_int_equal(delivered(f, &last), 0);
	assert_int_not_equal(f->t.hb_heard, 0);
	/* The loop wakes when the remote would be gone, not a heartbeat
	 * later: 0.3 s before it would be, with the next heartbeat due
	 * 0.2 s after that, in 0.3 s. */
	f->t.hb_next = f->t.hb_heard + dead + 200000000ull;
	assert_int_equal(tun_liveness(&f->t, f->t.hb_heard + dead - 300000000ull), 300);
	/* Silent for VXLAN_HB_DEAD_MS: the link shows down, counted once;
	 * heard: up. */
	tun_liveness(&f->t, f->t.hb_heard + dead - 1000000ull);
	assert_int_equal(f->lt[0].st->up, 1);
	tun_liveness(&f->t, f->t.hb_heard + dead);
	assert_int_equal(f->lt[0].st->up, 0);
	assert_int_equal(f->tst.remote_down, 1);
	f->t.hb_heard = link_imp_now();
	tun_liveness(&f->t, f->t.hb_heard);
	assert_int_equal(f->lt[0].st->up, 1);
	/* A frame that only looks like one (another length, another magic). */
	vxlan_hb_build(b, 0, 1);
	assert_false(vxlan_hb_parse(b, VXLAN_HB_LEN - 1, &flags));
	b[19] = '2';
	assert_false(vxlan_hb_parse(b, VXLAN_HB_LEN, &flags));
}

/* A remote frame claiming a VM's address here (ARP sender, IPv4 source),
 * VLAN-tagged or not, is spoofed; another address passes. */
static void test_remote_claims_local_address(void **state)
{
	struct fx *f = *state;
	uint8_t b[TUN_BUF], *fr = b + VXLAN_HDR_LEN;
	uint64_t dirty = 0;
	uint32_t last = 0;

	f->t.local_ip[0] = htonl(0xc0a80101);	/* 192.168.1.1, a VM here */
	f->t.nlocal_ip = 1;
	guest_post_rx(&f->a, 32);
	dgram(b, 42, bcast, mac_r, 60);	/* ARP, sender 192.168.1.1 */
	fr[12] = 0x08, fr[13] = 0x06;
	memcpy(fr + 14 + 14, (uint8_t[]){ 192, 168, 1, 1 }, 4);
	assert_int_equal(tun_datagram(&f->t, b, VXLAN_HDR_LEN + 60, &f->peer_addr, false, &dirty), DROP_SPOOFED);
	dgram(b, 42, mac_a, mac_r, 80);	/* IPv4 from 192.168.1.1, in VLAN 7 */
	fr[12] = 0x81, fr[13] = 0x00, fr[14] = 0, fr[15] = 7, fr[16] = 0x08, fr[17] = 0x00;
	memcpy(fr + 18 + 12, (uint8_t[]){ 192, 168, 1, 1 }, 4);
	assert_int_equal(tun_datagram(&f->t, b, VXLAN_HDR_LEN + 80, &f->peer_addr, false, &dirty), DROP_SPOOFED);
	dgram(b, 42, mac_a, mac_r, 80);	/* IPv4 from 192.168.1.9: a remote VM */
	fr[12] = 0x08, fr[13] = 0x00;
	memcpy(fr + 14 + 12, (uint8_t[]){ 192, 168, 1, 9 }, 4);
	assert_int_equal(tun_datagram(&f->t, b, VXLAN_HDR_LEN + 80, &f->peer_addr, false, &dirty), -1);
	tun_flush_links(&f->t, dirty);
	assert_int_equal(delivered(f, &last), 1);
	assert_int_equal(f->tst.drop[DROP_SPOOFED], 2);
}

/* A tunnel that is a wire end: a cable to the remote. Frames of any MAC
 * (a local VM's, a group source, unicast to no one here) go both ways;
 * the header, VNI and remote checks stay. */
static void test_wire_end(void **state)
{
	struct fx *f = *state;
	uint8_t b[TUN_BUF];
	uint64_t dirty = 0;
	uint32_t last = 0;

	f->t.wire = true;
	f->a.net.wire = true;
	guest_post_rx(&f->a, 32);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_c, mac_a, 100), &f->peer_addr, false, &dirty), -1);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 42, mac_r, bcast, 80), &f->peer_addr, false, &dirty), -1);
	assert_int_equal(tun_datagram(&f->t, b, dgram(b, 43, mac_a, mac_r, 60), &f->peer_addr, false, &dirty),
			 DROP_BAD_VNI);
	tun_flush_links(&f->t, dirty);
	assert_int_equal(delivered(f, &last), 2);
	assert_int_equal(last, 80);
	/* The other way: a frame from someone else's MAC to no one here. */
	{
		uint8_t fr[100];
		struct sockaddr_in from;
		socklen_t n = sizeof(from);
		ssize_t got;

		memset(fr, 1, sizeof(fr));
		memcpy(fr, mac_c, 6);
		memcpy(fr + 6, mac_r, 6);
		guest_send(&f->a, fr, sizeof(fr));
		net_tx(&f->a.net);
		tun_links_rx(&f->t);
		got = recvfrom(f->peer, b, sizeof(b), 0, (struct sockaddr *)&from, &n);
		assert_int_equal(got, VXLAN_HDR_LEN + sizeof(fr));
		assert_memory_equal(b + VXLAN_HDR_LEN, fr, 12);
	}
	assert_int_equal(f->tst.drop[DROP_SPOOFED] + f->tst.drop[DROP_NO_LINK], 0);
}

/* ---- a shared port's steering ---- */

/* Runs a steering program over a payload as the kernel's classic BPF
 * does, for the instructions it may hold; a load past the end returns 0. */
static uint32_t run_prog(const struct sock_filter *f, int len, const uint8_t *p, size_t n)
{
	uint32_t a = 0;
	int pc = 0, steps = 0;

	while (pc >= 0 && pc < len && steps++ < len) {
		const struct sock_filter *i = &f[pc++];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > n)
				return 0;
			a = (uint32_t)p[i->k] << 24 | (uint32_t)p[i->k + 1] << 16 | (uint32_t)p[i->k + 2] << 8 | p[i->k + 3];
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			a >>= i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("instruction %#x", i->code);
		}
	}
	fail_msg("ran off the program");
	return 0;
}

static void test_steer_prog(void **state)
{
	static const uint32_t vni[] = { 100, 0, MV_VNI_MAX, 4242 };
	struct sock_filter f[UDPSOCK_PROG_MAX];
	uint32_t many[MV_NODES_MAX + 1];
	uint8_t d[VXLAN_HDR_LEN];
	unsigned i;
	int len = udpsock_prog(vni, 4, f, UDPSOCK_PROG_MAX);

	assert_int_equal(len, UDPSOCK_PROG_LEN(4));
	for (i = 0; i < 4; i++) {
		vxlan_encap(d, vni[i]);
		assert_int_equal(run_prog(f, len, d, sizeof(d)), i);
		d[7] = 0xa5;	/* the reserved byte after the VNI does not count */
		assert_int_equal(run_prog(f, len, d, sizeof(d)), i);
	}
	/* An unknown VNI, or too short to hold one: the first socket. */
	vxlan_encap(d, 4243);
	assert_int_equal(run_prog(f, len, d, sizeof(d)), 0);
	vxlan_encap(d, 4242);
	assert_int_equal(run_prog(f, len, d, 7), 0);
	/* The limits. */
	for (i = 0; i <= MV_NODES_MAX; i++)
		many[i] = i;
	assert_int_equal(udpsock_prog(many, MV_NODES_MAX, f, UDPSOCK_PROG_MAX), UDPSOCK_PROG_MAX);
	vxlan_encap(d, MV_NODES_MAX - 1);
	assert_int_equal(run_prog(f, UDPSOCK_PROG_MAX, d, sizeof(d)), MV_NODES_MAX - 1);
	assert_int_equal(udpsock_prog(many, MV_NODES_MAX + 1, f, UDPSOCK_PROG_MAX), -EINVAL);
	assert_int_equal(udpsock_prog(many, 0, f, UDPSOCK_PROG_MAX), -EINVAL);
	assert_int_equal(udpsock_prog(many, 4, f, UDPSOCK_PROG_LEN(4) - 1), -EINVAL);
}

/* Whether fd has a datagram waiting; takes it. */
static bool took(int fd)
{
	uint8_t b[TUN_BUF];

	return recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0;
}

/* The tunnel (VNI 42) and another (VNI 43) on one port, as the supervisor
 * opens them: each datagram reaches its VNI's socket; an unknown VNI or a
 * short datagram reaches the first (the tunnel's), which counts it and
 * delivers nothing. */
static void test_shared_port(void **state)
{
	static const uint32_t vni[] = { 42, 43 };
	struct fx *f = *state;
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to;
	socklen_t n = sizeof(to);
	uint8_t b[TUN_BUF];
	uint32_t last = 0;
	int other, gro = 1;
	socklen_t gl = sizeof(gro);

	close(f->t.fd);
	f->t.fd = udpsock_open(lo, 0, true);
	assert_true(f->t.fd >= 0);
	assert_int_equal(getsockname(f->t.fd, (struct sockaddr *)&to, &n), 0);
	other = udpsock_open(lo, ntohs(to.sin_port), true);
	assert_true(other >= 0);
	assert_int_equal(udpsock_steer(other, vni, 2), 0);	/* any socket of the group */
	assert_true(udpsock_shared(f->t.fd));
	assert_int_equal(tun_offloads(&f->t, false), 2);	/* GSO, and GRO off */
	assert_int_equal(getsockopt(f->t.fd, SOL_UDP, UDP_GRO, &gro, &gl), 0);
	assert_int_equal(gro, 0);
	/* Without SO_REUSEPORT the port cannot be bound at all (with it, only
	 * by the group's uid: the supervisor's). */
	{
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		assert_int_equal(bind(s, (struct sockaddr *)&to, sizeof(to)), -1);
		assert_int_equal(errno, EADDRINUSE);
		close(s);
	}

	guest_post_rx(&f->a, 32);
#define SEND(v, len) assert_int_equal(sendto(f->peer, b, dgram(b, v, mac_a, mac_r, len), 0, \
					     (struct sockaddr *)&to, sizeof(to)), VXLAN_HDR_LEN + len)
	SEND(43, 60);
	SEND(43, 61);
	SEND(42, 62);
	SEND(99, 63);
	assert_int_equal(sendto(f->peer, b, 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
#undef SEND
	assert_false(tun_net_rx(&f->t));
	assert_int_equal(delivered(f, &last), 1);	/* only VNI 42's */
	assert_int_equal(last, 62);
	assert_int_equal(f->tst.guest_tx_frames, 3);
	assert_int_equal(f->tst.drop[DROP_BAD_VNI], 1);
	assert_int_equal(f->tst.drop[DROP_BAD_HEADER], 1);
	assert_true(took(other));	/* VNI 43's two, on the other socket */
	assert_true(took(other));
	assert_false(took(other));
	close(other);
}

/* A socket about to join a steered port is given its index first (the
 * supervisor's order, lifecycle.c): from any source port, a datagram for
 * a bound socket reaches it alone, before and after the new one binds;
 * one for the new socket, sent before it binds, reaches the first (whose
 * tunnel counts it), after, the new one. Steering after the bind instead
 * leaves a moment in which the kernel hashes the bound sockets' datagrams
 * over both. */
static void test_steered_before_join(void **state)
{
	static const uint32_t vni[] = { 42, 43 };
	struct fx *f = *state;
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to, from = { .sin_family = AF_INET, .sin_addr = lo };
	socklen_t n = sizeof(to);
	uint8_t b[TUN_BUF];
	int first, other, src[16];
	unsigned i, got;

	(void)f;
	first = udpsock_open(lo, 0, true);
	assert_true(first >= 0);
	assert_int_equal(getsockname(first, (struct sockaddr *)&to, &n), 0);
	for (i = 0; i < 16; i++) {
		src[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_int_equal(bind(src[i], (struct sockaddr *)&from, sizeof(from)), 0);
	}
	assert_int_equal(udpsock_steer(first, vni, 2), 0);	/* 43's socket not there yet */
#define SEND_ALL(v) for (i = 0; i < 16; i++) \
	assert_int_equal(sendto(src[i], b, dgram(b, v, mac_a, mac_r, 60), 0, (struct sockaddr *)&to, sizeof(to)), \
			 VXLAN_HDR_LEN + 60)
	SEND_ALL(43);
	for (got = 0; took(first); got++)
		;
	assert_int_equal(got, 16);	/* no socket of its own yet: the first's */
	other = udpsock_open(lo, ntohs(to.sin_port), true);
	assert_true(other >= 0);
	SEND_ALL(42);
	SEND_ALL(43);
#undef SEND_ALL
	for (got = 0; took(first); got++)
		;
	assert_int_equal(got, 16);
	for (got = 0; took(other); got++)
		;
	assert_int_equal(got, 16);
	for (i = 0; i < 16; i++)
		close(src[i]);
	close(other);
	close(first);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wire_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_claims_local_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
		cmocka_unit_test(test_encap_layout), cmocka_unit_test(test_decap),
		T(test_from_network), T(test_from_network_socket), T(test_to_network),
		T(test_vmm_checks_tunnel_sources), T(test_from_vm_checked),
		T(test_tso_leaves_as_mtu_sized_datagrams), T(test_partial_checksum_completed), T(test_to_link_plain),
		T(test_gso_run), T(test_gso_refused_falls_back), T(test_gro_split),
		cmocka_unit_test(test_steer_prog), T(test_shared_port), T(test_steered_before_join),
	};

	return cmocka_run_group_tests_name("tunnel", tests, NULL, NULL);
}
