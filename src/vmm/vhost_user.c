/* vhost-user backend: message framing and handling. See vhost_user.h. */
#include "vmm/vhost_user.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"

#define MAX_REGION_BYTES (1ULL << 40)	/* 1 TiB: far above any guest we run */
#define VU_FLAG_VERSION_MASK	0x3	/* flags bits 0-1: the protocol version */
#define VU_VRING_IDX_MASK	0xff	/* KICK, CALL, ERR payload: the ring ... */
#define VU_VRING_NOFD_MASK	0x100	/* ... and "no fd comes with it" */

struct vring_state_msg {
	uint32_t index;
	uint32_t num;
};

struct vring_addr_msg {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct region_msg {
	uint64_t gpa, size, uva, mmap_offset;
};

/* Records why the session is being ended; returns -1 for the caller. */
static int violation(struct vu_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const request_names[] = {
#define VU_NAME(name, n) [n] = #name,
	VU_REQUESTS(VU_NAME)
#undef VU_NAME
};

const char *vu_request_name(uint32_t req)
{
	return req < sizeof(request_names) / sizeof(request_names[0]) ? request_names[req] : NULL;
}

/* How a message names a request: by name, or "request N" for a number of
 * none (a hostile frontend may send any). */
static const char *req_str(uint32_t req, char *buf, size_t len)
{
	const char *name = vu_request_name(req);

	if (name)
		return name;
	snprintf(buf, len, "request %u", req);
	return buf;
}
#define RQ(req) req_str((req), (char[24]){ 0 }, 24)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Kick fds are watched by the caller's event loop, which must forget one
 * before it is closed: the frontend holds another fd of the same eventfd,
 * so closing ours alone would leave it registered, and firing, forever. */
static void close_kick(struct vu_dev *d, struct vu_ring *r)
{
	if (r->kick_fd >= 0 && d->kick_retire)
		d->kick_retire(d->kick_retire_ctx, r->kick_fd);
	close_fd(&r->kick_fd);
}

static void ring_clear(struct vu_dev *d, struct vu_ring *r)
{
	close_kick(d, r);
	close_fd(&r->call_fd);
	close_fd(&r->err_fd);
	memset(r, 0, sizeof(*r));
	r->kick_fd = r->call_fd = r->err_fd = -1;
}

void vu_init(struct vu_dev *d)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->offered = VU_FEATURES;
	/* Only mark fds absent: zeroed fields are not ours to close. */
	for (i = 0; i < VU_NRINGS; i++)
		d->ring[i].kick_fd = d->ring[i].call_fd = d->ring[i].err_fd = -1;
	for (i = 0; i < VU_MAX_FDS; i++)
		d->fds[i] = -1;
}

static void drop_pending_fds(struct vu_dev *d)
{
	int i;

	for (i = 0; i < d->nfds; i++)
		close_fd(&d->fds[i]);
	d->nfds = 0;
}

/* Forgets features, rings and memory, not the connection. */
static void device_reset(struct vu_dev *d)
{
	int i;

	for (i = 0; i < VU_NRINGS; i++)
		ring_clear(d, &d->ring[i]);
	memmap_clear(&d->mem);
	d->features = 0;
	d->protocol_features = 0;
}

void vu_reset(struct vu_dev *d)
{
	device_reset(d);
	drop_pending_fds(d);
	close_fd(&d->fd);
	d->have = 0;
}

void vu_attach(struct vu_dev *d, int fd)
{
	vu_reset(d);
	d->fd = fd;
	d->err[0] = 0;
}

bool vu_ring_started(const struct vu_dev *d, int i)
{
	const struct vu_ring *r = &d->ring[i];

	return r->started && vq_ready(&r->vq);
}

bool vu_ring_running(const struct vu_dev *d, int i)
{
	return vu_ring_started(d, i) && d->ring[i].enabled;
}

void vu_ring_fail(struct vu_dev *d, int i)
{
	uint64_t one = 1;

	if (d->ring[i].err_fd >= 0 && write(d->ring[i].err_fd, &one, sizeof(one)) < 0)
		return;
}

static void *ring_part(struct vu_dev *d, uint64_t uva, size_t len, size_t align)
{
	void *p = memmap_uva(&d->mem, uva, len);

	return (p && (uintptr_t)p % align == 0) ? p : NULL;
}

/* Points ring i's virtqueue at guest memory. The first mapping after a
 * start takes its indices from SET_VRING_BASE; a remap of a running ring
 * (new memory table, new addresses, a repeated kick) keeps them. */
static int ring_map(struct vu_dev *d, int i)
{
	struct vu_ring *r = &d->ring[i];
	bool event_idx = d->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	bool indirect = d->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	void *desc, *avail, *used;
	uint16_t n = r->num;

	if (!r->num || !r->addr_set || !r->started)
		return 0;
	desc = ring_part(d, r->desc_uva, vring_desc_size(n), VRING_DESC_ALIGN);
	avail = ring_part(d, r->avail_uva, vring_avail_size(n), VRING_AVAIL_ALIGN);
	used = ring_part(d, r->used_uva, vring_used_size(n), VRING_USED_ALIGN);
	if (!desc || !avail || !used) {
		vq_clear(&r->vq);
		return violation(d, "ring %d: addresses outside guest memory or misaligned", i);
	}
	if (vq_size(&r->vq)) {
		vq_remap(&r->vq, desc, avail, used, &d->mem, event_idx, indirect);
	} else {
		vq_init(&r->vq, n, desc, avail, used, &d->mem, event_idx, indirect);
		vq_set_base(&r->vq, r->base);
	}
	return 0;
}

/* One message as received. A handler that keeps an fd takes it (sets its
 * slot to -1); the rest are closed after the handler returns. */
struct vu_msg {
	uint32_t req;
	const uint8_t *p;
	uint32_t size;
	int *fds;
	int nfds;
};

static int send_reply(struct vu_dev *d, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t out[VU_HDR_SIZE + 64];
	uint32_t hdr[3] = { req, VU_FLAG_VERSION | VU_FLAG_REPLY, size };

	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + VU_HDR_SIZE, payload, size);
	if (send(d->fd, out, VU_HDR_SIZE + size, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(VU_HDR_SIZE + size))
		return violation(d, "cannot send the reply to %s: %s", RQ(req), strerror(errno));
	return 0;
}

static int reply_u64(struct vu_dev *d, uint32_t req, uint64_t v)
{
	return send_reply(d, req, &v, sizeof(v));
}

static int get_u64(struct vu_dev *d, const struct vu_msg *m, uint64_t *v)
{
	if (m->size != sizeof(*v))
		return violation(d, "%s: bad size %u", RQ(m->req), m->size);
	memcpy(v, m->p, sizeof(*v));
	return 0;
}

/* The ring a vring-state message names, or NULL (a violation). */
static struct vu_ring *ring_state(struct vu_dev *d, const struct vu_msg *m, struct vring_state_msg *s)
{
	if (m->size != sizeof(*s)) {
		violation(d, "%s: bad size %u", RQ(m->req), m->size);
		return NULL;
	}
	memcpy(s, m->p, sizeof(*s));
	if (s->index >= VU_NRINGS) {
		violation(d, "%s: bad ring %u", RQ(m->req), s->index);
		return NULL;
	}
	return &d->ring[s->index];
}

/* KICK, CALL and ERR: a u64 with the ring index in its low byte and "no
 * fd" in bit 8. Returns the ring index with *fd taken from the message
 * (-1: none), or -1. */
static int ring_fd(struct vu_dev *d, struct vu_msg *m, int *fd)
{
	uint64_t v = 0;	/* set by get_u64 (the sanitizer build cannot tell) */
	int idx;

	if (get_u64(d, m, &v) < 0)
		return -1;
	idx = v & VU_VRING_IDX_MASK;
	if (idx >= VU_NRINGS || (v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD_MASK)))
		return violation(d, "%s: bad ring %d", RQ(m->req), idx);
	if ((v & VU_VRING_NOFD_MASK) ? m->nfds != 0 : m->nfds != 1)
		return violation(d, "%s: fd flag and %d fds disagree", RQ(m->req), m->nfds);
	*fd = -1;
	if (m->nfds) {
		*fd = m->fds[0];
		m->fds[0] = -1;
	}
	return idx;
}

