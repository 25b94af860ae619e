/* The capture ring of one VM: STATE/NAME.capture, shared by its VMM (the
 * one writer) and any number of `multivm capture` readers.
 *
 * The supervisor creates the file (zeros, CAP_FILE_SIZE bytes) and passes
 * it to the VMM as an fd; the VMM maps it before entering its sandbox and
 * writes the header at start-up. Readers map the same file.
 *
 * Cost when nobody captures: the VMM does one relaxed load of `wanted` per
 * batch and nothing else (capw_batch). A reader claims a slot in reader[]
 * with a lease (CLOCK_MONOTONIC) that it renews every CAP_RENEW_NS and sets
 * `wanted`; while `wanted` is set the VMM, once per batch, reads the clock
 * and the slots, records the streams that live leases ask for, and clears
 * `wanted` when every lease has run out (a reader killed by SIGKILL costs
 * at most one lease of copying).
 *
 * The ring is CAP_SLOTS fixed slots; the frame with ring position seq is in
 * slot seq % CAP_SLOTS. The writer never waits: it overwrites the oldest
 * slot. A reader keeps its own position, copies a slot, then checks that
 * the writer has not come round to that slot meanwhile (else it was lapped
 * and skips ahead). Each record also carries its position in its stream
 * (sseq), so a reader counts exactly how many frames of the streams it
 * wants it lost. Readers trust nothing in the file: every record is copied
 * within its slot, then checked (cap_reader in capring.c). */
#ifndef MULTIVM_CAPRING_H
#define MULTIVM_CAPRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"

#define CAP_MAGIC	0x31525041434d564dULL	/* "MVMCAPR1" little-endian */
#define CAP_VERSION	1
#define CAP_HDR_SIZE	4096
#define CAP_SLOTS	4096			/* a power of two */
#define CAP_SLOT_SIZE	2048
#define CAP_REC_SIZE	32			/* struct cap_rec */
#define CAP_FRAME_MAX	(CAP_SLOT_SIZE - CAP_REC_SIZE)	/* whole frames: 2016 >= 1518 */
#define CAP_FRAME_MIN	14			/* an Ethernet header */
#define CAP_FILE_SIZE	((size_t)CAP_HDR_SIZE + (size_t)CAP_SLOTS * CAP_SLOT_SIZE)
#define CAP_READERS	16
/* 0: the guest's eth0; 1 + i: sent on link i, for a VM's first 15 links
 * (a VM with more forwards over the others as ever, uncaptured). */
#define CAP_STREAMS	16
#define CAP_LINKS	(CAP_STREAMS - 1)

#define CAP_LEASE_NS	5000000000ULL	/* a reader's lease: 5 s */
#define CAP_RENEW_NS	250000000ULL	/* renewed every 250 ms */

#define CAP_STREAM_GUEST	0
#define CAP_STREAM_LINK(i)	(1 + (i))
#define CAP_BIT(s)		(1u << (s))
/* Whether cap (from capw_batch) asks for link i; false beyond CAP_LINKS. */
#define CAP_LINK_WANTED(cap, i)	((i) < CAP_LINKS && ((cap) & CAP_BIT(CAP_STREAM_LINK(i))))

/* Direction of a guest (stream 0) frame, as the guest sees it. */
#define CAP_DIR_OUT	0	/* the guest sent it */
#define CAP_DIR_IN	1	/* delivered to the guest */

struct cap_reader_slot {
	uint64_t lease_ns;	/* CLOCK_MONOTONIC: wanted until then; 0: free */
	uint32_t streams;	/* bit s: stream s wanted */
	uint32_t pid;		/* the reader's, for people looking */
};

struct cap_hdr {
	/* Written by the VMM at each start. */
	uint64_t magic;
	uint32_t version;
	uint32_t slots;			/* CAP_SLOTS */
	uint32_t slot_size;		/* CAP_SLOT_SIZE */
	uint32_t nstreams;		/* 1 + links of this VM */
	uint8_t pad0[40];
	/* Set by readers, cleared by the VMM: the VMM's one load per batch. */
	uint32_t wanted;
	uint8_t pad1[60];
	/* Written by the VMM after each record (readers poll it). */
	uint64_t head;			/* records [0, head) have been written */
	uint8_t pad2[56];
	uint64_t stream_total[CAP_STREAMS];	/* frames recorded per stream */
	char stream_name[CAP_STREAMS][MV_NAME_MAX];	/* 0: this VM; 1 + i: link i's peer */
	uint8_t pad3[192];
	struct cap_reader_slot reader[CAP_READERS];
	uint8_t pad4[CAP_HDR_SIZE - 1280];
};

/* At the start of each slot; the frame follows. */
struct cap_rec {
	uint64_t seq;		/* ring position (slot seq % CAP_SLOTS) */
	uint64_t sseq;		/* position in its stream */
	uint64_t ts_ns;		/* CLOCK_REALTIME, read once per batch */
	uint16_t len;		/* frame bytes after this header */
	uint8_t stream;
	uint8_t dir;		/* stream 0: CAP_DIR_OUT or CAP_DIR_IN; links: 0 */
	uint32_t pad;
};

