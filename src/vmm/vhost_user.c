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

static int set_mem_table(struct vu_dev *d, const uint8_t *p, uint32_t size, int *fds, int nfds)
{
	struct memmap m = { 0 };
	uint32_t n, i;

	if (size < 8)
		return violation(d, "SET_MEM_TABLE: short message");
	memcpy(&n, p, sizeof(n));
	if (n == 0 || n > MEMMAP_MAX_REGIONS || size != 8 + n * sizeof(struct region_msg))
		return violation(d, "SET_MEM_TABLE: bad region count %u for %u bytes", n, size);
	if ((uint32_t)nfds != n)
		return violation(d, "SET_MEM_TABLE: %d fds for %u regions", nfds, n);
	for (i = 0; i < n; i++) {
		struct region_msg rm;
		struct mem_region reg = { 0 };
		void *base;
		uint64_t len, file_size;

		memcpy(&rm, p + 8 + i * sizeof(rm), sizeof(rm));
		if (rm.size == 0 || rm.size > MAX_REGION_BYTES || rm.mmap_offset > MAX_REGION_BYTES)
			goto bad;
		len = rm.mmap_offset + rm.size;
		/* Mapping past the end of the file would fault on first touch,
		 * and so would a file shrunk later: seal it where we can. */
		memfd_seal_shrink(fds[i]);
		if (fd_size(fds[i], &file_size) < 0 || file_size < len)
			goto bad;
		base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fds[i], 0);
		if (base == MAP_FAILED)
			goto bad;
		reg.gpa = rm.gpa;
		reg.size = rm.size;
		reg.uva = rm.uva;
		reg.host = (uint8_t *)base + rm.mmap_offset;
		reg.map_base = base;
		reg.map_len = len;
		if (memmap_add(&m, &reg) < 0) {
			munmap(base, len);
			goto bad;
		}
	}
	memmap_clear(&d->mem);
	d->mem = m;
	for (i = 0; i < VU_NRINGS; i++)
		if (ring_map(d, i) < 0)
			return -1;
	return 0;
bad:
	memmap_clear(&m);
	return violation(d, "SET_MEM_TABLE: region %u is empty, huge, overlapping or beyond its file", i);
}

