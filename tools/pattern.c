/*
 * pattern.c -- the fill stream for payload verification (see pattern.h).
 */
#include "pattern.h"

#include <string.h>

/* Word k of the stream: a bijective mix of seed + k, so neighbouring words differ. */
static uint64_t stream_word(uint64_t seed, size_t k)
{
    uint64_t x = seed + (uint64_t)k * 0x9e3779b97f4a7c15u;
    x ^= x >> 31;
    x *= 0xd6e8feb86659fd93u;
    x ^= x >> 32;
    return x;
}

void pattern_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    size_t words = n / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w = stream_word(seed, k);
        memcpy(b + 8 * k, &w, 8);
    }
    if (n % 8) {
        uint64_t w = stream_word(seed, words);
        memcpy(b + 8 * words, &w, n % 8);
    }
}

static size_t first_differing_byte(const unsigned char *b, uint64_t expected, size_t limit)
{
    unsigned char want[8];
    memcpy(want, &expected, 8);
    for (size_t i = 0; i < limit; i++)
        if (b[i] != want[i])
            return i;
    return PATTERN_OK;
}

size_t pattern_mismatch(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    size_t words = n / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w, expected = stream_word(seed, k);
        memcpy(&w, b + 8 * k, 8);
        if (w != expected)
            return 8 * k + first_differing_byte(b + 8 * k, expected, 8);
    }
    if (n % 8) {
        size_t at = first_differing_byte(b + 8 * words, stream_word(seed, words), n % 8);
        if (at != PATTERN_OK)
            return 8 * words + at;
    }
    return PATTERN_OK;
}
