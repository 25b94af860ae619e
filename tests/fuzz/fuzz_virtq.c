/* Fuzz target: the device side of a split virtqueue over a fuzzed guest
 * memory image (ring and buffers), with and without indirect descriptors
 * and EVENT_IDX, including used-ring publication and chain copies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq/virtq.h"

#define QN	16
#define MEM	8192
#define GPA	0x10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[MEM] __attribute__((aligned(4096)));
	static uint8_t scratch[4096];
	struct memmap map = { 0 };
	struct mem_region r = { .gpa = GPA, .size = MEM - 1024, .host = mem };
	struct mem_region r2 = { .gpa = GPA + MEM - 1024, .size = 1024, .host = mem + MEM - 1024 };
	struct virtq q;
	struct vq_chain c;
	size_t ao, uo;
	int i;

	if (size < 2)
		return 0;
	memset(mem, 0, sizeof(mem));
	memcpy(mem, data + 2, size - 2 > MEM ? MEM : size - 2);
	memmap_add(&map, &r);
	memmap_add(&map, &r2);
	vq_ring_size(QN, &ao, &uo);
	vq_init(&q, QN, mem, mem + ao, mem + uo, &map, data[0] & 1, data[0] & 2);
	vq_set_base(&q, data[1]);
	for (i = 0; i < 2 * QN; i++) {
		int rc = vq_pop(&q, &c);

		if (rc <= 0)
			break;
		vq_chain_read(&c, data[1] % 32, scratch, sizeof(scratch));
		vq_chain_write(&c, data[0] % 32, scratch, c.in_len < sizeof(scratch) ? c.in_len : sizeof(scratch));
		vq_push(&q, c.head, c.in_len);
		if (i % 3 == 0)
			vq_flush(&q);
	}
	vq_flush(&q);
	vq_want_avail(&q, data[1]);
	vq_enable_notify(&q);
	/* The driver side over the same hostile memory. */
	vq_init(&q, QN, mem, mem + ao, mem + uo, &map, data[0] & 1, false);
	for (i = 0; i < 3 * QN && vq_reclaim(&q) > 0; i++) {
		vq_add(&q, GPA, 64);
		vq_kick_needed(&q);
	}
	return 0;
}