/* ---- one handler per request (vhost-user.rst, "Front-end message types") ---- */

static int get_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->req, d->offered);
}

static int set_features(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t v = 0;	/* set by get_u64 (the sanitizer build cannot tell) */

	if (get_u64(d, m, &v) < 0)
		return -1;
	if (v & ~d->offered)
		return violation(d, "SET_FEATURES: 0x%llx not offered", (unsigned long long)(v & ~d->offered));
	/* Frames carry the 12-byte VIRTIO 1.x header; a legacy driver's
	 * 10-byte one would shift every frame. */
	if (!(v & (1ULL << VIRTIO_F_VERSION_1)))
		return violation(d, "SET_FEATURES: driver without VIRTIO_F_VERSION_1 (legacy) not supported");
	d->features = v;
	return 0;
}

/* One frontend per socket: nothing to record. */
static int set_owner(struct vu_dev *d, struct vu_msg *m)
{
	return 0;
}

static int reset_owner(struct vu_dev *d, struct vu_msg *m)
{
	device_reset(d);
	return 0;
}

static int set_mem_table(struct vu_dev *d, struct vu_msg *m)
{
	struct memmap mm = { 0 };
	uint32_t n, i;

	if (m->size < 8)
		return violation(d, "SET_MEM_TABLE: short message");
	memcpy(&n, m->p, sizeof(n));
	if (n == 0 || n > MEMMAP_MAX_REGIONS || m->size != 8 + n * sizeof(struct region_msg))
		return violation(d, "SET_MEM_TABLE: bad region count %u for %u bytes", n, m->size);
	if ((uint32_t)m->nfds != n)
		return violation(d, "SET_MEM_TABLE: %d fds for %u regions", m->nfds, n);
	for (i = 0; i < n; i++) {
		struct region_msg rm;
		struct mem_region reg = { 0 };
		int fd = m->fds[i];
		void *base;
		uint64_t len, file_size;

		memcpy(&rm, m->p + 8 + i * sizeof(rm), sizeof(rm));
		if (rm.size == 0 || rm.size > MAX_REGION_BYTES || rm.mmap_offset > MAX_REGION_BYTES)
			goto bad;
		len = rm.mmap_offset + rm.size;
		/* Mapping past the end of the file would fault on first touch,
		 * and so would a file shrunk later: seal it where we can. */
		memfd_seal_shrink(fd);
		if (fd_size(fd, &file_size) < 0 || file_size < len)
			goto bad;
		base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
		if (base == MAP_FAILED)
			goto bad;
		reg.gpa = rm.gpa;
		reg.size = rm.size;
		reg.uva = rm.uva;
		reg.host = (uint8_t *)base + rm.mmap_offset;
		reg.map_base = base;
		reg.map_len = len;
		if (memmap_add(&mm, &reg) < 0) {
			munmap(base, len);
			goto bad;
		}
	}
	memmap_clear(&d->mem);
	d->mem = mm;
	for (i = 0; i < VU_NRINGS; i++)
		if (ring_map(d, i) < 0)
			return -1;
	return 0;
bad:
	memmap_clear(&mm);
	return violation(d, "SET_MEM_TABLE: region %u is empty, huge, overlapping or beyond its file", i);
}

