/* Forwarding between two in-process "VMs" over a real link: routing
 * decisions, delivery, every drop reason, back-pressure, hostile peers
 * and a re-attached (restarted) end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../guest_model.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 1 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 2 };
static const uint8_t mac_x[6] = { 0x52, 0x54, 0, 0x4d, 0x56, 9 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fx {
	struct guest a, b;
	struct link la, lb;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(guest_pair_init(&f->a, &f->b, &f->la, &f->lb, mac_a, mac_b), 0);
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

static uint32_t frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint32_t len, uint8_t fill)
{
	memset(buf, fill, len);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	return len;
}

/* A sends, B receives: one pass of each VMM's loop. */
static void pump(struct fx *f)
{
	net_tx(&f->a.net);
	net_rx(&f->b.net);
}

static void test_route(void **state)
{
	struct fx *f = *state;
	uint64_t mask;

	assert_int_equal(net_route(&f->a.net, mac_b, mac_a, &mask), DROP_NONE);
	assert_int_equal(mask, 1);
	assert_int_equal(net_route(&f->a.net, bcast, mac_a, &mask), DROP_NONE);
	assert_int_equal(mask, 1);
	assert_int_equal(net_route(&f->a.net, mac_x, mac_a, &mask), DROP_NO_LINK);
	assert_int_equal(net_route(&f->a.net, mac_b, mac_x, &mask), DROP_SPOOFED);
	assert_int_equal(net_route(&f->a.net, mac_a, mac_a, &mask), DROP_NO_LINK);	/* to itself */
	f->a.net.nlinks = 0;
	assert_int_equal(net_route(&f->a.net, bcast, mac_a, &mask), DROP_NO_LINK);
}

static void test_delivery(void **state)
{
	struct fx *f = *state;
	uint8_t buf[1600], *got = NULL;
	uint32_t len = frame(buf, mac_b, mac_a, 1514, 0x5a);

	guest_post_rx(&f->b, 8);
	guest_send(&f->a, buf, len);
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + len);
	assert_int_equal(got[10], 1);	/* num_buffers */
	assert_int_equal(got[0] | got[1], 0);	/* no offloads */
	assert_memory_equal(got + NET_HDR_LEN, buf, len);
	assert_int_equal(f->a.tx.used->idx, 1);	/* TX chain returned */
	assert_int_equal(f->a.st.guest_tx_frames, 1);
	assert_int_equal(f->a.st.link[0].tx_frames, 1);
	assert_int_equal(f->a.st.link[0].tx_bytes, len);
	assert_int_equal(f->b.st.link[0].rx_frames, 1);
	assert_int_equal(f->b.st.guest_rx_bytes, len);
	/* Broadcast goes too. */
	guest_send(&f->a, buf, frame(buf, bcast, mac_a, 60, 1));
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 60);
}

static void test_drops(void **state)
{
	struct fx *f = *state;
	uint8_t buf[1600], *got = NULL;

	guest_post_rx(&f->b, 8);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_x, 60, 0));	/* spoofed */
	guest_send(&f->a, buf, frame(buf, mac_x, mac_a, 60, 0));	/* unknown */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 13, 0));	/* too short */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, NET_MAX_FRAME + 1, 0));	/* too long */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	/* Set gso_type in that last frame's header: not negotiated. */
	guest_ptr(&f->a, guest_buf(&f->a, 1, 4))[1] = 1;
	pump(f);
	assert_int_equal(f->a.st.drop[DROP_SPOOFED], 1);
	assert_int_equal(f->a.st.drop[DROP_NO_LINK], 1);
	assert_int_equal(f->a.st.drop[DROP_MALFORMED], 3);
	assert_int_equal(f->a.st.guest_tx_frames, 5);
	assert_int_equal(f->a.tx.used->idx, 5);	/* every chain given back */
	assert_int_equal(guest_recv(&f->b, &got), 0);
	assert_int_equal(f->a.st.link[0].tx_frames, 0);
}

/* Offload fields were never negotiated: a header asking for a checksum
 * at an offset beyond the frame, or for segmentation, is malformed. */
