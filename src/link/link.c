/* Link shared memory: creation (supervisor) and one end (VMM).
 * Layout and rules: docs/link-format.md. */
#include "link/link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fdio.h"

#define PAGE 4096u
#define ALIGN_PAGE(x) (((x) + PAGE - 1) & ~(size_t)(PAGE - 1))

static size_t ring_bytes(unsigned qsize)
{
	return ALIGN_PAGE(vq_ring_size(qsize, NULL, NULL));
}

static size_t area_bytes(unsigned qsize)
{
	return (size_t)qsize * LINK_AREA_PER_ENTRY;
}

static size_t dir_bytes(unsigned qsize)
{
	return ring_bytes(qsize) + area_bytes(qsize);
}

#define ALIGN_FRAME(x) (((x) + LINK_ALIGN - 1) & ~(uint32_t)(LINK_ALIGN - 1))
_Static_assert(MV_QSIZE_MIN * LINK_AREA_PER_ENTRY >= 2 * (LINK_META_LEN + LINK_MAX_FRAME + LINK_ALIGN),
	       "the smallest link holds two of the largest frames");
_Static_assert((uint64_t)MV_QSIZE_MAX * LINK_AREA_PER_ENTRY < (1ULL << 31), "area offsets fit 32 bits");

size_t link_shm_size(unsigned qsize)
{
	return PAGE + 2 * dir_bytes(qsize);
}

static void fill_hdr(struct link_hdr *h, unsigned qsize, const char *n0, const char *n1)
{
	memset(h, 0, sizeof(*h));
	h->magic = LINK_MAGIC;
	h->version = LINK_VERSION;
	h->qsize = qsize;
	h->area_size = area_bytes(qsize);
	h->dir_off[0] = PAGE;
	h->dir_off[1] = PAGE + dir_bytes(qsize);
	h->dir_size = dir_bytes(qsize);
	h->ring_size = ring_bytes(qsize);
	snprintf(h->name[0], sizeof(h->name[0]), "%s", n0);
	snprintf(h->name[1], sizeof(h->name[1]), "%s", n1);
}

int link_hdr_write(int memfd, unsigned qsize, const char *name0, const char *name1)
{
	struct link_hdr hdr;

	fill_hdr(&hdr, qsize, name0, name1);
	return pwrite(memfd, &hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) ? 0 : -EIO;
}

