/* Bounds-checked translation of addresses a peer gave us (guest-physical
 * addresses from a guest, offsets from a link peer, or the frontend's
 * virtual addresses for ring locations) into our own pointers.
 * Nothing else in multivm turns a foreign address into a pointer. */
#ifndef MULTIVM_MEMMAP_H
#define MULTIVM_MEMMAP_H

#include <stdint.h>
#include <stddef.h>

#define MEMMAP_MAX_REGIONS 8

struct mem_region {
	uint64_t gpa;		/* start, in the peer's address space */
	uint64_t size;
	uint64_t uva;		/* frontend virtual address (vhost-user), else 0 */
	uint8_t *host;		/* where gpa is mapped here */
	void *map_base;		/* what to munmap (NULL: not ours) */
	size_t map_len;
};

struct memmap {
	unsigned n;
	struct mem_region r[MEMMAP_MAX_REGIONS];
};

/* Adds a region. Fails (-EINVAL) on zero size, wrap-around, overlap with
 * an existing region (in gpa or uva space), or a full table. */
int memmap_add(struct memmap *m, const struct mem_region *r);

/* Pointer to [gpa, gpa+len) if it lies wholly inside one region, else
 * NULL. len 0 is refused: callers never need an empty span. */
void *memmap_gpa(const struct memmap *m, uint64_t gpa, uint64_t len);

/* The same for frontend virtual addresses (vring addresses). */
void *memmap_uva(const struct memmap *m, uint64_t uva, uint64_t len);

/* Unmaps what was mapped for regions and empties the table. */
void memmap_clear(struct memmap *m);

#endif