static void test_offload_header_beyond_frame(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL, *hdr;

	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	hdr = guest_ptr(&f->a, guest_buf(&f->a, 1, 0));
	hdr[0] = 1;				/* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	hdr[6] = 0x88, hdr[7] = 0x13;		/* csum_start 5000 */
	hdr[8] = 0x10;				/* csum_offset 16 */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	hdr = guest_ptr(&f->a, guest_buf(&f->a, 1, 1));
	hdr[1] = 4, hdr[4] = 0xff, hdr[5] = 0xff;	/* GSO TCPv6, gso_size 65535 */
	pump(f);
	assert_int_equal(f->a.st.drop[DROP_MALFORMED], 2);
	assert_int_equal(guest_recv(&f->b, &got), 0);
	assert_int_equal(f->a.tx.used->idx, 2);
}

/* Sends n frames numbered from first, a pass of A's loop after each 32. */
static void send_numbered(struct fx *f, unsigned first, unsigned n)
{
	uint8_t buf[100];
	unsigned i;

	for (i = 0; i < n; i++) {
		guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, first + i));
		if (i % 32 == 31)
			pump(f);
	}
	pump(f);
}

/* Takes what B's guest received: they must be numbered first, first+1... */
static unsigned recv_numbered(struct fx *f, unsigned first)
{
	uint8_t *got = NULL;
	unsigned n = 0;

	while (net_rx(&f->b.net))
		;
	while (guest_recv(&f->b, &got)) {
		assert_int_equal(got[NET_HDR_LEN + 12], (uint8_t)(first + n));
		n++;
	}
	return n;
}

static void test_backpressure_and_queue_full(void **state)
{
	struct fx *f = *state;
	uint8_t *got = NULL;

	/* B has no RX buffers: 64 frames fill the link; the 65th waits in
	 * A's TX ring (not taken, nothing counted), and the rest behind it. */
	send_numbered(f, 0, 100);
	assert_int_equal(f->a.st.link[0].tx_frames, 64);
	assert_int_equal(f->a.st.guest_tx_frames, 64);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 0);
	assert_int_equal(f->a.tx.used->idx, 64);
	assert_int_equal(f->a.net.tx_wait, 1);
	assert_false(net_arm(&f->a.net));	/* B has taken nothing: sleep */
	assert_int_equal(guest_recv(&f->b, &got), 0);
	/* It waited long enough (the VMM's loop bounds the wait): the link
	 * counts as stalled and the 36 are dropped, counted. */
	net_tx_expire(&f->a.net);
	assert_int_equal(f->a.net.tx_wait, 0);
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 36);
	assert_int_equal(f->a.st.link[0].drop[DROP_QUEUE_FULL], 36);
	assert_int_equal(f->a.st.guest_tx_frames, 100);
	assert_int_equal(f->a.tx.used->idx, 100);
	assert_true(f->la.tx_stalled);
	/* B posts buffers: the 64 on the link arrive, in order. */
	guest_post_rx(&f->b, 200);
	assert_int_equal(recv_numbered(f, 0), 64);
	/* The link was found empty: it no longer counts as stalled. */
	send_numbered(f, 100, 70);
	assert_false(f->la.tx_stalled);
	assert_int_equal(recv_numbered(f, 100), 70);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 36);
}

/* A frame waiting for room goes as soon as the peer has taken frames:
 * the peer rings A's doorbell because A asked (used_event), so an idle
 * A wakes up for it. */
static void test_wait_for_room(void **state)
{
	struct fx *f = *state;
	uint64_t v;

	send_numbered(f, 0, 74);
	assert_int_equal(f->a.net.tx_wait, 1);
	while (read(f->la.rx_kick, &v, sizeof(v)) > 0)
		;
	assert_false(net_arm(&f->a.net));
	guest_post_rx(&f->b, 100);
	assert_int_equal(recv_numbered(f, 0), 64);
	assert_int_equal(read(f->la.rx_kick, &v, sizeof(v)), (ssize_t)sizeof(v));	/* B rang */
	assert_true(net_arm(&f->a.net));	/* and the ring shows the room */
	net_tx(&f->a.net);
	assert_int_equal(f->a.net.tx_wait, 0);
	assert_int_equal(recv_numbered(f, 64), 10);
	assert_int_equal(f->a.st.guest_tx_frames, 74);
	assert_int_equal(f->a.st.drop[DROP_QUEUE_FULL], 0);
	assert_int_equal(f->a.st.link[0].tx_frames, 74);
}

