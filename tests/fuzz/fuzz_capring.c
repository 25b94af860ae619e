/* Fuzz target: a capture reader (multivm capture) against whatever a
 * compromised VMM could write into its capture ring: the head, the stream
 * counts and the slots a reader is about to read. The reader must answer
 * (a frame within bounds, nothing yet, or a damaged ring), never read
 * outside the mapping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/capring.h"

#define WINDOW	8	/* slots the input can fill, from the reader's position */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *map;
	static const char *const peers[] = { "vm1" };
	static struct cap_frame f;
	static uint64_t last;	/* the previous input's window, cleared */
	struct cap_writer w;
	struct cap_reader r;
	struct cap_hdr *h;
	uint64_t head, start;
	size_t n;
	int i;

	if (!map) {
		map = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			abort();
	}
	if (size < 16)
		return 0;
	memset(map, 0, CAP_HDR_SIZE);
	for (i = 0; i < WINDOW; i++)
		memset(map + CAP_HDR_SIZE + ((last + i) % CAP_SLOTS) * CAP_SLOT_SIZE, 0, 64);
	memcpy(&start, data, 8);
	last = start;
	memcpy(&head, data + 8, 8);
	data += 16;
	size -= 16;
	h = (struct cap_hdr *)map;
	h->head = start;
	if (capw_attach(&w, map, CAP_FILE_SIZE, "vm0", peers, 1) < 0 || capr_open(&r, map, CAP_FILE_SIZE) < 0 ||
	    capr_register(&r, CAP_BIT(0) | CAP_BIT(1), 1, 1) < 0)
		abort();
	/* The hostile part: the slots from the reader's position on, then
	 * the head and the stream counts. */
	for (i = 0; i < WINDOW; i++) {
		uint8_t *slot = map + CAP_HDR_SIZE + ((start + i) % CAP_SLOTS) * CAP_SLOT_SIZE;

		n = size < 64 ? size : 64;	/* header and the frame's first bytes */
		memset(slot, 0, 64);
		memcpy(slot, data, n);
		data += n;
		size -= n;
	}
	h->head = head;
	n = size < sizeof(h->stream_total) ? size : sizeof(h->stream_total);
	memcpy(h->stream_total, data, n);
	for (i = 0; i < 2 * WINDOW; i++) {
		int rc = capr_next(&r, &f);

		if (rc == 1 && (f.len < CAP_FRAME_MIN || f.len > CAP_FRAME_MAX || f.stream > 1))
			abort();
		if (rc != 1)
			break;
	}
	capr_mark_end(&r);
	(void)capr_end(&r);
	return 0;
}