static int set_vring_num(struct vu_dev *d, struct vu_msg *m)
{
	struct vring_state_msg s;
	struct vu_ring *r = ring_state(d, m, &s);

	if (!r)
		return -1;
	if (s.num == 0 || s.num > VQ_MAX_SIZE || (s.num & (s.num - 1)) || r->started)
		return violation(d, "SET_VRING_NUM: bad size %u for ring %u", s.num, s.index);
	r->num = s.num;
	return 0;
}

static int set_vring_addr(struct vu_dev *d, struct vu_msg *m)
{
	struct vring_addr_msg a;
	struct vu_ring *r;

	if (m->size != sizeof(a))
		return violation(d, "SET_VRING_ADDR: bad size %u", m->size);
	memcpy(&a, m->p, sizeof(a));
	if (a.index >= VU_NRINGS)
		return violation(d, "SET_VRING_ADDR: bad ring %u", a.index);
	r = &d->ring[a.index];
	r->desc_uva = a.desc;
	r->avail_uva = a.avail;
	r->used_uva = a.used;
	r->addr_set = true;
	return ring_map(d, a.index);
}

static int set_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	struct vring_state_msg s;
	struct vu_ring *r = ring_state(d, m, &s);

	if (!r)
		return -1;
	if (s.num > UINT16_MAX)
		return violation(d, "SET_VRING_BASE: bad index %u", s.num);
	r->base = s.num;
	return 0;
}