static void test_peer_rewrites_source(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	/* A hostile VMM A' rewrites the frame in its slot after committing. */
	memcpy(f->la.tx_area + LINK_META_LEN + 6, mac_x, 6);
	net_rx(&f->b.net);
	assert_int_equal(guest_recv(&f->b, &got), 0);
	assert_int_equal(f->b.st.drop[DROP_SPOOFED], 1);
	assert_int_equal(f->b.st.link[0].drop[DROP_SPOOFED], 1);
}

static void test_peer_garbage_ring(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	f->la.txq.avail->idx += 1000;	/* what a hostile peer could write */
	net_rx(&f->b.net);
	assert_int_equal(vq_error(&f->lb.rxq), VQ_E_AVAIL_IDX);
	assert_int_equal(guest_recv(&f->b, &got), 0);
	/* B's own sending still works: B -> A. */
	guest_post_rx(&f->a, 4);
	guest_send(&f->b, buf, frame(buf, mac_a, mac_b, 60, 7));
	net_tx(&f->b.net);
	net_rx(&f->a.net);
	assert_int_equal(guest_recv(&f->a, &got), NET_HDR_LEN + 60);
}

static void test_peer_descriptor_outside(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	f->la.txq.desc[0].addr = 64 * LINK_AREA_PER_ENTRY - 8;	/* runs past the frame area */
	net_rx(&f->b.net);
	assert_int_equal(vq_error(&f->lb.rxq), VQ_E_ADDR);
	assert_int_equal(guest_recv(&f->b, &got), 0);
}

/* A frame is one descriptor: a chain, though every part is in bounds, is
 * malformed; the link keeps running. */
static void test_peer_chain_is_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	f->la.txq.desc[0].len = 30;	/* the frame split over two slots */
	f->la.txq.desc[0].flags = VRING_DESC_F_NEXT;
	f->la.txq.desc[0].next = 1;
	f->la.txq.desc[1] = (struct vring_desc){ 4096, 30, 0, 0 };
	net_rx(&f->b.net);
	assert_int_equal(vq_error(&f->lb.rxq), 0);
	assert_int_equal(f->b.st.drop[DROP_MALFORMED], 1);
	assert_int_equal(guest_recv(&f->b, &got), 0);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 1));
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 60);
}

static void test_device_claims_too_much(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100];

	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	f->lb.rxq.used->idx = 50;	/* B says it used 50 of A's 1 */
	f->la.tx_free = 0;		/* make A look at used idx now */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	net_tx(&f->a.net);
	assert_int_equal(vq_error(&f->la.txq), VQ_E_USED_IDX);
	assert_int_equal(f->a.st.drop[DROP_LINK_DOWN], 1);
}

static void test_reattach_resumes(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;
	struct link_res r;
	unsigned i, n = 0;

	guest_post_rx(&f->b, 32);
	for (i = 0; i < 3; i++)
		guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, i));
	pump(f);
	/* A's VMM "restarts": a new end attached to the same memory. */
	r.memfd = dup(f->la.memfd);
	r.kick[0] = dup(f->la.tx_kick);
	r.kick[1] = dup(f->la.rx_kick);
	link_detach(&f->la);
	assert_int_equal(link_attach(&f->la, r.memfd, 0, 64, r.kick[1], r.kick[0], "vm1"), 0);
	f->la.st = &f->a.st.link[0];
	for (; i < 6; i++)
		guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, i));
	pump(f);
	while (guest_recv(&f->b, &got)) {
		assert_int_equal(got[NET_HDR_LEN + 12], n);
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(vq_error(&f->la.txq) | vq_error(&f->lb.rxq), 0);
}

/* The peer owns half of the header page too: whatever it wrote there
 * beyond magic and version does not stop a restarted end from attaching;
 * a broken magic makes that one link refuse, cleanly. */