/* The layout is shared by separately built processes: pin it. */
_Static_assert(sizeof(struct cap_reader_slot) == 16, "reader slot size");
_Static_assert(sizeof(struct cap_rec) == CAP_REC_SIZE, "record size");
_Static_assert(sizeof(struct cap_hdr) == CAP_HDR_SIZE, "header size");
_Static_assert(offsetof(struct cap_hdr, nstreams) == 20, "nstreams offset");
_Static_assert(offsetof(struct cap_hdr, wanted) == 64, "wanted: its own cache line");
_Static_assert(offsetof(struct cap_hdr, head) == 128, "head: its own cache line");
_Static_assert(offsetof(struct cap_hdr, stream_total) == 192, "stream_total offset");
_Static_assert(offsetof(struct cap_hdr, stream_name) == 320, "stream_name offset");
_Static_assert(offsetof(struct cap_hdr, reader) == 1024, "reader slots offset");
_Static_assert(offsetof(struct cap_rec, len) == 24 && offsetof(struct cap_rec, stream) == 26 &&
	       offsetof(struct cap_rec, dir) == 27, "record fields");
_Static_assert((CAP_SLOTS & (CAP_SLOTS - 1)) == 0, "CAP_SLOTS must be a power of two");
_Static_assert(CAP_STREAMS <= 32, "streams are bits of a uint32_t");

/* ---- The writer (the VMM). No allocation, no system call per frame. ---- */

struct cap_writer {
	struct cap_hdr *hdr;	/* NULL: no capture file */
	uint8_t *slots;
	uint64_t head;		/* ours; never read back from the file */
	uint64_t total[CAP_STREAMS];
	uint64_t ts_ns;		/* this batch's timestamp */
};

/* Takes over map (CAP_FILE_SIZE bytes): writes the header (magic, sizes,
 * stream names: this VM, then each link's peer) and resumes from the head
 * and stream counts a previous VMM left there. 0, or -EINVAL if size is
 * too small or there are too many peers. */
int capw_attach(struct cap_writer *w, void *map, size_t size, const char *name,
		const char *const peers[], unsigned npeers);

uint32_t capw_batch_slow(struct cap_writer *w);

/* Once per batch: the streams to record in this batch (bit s), 0 when no
 * reader wants any. Without readers this is one relaxed load. */
static inline uint32_t capw_batch(struct cap_writer *w)
{
	if (!w->hdr || !__atomic_load_n(&w->hdr->wanted, __ATOMIC_RELAXED))
		return 0;
	return capw_batch_slow(w);
}

/* One frame of len bytes (CAP_FRAME_MIN..CAP_FRAME_MAX; callers check)
 * for stream s: capw_begin() returns where to copy it, capw_commit()
 * publishes it. capw_frame() does both from one buffer. */
uint8_t *capw_begin(struct cap_writer *w, unsigned stream, unsigned dir, uint32_t len);
void capw_commit(struct cap_writer *w, unsigned stream);
void capw_frame(struct cap_writer *w, unsigned stream, unsigned dir, const void *frame, uint32_t len);

/* ---- A reader (`multivm capture`). Trusts nothing in the file. ---- */

struct cap_frame {
	uint64_t ts_ns;
	uint32_t len;
	uint8_t stream, dir;
	uint8_t data[CAP_FRAME_MAX];
};

struct cap_reader {
	struct cap_hdr *hdr;
	const uint8_t *slots;
	uint32_t streams;	/* wanted */
	int slot;		/* ours in hdr->reader[], -1: none */
	uint64_t lease;		/* what we last wrote there */
	uint64_t lapses;	/* renewals that found our lease had run out */
	uint64_t pos;		/* next ring position to read */
	uint64_t last_head;
	uint64_t expect[CAP_STREAMS];	/* next sseq per stream */
	uint64_t floor[CAP_STREAMS];	/* ring position after its last record */
	bool seen[CAP_STREAMS];
	uint64_t end_total[CAP_STREAMS];	/* capr_mark_end() */
	uint64_t end_head;
	uint64_t lost;		/* frames of our streams recorded but not read */
};

/* Checks map's header (magic, version, geometry). 0, -EINVAL if size is
 * too small, -EPROTO if it is not (yet) a capture ring of this version. */
int capr_open(struct cap_reader *r, void *map, size_t size);

/* The stream of frames this VM sent towards peer (1 + link), or -1. */
int capr_find_stream(const struct cap_reader *r, const char *peer);

/* Claims a reader slot for streams, sets `wanted`, and starts reading at
 * the head. now: CLOCK_MONOTONIC ns. 0, or -EBUSY when every slot is taken. */
int capr_register(struct cap_reader *r, uint32_t streams, uint32_t pid, uint64_t now);

/* Renews the lease (claiming a slot again if ours was taken after it ran
 * out). 0 or -EBUSY. */
int capr_renew(struct cap_reader *r, uint32_t pid, uint64_t now);

/* Gives the slot back. */
void capr_unregister(struct cap_reader *r);

/* The next frame of our streams: 1 (in *f), 0 if none yet, -EBADMSG if the
 * ring is damaged (r->lost counts the frames it skipped when lapped). */
int capr_next(struct cap_reader *r, struct cap_frame *f);

/* Ending: capr_mark_end() notes how many frames the writer has recorded;
 * after draining with capr_next(), capr_end() counts those never read as
 * lost. 0, or -EBADMSG for impossible counts. */
void capr_mark_end(struct cap_reader *r);
int capr_end(struct cap_reader *r);

#endif
