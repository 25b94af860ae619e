#include "virtq/memmap.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* [a, a+alen) and [b, b+blen) overlap; lengths are non-zero, no wrap. */
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int memmap_add(struct memmap *m, const struct mem_region *r)
{
	unsigned i;

	if (m->n >= MEMMAP_MAX_REGIONS)
		return -ENOSPC;
	if (r->size == 0 || r->gpa + r->size < r->gpa || r->uva + r->size < r->uva)
		return -EINVAL;
	for (i = 0; i < m->n; i++) {
		if (overlaps(r->gpa, r->size, m->r[i].gpa, m->r[i].size))
			return -EINVAL;
		if (r->uva && m->r[i].uva &&
		    overlaps(r->uva, r->size, m->r[i].uva, m->r[i].size))
			return -EINVAL;
	}
	m->r[m->n++] = *r;
	return 0;
}

/* The one place a foreign address becomes a pointer: the whole span must
 * sit inside a single region, computed without overflow. */
static void *lookup(const struct memmap *m, uint64_t addr, uint64_t len, int uva)
{
	unsigned i;

	if (len == 0)
		return NULL;
	for (i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->r[i];
		uint64_t start = uva ? r->uva : r->gpa;
		uint64_t off;

		if (uva && !start)
			continue;
		if (addr < start)
			continue;
		off = addr - start;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

void *memmap_gpa(const struct memmap *m, uint64_t gpa, uint64_t len)
{
	return lookup(m, gpa, len, 0);
}

void *memmap_uva(const struct memmap *m, uint64_t uva, uint64_t len)
{
	return lookup(m, uva, len, 1);
}

void memmap_clear(struct memmap *m)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->r[i].map_base)
			munmap(m->r[i].map_base, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}