int link_create(struct link_res *r, unsigned qsize, const char *name0, const char *name1)
{
	size_t size = link_shm_size(qsize);
	int err;

	r->memfd = r->kick[0] = r->kick[1] = -1;
	r->qsize = qsize;
	if (!mv_qsize_ok(qsize) || strlen(name0) >= MV_NAME_MAX || strlen(name1) >= MV_NAME_MAX)
		return -EINVAL;
	r->memfd = memfd_create("multivm-link", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->memfd < 0)
		goto fail;
	if (ftruncate(r->memfd, size) < 0)
		goto fail;
	if (link_hdr_write(r->memfd, qsize, name0, name1) < 0)
		goto fail;
	/* A peer that could shrink the file could make the other end fault. */
	if (fcntl(r->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	r->kick[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->kick[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->kick[0] < 0 || r->kick[1] < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	link_res_close(r);
	return err ? err : -EIO;
}

void link_res_close(struct link_res *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->kick[0] >= 0)
		close(r->kick[0]);
	if (r->kick[1] >= 0)
		close(r->kick[1]);
	r->memfd = r->kick[0] = r->kick[1] = -1;
}

/* The header only identifies the format: the layout comes from our own
 * numbers, and the size from the sealed file. Both VMMs can write it, so
 * anything else in it is the peer's word and is not read. */
static int check_hdr(const struct link_hdr *shared, uint32_t *version)
{
	uint64_t magic = __atomic_load_n(&shared->magic, __ATOMIC_RELAXED);

	*version = __atomic_load_n(&shared->version, __ATOMIC_RELAXED);
	if (magic != LINK_MAGIC)
		return -EPROTO;
	return *version == LINK_VERSION ? 0 : -EPROTONOSUPPORT;
}

static void setup_queue(struct virtq *q, uint8_t *dir, unsigned qsize, const struct memmap *mem)
{
	size_t aoff, uoff;

	vq_ring_size(qsize, &aoff, &uoff);
	vq_init(q, qsize, dir, dir + aoff, dir + uoff, mem, true, false);
}

/* Resume where the previous holder of this end stopped: the indices are
 * in shared memory, so a restarted VMM carries on. */
static void resume(struct link *l)
{
	uint16_t k, n;

	vq_resume_driver(&l->txq);
	/* Where the frames still in flight are, from our descriptors: clamped
	 * into the area, so a peer that scribbled on them can at worst make
	 * us overwrite frames in flight to itself. */
	l->tx_head = 0;
	n = vq_in_flight(&l->txq);
	for (k = 0; k < n; k++) {
		uint16_t d = vq_flight_desc(&l->txq, k);
		uint64_t off;
		uint32_t len;

		vq_desc_peek(&l->txq, d, &off, &len);
		if (off >= l->area_size || len > l->area_size - off)
			off = len = 0;
		l->tx_off[d] = off;
		l->tx_head = ALIGN_FRAME((uint32_t)off + len);
	}
	/* We never wait for used buffers: we reclaim when we next send. */
	vq_no_interrupt(&l->txq);
	vq_resume_device(&l->rxq);
}

/* A link to peer with no memory and no fds. Of what was there only the
 * peer's MAC and whether it is a tunnel stay: the caller sets them
 * before attaching. */
static void link_clear(struct link *l, const char *peer)
{
	struct link fresh = { .memfd = -1, .rx_kick = -1, .tx_kick = -1 };

	memcpy(fresh.peer_mac, l->peer_mac, sizeof(fresh.peer_mac));
	fresh.tunnel = l->tunnel;
	snprintf(fresh.peer, sizeof(fresh.peer), "%s", peer);
	*l = fresh;
}

int link_attach(struct link *l, int memfd, int side, unsigned qsize,
		int rx_kick, int tx_kick, const char *peer)
{
	size_t size = link_shm_size(qsize);
	struct stat st;
	uint8_t *shm;
	int seals, rc;

	if ((side != 0 && side != 1) || !mv_qsize_ok(qsize) || strlen(peer) >= MV_NAME_MAX)
		return -EINVAL;
	/* The fstat system call (fdio.h): a link handed to a running, sandboxed
	 * node is checked here too, and glibc's fstat() is refused there. */
	if (syscall(SYS_fstat, memfd, &st) < 0)
		return -errno;
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPROTO;
	if ((size_t)st.st_size < sizeof(struct link_hdr))
		return -EPROTO;
	shm = mmap(NULL, (size_t)st.st_size < size ? (size_t)st.st_size : size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, memfd, 0);
	if (shm == MAP_FAILED)
		return -errno;
	/* The version first: a link of another version has another size. */
	rc = check_hdr((const struct link_hdr *)shm, &l->peer_version);
	if (!rc && (size_t)st.st_size != size)
		rc = -EPROTO;
	if (rc) {
		munmap(shm, (size_t)st.st_size < size ? (size_t)st.st_size : size);
		return rc;
	}

	link_clear(l, peer);
	l->side = side;
	l->memfd = memfd;
	l->rx_kick = rx_kick;
	l->tx_kick = tx_kick;
	l->shm = shm;
	l->shm_size = size;
	l->qsize = qsize;

	uint8_t *tx = shm + PAGE + (size_t)side * dir_bytes(qsize);
	uint8_t *rx = shm + PAGE + (size_t)(1 - side) * dir_bytes(qsize);
	struct mem_region area = {
		.gpa = 0, .size = area_bytes(qsize), .host = rx + ring_bytes(qsize),
	};

	l->tx_area = tx + ring_bytes(qsize);
	l->area_size = area_bytes(qsize);
	memmap_add(&l->rx_mem, &area);
	setup_queue(&l->txq, tx, qsize, NULL);
	setup_queue(&l->rxq, rx, qsize, &l->rx_mem);
	resume(l);
	link_set_queue(l, link_imp_holds(&l->imp));	/* what we hold, said again to a new page */
	return 0;
}

void link_set_down(struct link *l, const char *peer)
{
	link_clear(l, peer);
}

void link_moved(struct link *l)
{
	if (l->rxq.mem)
		l->rxq.mem = &l->rx_mem;
}

void link_detach(struct link *l)
{
	if (l->shm)
		munmap(l->shm, l->shm_size);
	if (l->memfd >= 0)
		close(l->memfd);
	if (l->rx_kick >= 0)
		close(l->rx_kick);
	if (l->tx_kick >= 0)
		close(l->tx_kick);
	l->shm = NULL;
	l->memfd = l->rx_kick = l->tx_kick = -1;
}

/* Where need bytes fit in the area, or -1. Frames in flight lie from the
 * oldest's start (tail) up to tx_head, maybe wrapped; a frame never wraps,
 * and tx_head never catches up with the tail. An empty link starts over
 * at 0, so a link that keeps up uses (and keeps hot in the caches) no
 * more of its area than one batch takes. */
static int64_t place(const struct link *l, uint32_t need)
{
	uint32_t tail;

	if (!vq_in_flight(&l->txq))
		return 0;	/* nothing in flight: start over */
	tail = l->tx_off[vq_flight_desc(&l->txq, 0)];
	if (l->tx_head > tail) {
		if (need <= l->area_size - l->tx_head)
			return (int64_t)l->tx_head;
		return need < tail ? 0 : -1;
	}
	return need < tail - l->tx_head ? (int64_t)l->tx_head : -1;
}

static uint32_t *queue_word(const struct link *l, int dir)
{
	return (uint32_t *)(l->shm + LINK_QUEUE_OFF + 64 * dir);
}

void link_set_queue(struct link *l, bool holds)
{
	if (l->shm)
		__atomic_store_n(queue_word(l, 1 - l->side), holds, __ATOMIC_RELAXED);
}

bool link_tx_queue(const struct link *l)
{
	return l->shm && __atomic_load_n(queue_word(l, l->side), __ATOMIC_RELAXED) == 1;
}

uint8_t *link_tx_slot(struct link *l, uint32_t len)
{
	uint32_t need = LINK_META_LEN + len;
	int64_t at;

	if (!l->shm || len < LINK_MIN_FRAME || len > LINK_MAX_FRAME)
		return NULL;
	/* Once per batch, and whenever out of room, take back what the peer
	 * has finished with: an empty link starts over at the area's start. */
	at = l->tx_free && !l->tx_fresh ? place(l, need) : -1;
	l->tx_fresh = false;
	if (at < 0) {
		int n = vq_reclaim(&l->txq);

		if (n <= 0)
			return NULL;
		l->tx_free = n;
		if (!vq_in_flight(&l->txq))
			l->tx_stalled = false;	/* the peer caught up */
		at = place(l, need);
		if (at < 0)
			return NULL;
	}
	l->tx_pending = at;
	return l->tx_area + at;
}

void link_tx_commit(struct link *l, uint32_t len)
{
	uint32_t at = l->tx_pending;

	l->tx_off[vq_next_desc(&l->txq)] = at;
	vq_add(&l->txq, at, LINK_META_LEN + len);
	l->tx_head = ALIGN_FRAME(at + LINK_META_LEN + len);
	l->tx_free--;
}

void link_tx_flush(struct link *l)
{
	uint64_t one = 1;

	l->tx_fresh = true;
	if (vq_kick_needed(&l->txq) && write(l->tx_kick, &one, sizeof(one)) == sizeof(one) && l->st)
		STAT_ADD(l->st->kicks_sent, 1);
}

bool link_tx_want_room(struct link *l)
{
	return vq_want_used(&l->txq);
}

/* The peer's doorbell for frames to it is the one it watches for room. */
void link_rx_flush(struct link *l)
{
	uint64_t one = 1;

	if (vq_flush(&l->rxq) && l->tx_kick >= 0 && write(l->tx_kick, &one, sizeof(one)) == sizeof(one) && l->st)
		STAT_ADD(l->st->kicks_sent, 1);
}

bool link_rx_rearm(struct link *l)
{
	return vq_enable_notify(&l->rxq);
}