static void test_reattach_after_header_scribble(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;
	struct link_hdr *h = (struct link_hdr *)f->la.shm;
	int memfd = dup(f->la.memfd), rx = dup(f->la.rx_kick), tx = dup(f->la.tx_kick);

	h->qsize = 7;
	h->dir_off[0] = ~0ull;
	memset(h->name, 'x', sizeof(h->name));
	link_detach(&f->la);
	assert_int_equal(link_attach(&f->la, memfd, 0, 64, rx, tx, "vm1"), 0);
	f->la.st = &f->a.st.link[0];
	guest_post_rx(&f->b, 4);
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 60);

	h = (struct link_hdr *)f->la.shm;
	h->magic ^= 1;
	memfd = dup(f->la.memfd);
	rx = dup(f->la.rx_kick);
	tx = dup(f->la.tx_kick);
	link_detach(&f->la);
	assert_int_equal(link_attach(&f->la, memfd, 0, 64, rx, tx, "vm1"), -EPROTO);
	close(memfd);
	close(rx);
	close(tx);
}

/* A link of another format version is refused as such (the VMM logs both
 * versions), and so is one whose header is not a link's at all. */
static void test_other_version_refused(void **state)
{
	struct fx *f = *state;
	struct link_hdr *h = (struct link_hdr *)f->la.shm;
	int memfd = dup(f->la.memfd), rx = dup(f->la.rx_kick), tx = dup(f->la.tx_kick);

	h->version = 1;
	link_detach(&f->la);
	assert_int_equal(link_attach(&f->la, memfd, 0, 64, rx, tx, "vm1"), -EPROTONOSUPPORT);
	assert_int_equal(f->la.peer_version, 1);
	/* A v2 VMM given the size of another queue: not this link's layout. */
	assert_int_equal(link_attach(&f->la, memfd, 0, 128, rx, tx, "vm1"), -EPROTONOSUPPORT);
	assert_int_equal(link_hdr_write(memfd, 64, "vm0", "vm1"), 0);
	assert_int_equal(link_attach(&f->la, memfd, 0, 128, rx, tx, "vm1"), -EPROTO);
	assert_int_equal(link_attach(&f->la, memfd, 0, 64, rx, tx, "vm1"), 0);
}

/* A link that could not be attached is down: frames for it are counted as
 * link_down, the rest of the VMM carries on. */
static void test_down_link_counts(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	link_detach(&f->la);
	link_set_down(&f->la, "vm1");
	f->la.st = &f->a.st.link[0];
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	guest_send(&f->a, buf, frame(buf, bcast, mac_a, 60, 0));
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.drop[DROP_LINK_DOWN], 2);
	assert_int_equal(f->a.st.link[0].drop[DROP_LINK_DOWN], 2);
	assert_int_equal(f->a.tx.used->idx, 2);	/* taken from the guest, not stuck */
	guest_post_rx(&f->a, 4);
	assert_false(net_rx(&f->a.net));
	assert_int_equal(guest_recv(&f->a, &got), 0);
}

/* Before sleeping the VMM arms the doorbells of what it waits for: the
 * links while the guest has RX buffers, only the guest's RX kicks once it
 * ran out (frames left on the link must not keep it polling). */
static void test_arm(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	assert_false(net_arm(&f->b.net));	/* idle */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 1));
	net_tx(&f->a.net);
	assert_int_equal(f->a.st.link[0].kicks_sent, 1);	/* B asked */
	assert_true(net_arm(&f->b.net));	/* a frame arrived meanwhile */
	assert_false(net_rx(&f->b.net));	/* B's guest has no buffers */
	assert_true(f->b.net.rx_full);
	assert_false(net_arm(&f->b.net));	/* waits for the guest, not the link */
	guest_post_rx(&f->b, 1);
	assert_true(net_arm(&f->b.net));
	net_rx(&f->b.net);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 60);
	assert_false(net_arm(&f->b.net));
	assert_false(net_arm(&f->a.net));
}

static void test_tx_loop_stops_only_tx(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	f->a.tx.desc[0] = (struct vring_desc){ guest_buf(&f->a, 1, 0), 64, VRING_DESC_F_NEXT, 0 };
	f->a.tx.avail->ring[0] = 0;
	f->a.tx.avail->idx = ++f->a.tx_avail;
	net_tx(&f->a.net);
	assert_int_equal(vq_error(&f->a.tx), VQ_E_CHAIN);
	/* A still receives. */
	guest_post_rx(&f->a, 4);
	guest_send(&f->b, buf, frame(buf, mac_a, mac_b, 60, 0));
	net_tx(&f->b.net);
	net_rx(&f->a.net);
	assert_int_equal(guest_recv(&f->a, &got), NET_HDR_LEN + 60);
}

