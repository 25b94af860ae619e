/* vhost-user backend (QEMU docs/interop/vhost-user.rst) for one
 * virtio-net device with one queue pair: ring 0 = RX, ring 1 = TX.
 * The frontend is not trusted with our address space: every size, index,
 * address and fd it sends is checked; a bad message ends the session. */
#ifndef MULTIVM_VHOST_USER_H
#define MULTIVM_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtq/memmap.h"
#include "virtq/virtq.h"

#define VU_RX 0
#define VU_TX 1
#define VU_NRINGS 2
#define VU_MAX_FDS 8
#define VU_HDR_SIZE 12
#define VU_MAX_PAYLOAD 512	/* larger than any message we accept */

/* The front-end requests this backend knows, by number
 * (docs/interop/vhost-user.rst): one list for the enum and the names in
 * every message about them. */
#define VU_REQUESTS(X) \
	X(GET_FEATURES, 1) X(SET_FEATURES, 2) X(SET_OWNER, 3) X(RESET_OWNER, 4) \
	X(SET_MEM_TABLE, 5) X(SET_LOG_BASE, 6) X(SET_LOG_FD, 7) X(SET_VRING_NUM, 8) \
	X(SET_VRING_ADDR, 9) X(SET_VRING_BASE, 10) X(GET_VRING_BASE, 11) X(SET_VRING_KICK, 12) \
	X(SET_VRING_CALL, 13) X(SET_VRING_ERR, 14) X(GET_PROTOCOL_FEATURES, 15) \
	X(SET_PROTOCOL_FEATURES, 16) X(GET_QUEUE_NUM, 17) X(SET_VRING_ENABLE, 18) X(SEND_RARP, 19) \
	X(NET_SET_MTU, 20)

enum vu_request {
#define VU_ENUM(name, n) VU_##name = n,
	VU_REQUESTS(VU_ENUM)
#undef VU_ENUM
};

/* "SET_VRING_NUM" for a request of the list, NULL for any other number. */
const char *vu_request_name(uint32_t req);

#define VU_FLAG_VERSION		0x1
#define VU_FLAG_REPLY		0x4
#define VU_FLAG_NEED_REPLY	0x8

#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VIRTIO_F_VERSION_1		32

#define VU_PROTOCOL_F_MQ	0
#define VU_PROTOCOL_F_REPLY_ACK	3
#define VU_PROTOCOL_F_NET_MTU	4

#define VU_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) | \
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))
/* Offered on top of VU_FEATURES (vu_dev.offered): buffers a frame may
 * span, the MTU in config space (QEMU's host_mtu), and with offloads on,
 * checksum and TCP segmentation offloads both ways. */
#define VU_NET_FEATURES ((1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_MTU))
#define VU_OFFLOAD_FEATURES ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
			     (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
			     (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_HOST_TSO4) | \
			     (1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_ECN))
#define VU_PROTOCOL_FEATURES ((1ULL << VU_PROTOCOL_F_MQ) | (1ULL << VU_PROTOCOL_F_REPLY_ACK) | \
			      (1ULL << VU_PROTOCOL_F_NET_MTU))

struct vu_ring {
	struct virtq vq;	/* num == 0 until the ring can run */
	uint16_t num;
	uint16_t base;		/* SET_VRING_BASE */
	uint64_t desc_uva, avail_uva, used_uva;
	bool addr_set;
	bool enabled;		/* SET_VRING_ENABLE */
	bool started;		/* got a kick fd, not stopped by GET_VRING_BASE */
	int kick_fd, call_fd, err_fd;
};

struct vu_dev {
	int fd;			/* connection, -1 when none */
	uint64_t offered;	/* virtio features offered: VU_FEATURES by default */
	unsigned mtu;		/* the NIC's (config): NET_SET_MTU must say the same; 0: any */
	uint64_t features;	/* acked virtio features */
	uint64_t protocol_features;
	struct memmap mem;
	struct vu_ring ring[VU_NRINGS];

	/* message being received */
	uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	size_t have;
	int fds[VU_MAX_FDS];
	int nfds;

	char err[160];		/* why the last session ended */

	/* Called with each kick fd just before it is closed (may be NULL). */
	void (*kick_retire)(void *ctx, int fd);
	void *kick_retire_ctx;
};

void vu_init(struct vu_dev *d);
/* Starts a session on a freshly accepted connection. */
void vu_attach(struct vu_dev *d, int fd);
/* Ends the session: closes fds, unmaps memory, forgets all state. */
void vu_reset(struct vu_dev *d);

/* Reads what is available and handles each complete message. Returns 0
 * to carry on, 1 when the frontend closed, -1 on a protocol violation
 * (d->err says what). Either way the caller then calls vu_reset(). */
int vu_receive(struct vu_dev *d);

/* Handles one complete message (exposed for tests). Returns 0 or -1. */
int vu_handle(struct vu_dev *d, uint32_t req, uint32_t flags, const uint8_t *payload,
	      uint32_t size, int *fds, int nfds);

/* Whether ring i is started, mapped and not stopped for an error... */
bool vu_ring_started(const struct vu_dev *d, int i);
/* ...and also enabled: served normally. */
bool vu_ring_running(const struct vu_dev *d, int i);

/* Stops ring i after a guest violation: signals the frontend's error fd. */
void vu_ring_fail(struct vu_dev *d, int i);

#endif