/* Stops the ring and says where it stopped. */
static int get_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	struct vring_state_msg s;
	struct vu_ring *r = ring_state(d, m, &s);

	if (!r)
		return -1;
	s.num = vq_size(&r->vq) ? vq_base(&r->vq) : r->base;
	r->base = s.num;	/* a restart without SET_VRING_BASE resumes here */
	r->started = false;
	vq_clear(&r->vq);
	close_kick(d, r);
	return send_reply(d, m->req, &s, sizeof(s));
}

static int set_vring_kick(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_ring *r;
	int fd, idx = ring_fd(d, m, &fd);

	if (idx < 0)
		return -1;
	r = &d->ring[idx];
	close_kick(d, r);
	r->kick_fd = fd;
	if (fd < 0)
		return violation(d, "ring %d: polling mode (no kick fd) is not supported", idx);
	/* Without protocol features a ring is enabled as soon as it starts. */
	if (!(d->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
		r->enabled = true;
	r->started = true;
	return ring_map(d, idx);
}

static int set_vring_call(struct vu_dev *d, struct vu_msg *m)
{
	int fd, idx = ring_fd(d, m, &fd);

	if (idx < 0)
		return -1;
	close_fd(&d->ring[idx].call_fd);
	d->ring[idx].call_fd = fd;
	return 0;
}

static int set_vring_err(struct vu_dev *d, struct vu_msg *m)
{
	int fd, idx = ring_fd(d, m, &fd);

	if (idx < 0)
		return -1;
	close_fd(&d->ring[idx].err_fd);
	d->ring[idx].err_fd = fd;
	return 0;
}

static int get_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->req, VU_PROTOCOL_FEATURES);
}

static int set_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t v = 0;	/* set by get_u64 (the sanitizer build cannot tell) */

	if (get_u64(d, m, &v) < 0)
		return -1;
	if (v & ~VU_PROTOCOL_FEATURES)
		return violation(d, "SET_PROTOCOL_FEATURES: 0x%llx not offered", (unsigned long long)v);
	d->protocol_features = v;
	return 0;
}

/* One queue pair (VU_PROTOCOL_F_MQ is offered only so QEMU asks). */
static int get_queue_num(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->req, 1);
}

static int set_vring_enable(struct vu_dev *d, struct vu_msg *m)
{
	struct vring_state_msg s;
	struct vu_ring *r = ring_state(d, m, &s);

	if (!r)
		return -1;
	if (s.num > 1)
		return violation(d, "SET_VRING_ENABLE: bad value %u", s.num);
	r->enabled = s.num;
	return 0;
}

/* QEMU tells the MTU it put in the NIC's config space (host_mtu): it
 * must be the one this VMM sizes frames by, or every frame of a size
 * between the two would be dropped as malformed. Refusing it fails the
 * NIC's start-up in QEMU with a message instead. */
static int net_set_mtu(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t v = 0;	/* set by get_u64 (the sanitizer build cannot tell) */

	if (get_u64(d, m, &v) < 0)
		return -1;
	if (d->mtu && v != d->mtu)
		return violation(d, "NET_SET_MTU: the frontend set MTU %llu, this VM's mtu is %u",
				 (unsigned long long)v, d->mtu);
	return 0;
}

/* The requests we serve. Any other was never offered: it ends the session.
 * fds: the message may carry fds. replies: it answers with its own reply
 * (never with a REPLY_ACK one). */
