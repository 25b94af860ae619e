/* Internet checksum. See csum.h. */
#include "net/csum.h"

#include <string.h>

uint64_t csum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	/* 32-bit big-endian words into a 64-bit sum: no carry is lost for
	 * any frame we handle (2^32 words would be needed to overflow). */
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		sum += __builtin_bswap32(w);
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += (uint32_t)b[0] << 8 | b[1];
		b += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void csum_store(uint8_t *p, uint16_t c)
{
	p[0] = c >> 8;
	p[1] = c & 0xff;
}