/* u64 payload with ring index in bits 0-7 and "no fd" in bit 8. */
static int ring_fd_msg(struct vu_dev *d, uint32_t req, const uint8_t *p, uint32_t size,
		       int *fds, int nfds)
{
	uint64_t v;
	struct vu_ring *r;
	int idx, *slot;

	if (size != 8)
		return violation(d, "request %u: bad size %u", req, size);
	memcpy(&v, p, 8);
	idx = v & 0xff;
	if (idx >= VU_NRINGS || (v & ~0x1ffULL))
		return violation(d, "request %u: bad ring %d", req, idx);
	if ((v & 0x100) ? nfds != 0 : nfds != 1)
		return violation(d, "request %u: fd flag and %d fds disagree", req, nfds);
	r = &d->ring[idx];
	slot = req == VU_SET_VRING_KICK ? &r->kick_fd : req == VU_SET_VRING_CALL ? &r->call_fd : &r->err_fd;
	if (req == VU_SET_VRING_KICK)
		close_kick(d, r);
	else
		close_fd(slot);
	if (nfds) {
		*slot = fds[0];
		fds[0] = -1;
	}
	if (req != VU_SET_VRING_KICK)
		return 0;
	if (*slot < 0)
		return violation(d, "ring %d: polling mode (no kick fd) is not supported", idx);
	/* Without protocol features a ring is enabled as soon as it starts. */
	if (!(d->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
		r->enabled = true;
	r->started = true;
	return ring_map(d, idx);
}

static int ring_state_msg(struct vu_dev *d, uint32_t req, const uint8_t *p, uint32_t size,
			  struct vring_state_msg *s)
{
	if (size != sizeof(*s))
		return violation(d, "request %u: bad size %u", req, size);
	memcpy(s, p, sizeof(*s));
	if (s->index >= VU_NRINGS)
		return violation(d, "request %u: bad ring %u", req, s->index);
	return 0;
}

static int send_reply(struct vu_dev *d, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t out[VU_HDR_SIZE + 64];
	uint32_t hdr[3] = { req, VU_FLAG_VERSION | VU_FLAG_REPLY, size };

	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + VU_HDR_SIZE, payload, size);
	if (send(d->fd, out, VU_HDR_SIZE + size, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(VU_HDR_SIZE + size))
		return violation(d, "cannot send reply to request %u: %s", req, strerror(errno));
	return 0;
}

static int reply_u64(struct vu_dev *d, uint32_t req, uint64_t v)
{
	return send_reply(d, req, &v, sizeof(v));
}

static int get_u64(struct vu_dev *d, uint32_t req, const uint8_t *p, uint32_t size, uint64_t *v)
{
	if (size != 8)
		return violation(d, "request %u: bad size %u", req, size);
	memcpy(v, p, 8);
	return 0;
}

static int handle_ring(struct vu_dev *d, uint32_t req, const uint8_t *p, uint32_t size)
{
	struct vring_state_msg s;
	struct vring_addr_msg a;
	struct vu_ring *r;

	if (req == VU_SET_VRING_ADDR) {
		if (size != sizeof(a))
			return violation(d, "SET_VRING_ADDR: bad size %u", size);
		memcpy(&a, p, sizeof(a));
		if (a.index >= VU_NRINGS)
			return violation(d, "SET_VRING_ADDR: bad ring %u", a.index);
		r = &d->ring[a.index];
		r->desc_uva = a.desc;
		r->avail_uva = a.avail;
		r->used_uva = a.used;
		r->addr_set = true;
		return ring_map(d, a.index);
	}
	if (ring_state_msg(d, req, p, size, &s) < 0)
		return -1;
	r = &d->ring[s.index];
	switch (req) {
	case VU_SET_VRING_NUM:
		if (s.num == 0 || s.num > VQ_MAX_SIZE || (s.num & (s.num - 1)) || r->started)
			return violation(d, "SET_VRING_NUM: bad size %u for ring %u", s.num, s.index);
		r->num = s.num;
		return 0;
	case VU_SET_VRING_BASE:
		if (s.num > 0xffff)
			return violation(d, "SET_VRING_BASE: bad index %u", s.num);
		r->base = s.num;
		return 0;
	case VU_GET_VRING_BASE:
		s.num = vq_size(&r->vq) ? vq_base(&r->vq) : r->base;
		r->base = s.num;	/* a restart without SET_VRING_BASE resumes here */
		r->started = false;
		vq_clear(&r->vq);
		close_kick(d, r);
		return send_reply(d, req, &s, sizeof(s));
	case VU_SET_VRING_ENABLE:
		if (s.num > 1)
			return violation(d, "SET_VRING_ENABLE: bad value %u", s.num);
		r->enabled = s.num;
		return 0;
	}
	return -1;
}

/* Returns 0 done, 1 refused (ack failure if asked), -1 violation. */
static int dispatch(struct vu_dev *d, uint32_t req, const uint8_t *p, uint32_t size,
		    int *fds, int nfds)
{
	uint64_t v = 0;

	if (nfds && req != VU_SET_MEM_TABLE && req != VU_SET_VRING_KICK &&
	    req != VU_SET_VRING_CALL && req != VU_SET_VRING_ERR)
		return violation(d, "request %u: unexpected fds", req);
	switch (req) {
	case VU_GET_FEATURES:
		return reply_u64(d, req, VU_FEATURES);
	case VU_SET_FEATURES:
		if (get_u64(d, req, p, size, &v) < 0)
			return -1;
		if (v & ~VU_FEATURES)
			return violation(d, "SET_FEATURES: 0x%llx not offered", (unsigned long long)(v & ~VU_FEATURES));
		/* Frames carry the 12-byte VIRTIO 1.x header; a legacy driver's
		 * 10-byte one would shift every frame. */
		if (!(v & (1ULL << VIRTIO_F_VERSION_1)))
			return violation(d, "SET_FEATURES: driver without VIRTIO_F_VERSION_1 (legacy) not supported");
		d->features = v;
		return 0;
	case VU_GET_PROTOCOL_FEATURES:
		return reply_u64(d, req, VU_PROTOCOL_FEATURES);
	case VU_SET_PROTOCOL_FEATURES:
		if (get_u64(d, req, p, size, &v) < 0)
			return -1;
		if (v & ~VU_PROTOCOL_FEATURES)
			return violation(d, "SET_PROTOCOL_FEATURES: 0x%llx not offered", (unsigned long long)v);
		d->protocol_features = v;
		return 0;
	case VU_GET_QUEUE_NUM:
		return reply_u64(d, req, 1);
	case VU_SET_OWNER:	/* one frontend per socket: nothing to record */
		return 0;
	case VU_RESET_OWNER:
		device_reset(d);
		return 0;
	case VU_SET_MEM_TABLE:
		return set_mem_table(d, p, size, fds, nfds);
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		return ring_fd_msg(d, req, p, size, fds, nfds);
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_ADDR:
	case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		return handle_ring(d, req, p, size);
	}
	return violation(d, "request %u: not supported (never offered)", req);
}

static bool has_own_reply(uint32_t req)
{
	return req == VU_GET_FEATURES || req == VU_GET_PROTOCOL_FEATURES ||
	       req == VU_GET_QUEUE_NUM || req == VU_GET_VRING_BASE;
}

int vu_handle(struct vu_dev *d, uint32_t req, uint32_t flags, const uint8_t *payload,
	      uint32_t size, int *fds, int nfds)
{
	int rc;

	if ((flags & 0x3) != VU_FLAG_VERSION || (flags & VU_FLAG_REPLY))
		return violation(d, "request %u: bad flags 0x%x", req, flags);
	rc = dispatch(d, req, payload, size, fds, nfds);
	if ((flags & VU_FLAG_NEED_REPLY) && !has_own_reply(req) &&
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
				return violation(d, "request %u: payload of %u bytes", hdr[0], hdr[2]);
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