/* vhost-user: a started but disabled TX ring is drained and its frames
 * discarded, each counted; nothing reaches the link. */
static void test_disabled_tx_ring_discards(void **state)
{
	struct fx *f = *state;
	uint8_t buf[100], *got = NULL;

	guest_post_rx(&f->b, 4);
	f->a.net.tx_discard = true;
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	pump(f);
	assert_int_equal(f->a.tx.used->idx, 2);
	assert_int_equal(f->a.st.guest_tx_frames, 2);
	assert_int_equal(f->a.st.drop[DROP_DISABLED], 2);
	assert_int_equal(f->a.st.link[0].tx_frames, 0);
	assert_int_equal(guest_recv(&f->b, &got), 0);
	f->a.net.tx_discard = false;	/* enabled again: frames flow */
	guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 60, 0));
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 60);
}

/* Capture rings for both VMs, mapped as the VMMs would. */
static uint8_t *ring_for(struct guest *g, const char *name, const char *peer)
{
	uint8_t *map = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *peers[] = { peer };

	assert_true(map != MAP_FAILED);
	assert_int_equal(capw_attach(&g->net.cap, map, CAP_FILE_SIZE, name, peers, 1), 0);
	return map;
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* What the guest sent (even when dropped), what was put on the link and
 * what was delivered are recorded as they are on the wire, with the
 * addresses that were checked. */
static void test_capture(void **state)
{
	struct fx *f = *state;
	uint8_t *ma = ring_for(&f->a, "vm0", "vm1"), *mb = ring_for(&f->b, "vm1", "vm0");
	struct cap_reader ra, rl, rb;
	static struct cap_frame fr;
	uint8_t buf[1600], *got;
	uint32_t len = frame(buf, mac_b, mac_a, 1514, 0x77);

	assert_int_equal(capr_open(&ra, ma, CAP_FILE_SIZE), 0);
	assert_int_equal(capr_open(&rl, ma, CAP_FILE_SIZE), 0);
	assert_int_equal(capr_open(&rb, mb, CAP_FILE_SIZE), 0);
	assert_int_equal(capr_register(&ra, CAP_BIT(CAP_STREAM_GUEST), 1, mono()), 0);
	assert_int_equal(capr_register(&rl, CAP_BIT(capr_find_stream(&rl, "vm1")), 2, mono()), 0);
	assert_int_equal(capr_register(&rb, CAP_BIT(CAP_STREAM_GUEST), 3, mono()), 0);
	guest_post_rx(&f->b, 8);
	guest_send(&f->a, buf, len);
	guest_send(&f->a, buf + 1514, frame(buf + 1514, mac_b, mac_x, 60, 0));	/* spoofed: dropped */
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + len);
	/* vm0's eth0: both frames it sent, as sent. */
	assert_int_equal(capr_next(&ra, &fr), 1);
	assert_int_equal(fr.dir, CAP_DIR_OUT);
	assert_int_equal(fr.len, len);
	assert_memory_equal(fr.data, buf, len);
	assert_int_equal(capr_next(&ra, &fr), 1);
	assert_int_equal(fr.len, 60);
	assert_memory_equal(fr.data + 6, mac_x, 6);
	assert_int_equal(capr_next(&ra, &fr), 0);
	/* vm0->vm1: only the frame that went on the link. */
	assert_int_equal(capr_next(&rl, &fr), 1);
	assert_int_equal(fr.stream, CAP_STREAM_LINK(0));
	assert_memory_equal(fr.data, buf, len);
	assert_int_equal(capr_next(&rl, &fr), 0);
	/* vm1's eth0: the frame delivered to it. */
	assert_int_equal(capr_next(&rb, &fr), 1);
	assert_int_equal(fr.dir, CAP_DIR_IN);
	assert_memory_equal(fr.data, buf, len);
	assert_int_equal(capr_next(&rb, &fr), 0);
	assert_int_equal(ra.lost + rl.lost + rb.lost, 0);
	munmap(ma, CAP_FILE_SIZE);
	munmap(mb, CAP_FILE_SIZE);
}