static const struct vu_request_def {
	int (*handle)(struct vu_dev *d, struct vu_msg *m);
	bool fds, replies;
} requests[] = {
	[VU_GET_FEATURES] = { get_features, false, true },
	[VU_SET_FEATURES] = { set_features, false, false },
	[VU_SET_OWNER] = { set_owner, false, false },
	[VU_RESET_OWNER] = { reset_owner, false, false },
	[VU_SET_MEM_TABLE] = { set_mem_table, true, false },
	[VU_SET_VRING_NUM] = { set_vring_num, false, false },
	[VU_SET_VRING_ADDR] = { set_vring_addr, false, false },
	[VU_SET_VRING_BASE] = { set_vring_base, false, false },
	[VU_GET_VRING_BASE] = { get_vring_base, false, true },
	[VU_SET_VRING_KICK] = { set_vring_kick, true, false },
	[VU_SET_VRING_CALL] = { set_vring_call, true, false },
	[VU_SET_VRING_ERR] = { set_vring_err, true, false },
	[VU_GET_PROTOCOL_FEATURES] = { get_protocol_features, false, true },
	[VU_SET_PROTOCOL_FEATURES] = { set_protocol_features, false, false },
	[VU_GET_QUEUE_NUM] = { get_queue_num, false, true },
	[VU_SET_VRING_ENABLE] = { set_vring_enable, false, false },
	[VU_NET_SET_MTU] = { net_set_mtu, false, false },
};

static const struct vu_request_def *request_def(uint32_t req)
{
	return req < sizeof(requests) / sizeof(requests[0]) && requests[req].handle ? &requests[req] : NULL;
}

int vu_handle(struct vu_dev *d, uint32_t req, uint32_t flags, const uint8_t *payload,
	      uint32_t size, int *fds, int nfds)
{
	const struct vu_request_def *def = request_def(req);
	struct vu_msg m = { req, payload, size, fds, nfds };
	int rc;

	if ((flags & VU_FLAG_VERSION_MASK) != VU_FLAG_VERSION || (flags & VU_FLAG_REPLY))
		return violation(d, "%s: bad flags 0x%x", RQ(req), flags);
	if (nfds && !(def && def->fds))
		rc = violation(d, "%s: unexpected fds", RQ(req));
	else if (!def)
		rc = violation(d, "%s: not supported (never offered)", RQ(req));
	else
		rc = def->handle(d, &m);
	if ((flags & VU_FLAG_NEED_REPLY) && !(def && def->replies) &&
	    (d->protocol_features & (1ULL << VU_PROTOCOL_F_REPLY_ACK)) && d->fd >= 0) {
		/* A violation still ends the session, but say so first. */
		if (reply_u64(d, req, rc ? 1 : 0) < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

static void take_fds(struct vu_dev *d, struct msghdr *msg, bool *overflow)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		int *in = (int *)CMSG_DATA(c);
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, in + i, sizeof(fd));
			if (d->nfds < VU_MAX_FDS) {
				d->fds[d->nfds++] = fd;
			} else {
				close(fd);
				*overflow = true;
			}
		}
	}
}

/* Reads exactly the rest of the current message, never into the next one,
 * so the fds that come with a message stay with it. */
int vu_receive(struct vu_dev *d)
{
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		uint32_t hdr[3];
		size_t want = VU_HDR_SIZE;
		bool overflow = false;
		struct iovec iov;
		struct msghdr msg = { 0 };
		ssize_t n;

		if (d->have >= VU_HDR_SIZE) {
			memcpy(hdr, d->buf, sizeof(hdr));
			if (hdr[2] > VU_MAX_PAYLOAD)
				return violation(d, "%s: payload of %u bytes", RQ(hdr[0]), hdr[2]);
			want += hdr[2];
		}
		if (d->have >= VU_HDR_SIZE && d->have == want) {
			int rc = vu_handle(d, hdr[0], hdr[1], d->buf + VU_HDR_SIZE, hdr[2], d->fds, d->nfds);

			drop_pending_fds(d);
			d->have = 0;
			if (rc < 0)
				return -1;
			continue;
		}
		iov.iov_base = d->buf + d->have;
		iov.iov_len = want - d->have;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(d->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return violation(d, "receive: %s", strerror(errno));
		take_fds(d, &msg, &overflow);
		if (overflow || (msg.msg_flags & MSG_CTRUNC))
			return violation(d, "more than %d fds with one message", VU_MAX_FDS);
		if (n == 0)
			return 1;
		d->have += n;
	}
}
