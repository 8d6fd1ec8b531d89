/*
 * pattern.h -- the content the replay checker writes into every block and verifies later.
 *
 * Design:      Each allocation (and each realloc) of a trace id gets a fresh seed
 *              derived from the id and a per-id generation, and the payload is filled
 *              with a pseudo-random stream from that seed. Verifying the stream on free
 *              catches overlapping blocks and allocator metadata written into payloads;
 *              a new seed per generation catches a realloc that returns stale bytes.
 *              The stream is position dependent, so a block shifted by a few bytes fails
 *              too. Functions work on any alignment (bytes go through memcpy).
 * Complexity:  O(n) per fill or verify, a few cycles per 8 bytes.
 */
#ifndef HK_TOOLS_PATTERN_H
#define HK_TOOLS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PATTERN_OK SIZE_MAX

static inline uint64_t pattern_seed(uint32_t id, uint32_t generation)
{
    return (((uint64_t)generation << 32) | id) * 0x2545f4914f6cdd1du + 1;
}

/* Writes n bytes of the stream for `seed` at p. */
void pattern_fill(void *p, size_t n, uint64_t seed);
/* Offset of the first of the n bytes at p that differs from the stream, or PATTERN_OK. */
size_t pattern_mismatch(const void *p, size_t n, uint64_t seed);

#endif