/* With a ring but no reader, forwarding writes nothing to it (read-only
 * here: a store would fault). */
static void test_capture_off_touches_nothing(void **state)
{
	struct fx *f = *state;
	uint8_t *ma = ring_for(&f->a, "vm0", "vm1"), *mb = ring_for(&f->b, "vm1", "vm0");
	uint8_t buf[1600], *got;
	int i;

	assert_int_equal(mprotect(ma, CAP_FILE_SIZE, PROT_READ), 0);
	assert_int_equal(mprotect(mb, CAP_FILE_SIZE, PROT_READ), 0);
	guest_post_rx(&f->b, 16);
	for (i = 0; i < 16; i++)
		guest_send(&f->a, buf, frame(buf, mac_b, mac_a, 100, i));
	pump(f);
	for (i = 0; i < 16; i++)
		assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + 100);
	munmap(ma, CAP_FILE_SIZE);
	munmap(mb, CAP_FILE_SIZE);
}

/* A wire: a cable between two NICs. Any source MAC and any destination
 * (unicast to nobody here, VLAN-tagged) cross it, the other end takes
 * them all, and what a wire NIC's guest sends malformed counts on its
 * one link. The segment's checks stay where the NIC is not a wire. */
static void test_wire(void **state)
{
	static const uint8_t vlan_frame_hdr[16] = { 0x02, 0, 0, 0, 0, 0x77, 0x0a, 0, 0, 0, 0, 0x42, 0x81, 0x00, 0x00, 0x0a };
	struct fx *f = *state;
	uint8_t buf[1600], *got = NULL;
	uint32_t len = frame(buf, mac_x, mac_x, 200, 0x33);
	uint64_t mask;

	f->a.net.wire = f->b.net.wire = true;
	assert_int_equal(net_route(&f->a.net, mac_x, mac_x, &mask), DROP_NONE);
	assert_int_equal(mask, 1);
	guest_post_rx(&f->b, 8);
	guest_send(&f->a, buf, len);	/* neither address is either VM's */
	memcpy(buf, vlan_frame_hdr, sizeof(vlan_frame_hdr));
	guest_send(&f->a, buf, len);	/* an 802.1Q frame of another MAC */
	pump(f);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + len);
	assert_memory_equal(got + NET_HDR_LEN + 6, mac_x, 6);
	assert_int_equal(guest_recv(&f->b, &got), NET_HDR_LEN + len);
	assert_memory_equal(got + NET_HDR_LEN, vlan_frame_hdr, sizeof(vlan_frame_hdr));
	assert_int_equal(f->a.st.drop[DROP_SPOOFED] + f->b.st.drop[DROP_SPOOFED] + f->b.st.drop[DROP_NO_LINK], 0);
	assert_int_equal(f->b.st.link[0].rx_frames, 2);
	/* Too short: malformed, on the wire NIC's link. */
	guest_send(&f->a, buf, 10);
	pump(f);
	assert_int_equal(f->a.st.link[0].drop[DROP_MALFORMED], 1);
	/* The same frame on the segment: spoofed. */
	f->a.net.wire = f->b.net.wire = false;
	guest_send(&f->a, buf, len);
	pump(f);
	assert_int_equal(f->a.st.drop[DROP_SPOOFED], 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_route), T(test_delivery), T(test_drops), T(test_offload_header_beyond_frame), T(test_backpressure_and_queue_full), T(test_wait_for_room),
		T(test_peer_rewrites_source), T(test_peer_garbage_ring), T(test_peer_descriptor_outside),
		T(test_peer_chain_is_malformed),
		T(test_device_claims_too_much), T(test_reattach_resumes), T(test_reattach_after_header_scribble),
		T(test_other_version_refused),
		T(test_down_link_counts), T(test_arm), T(test_tx_loop_stops_only_tx),
		T(test_disabled_tx_ring_discards), T(test_capture), T(test_capture_off_touches_nothing),
		T(test_wire),
	};

	return cmocka_run_group_tests_name("forwarding", tests, NULL, NULL);
}
