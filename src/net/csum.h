/* The Internet checksum (RFC 1071), for completing partial checksums and
 * building segments in software. Pure. */
#ifndef MULTIVM_CSUM_H
#define MULTIVM_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p (as big-endian 16-bit words; an odd last byte is
 * padded with zero) to sum. Chain calls only on even-length pieces. */
uint64_t csum_add(uint64_t sum, const void *p, size_t len);
/* Folds sum to 16 bits and complements it: the value to store (network
 * byte order in memory: store with csum_store). */
uint16_t csum_fold(uint64_t sum);
/* Stores checksum c big-endian at p. */
void csum_store(uint8_t *p, uint16_t c);

#endif
