/*
 * fuzz_ops.h -- what the two allocator fuzzers (fuzz_policy.c: the lab policies,
 *               fuzz_hk.c: the hk_* API) share: fuzz input decoded into operations on a
 *               table of slots, and the fill pattern that proves a block's contents;
 *               and FUZZ_REQUIRE, every target's way of reporting a broken promise.
 *
 * Design:      an input is a sequence of 4-byte records, each one operation:
 *
 *                 byte 0   kind (low 3 bits, fuzz_kind_t) | size scale (high bits)
 *                 byte 1   slot (mod FUZZ_SLOTS)
 *                 bytes 2-3 size, little-endian, shifted left by the scale (0..7 bits,
 *                          so up to ~8 MiB); aligned: byte 2's low bits pick the alignment
 *
 *              A short tail is ignored; at most FUZZ_MAX_OPS records are played, so an
 *              input's run stays short whatever its length. Every live block is filled with
 *              a pattern of its slot and generation (head and tail only, FUZZ_FILL bytes
 *              each, so a large block costs no more than a small one) and checked before it
 *              is freed or moved, and after realloc up to the smaller size.
 */
#ifndef HK_FUZZ_OPS_H
#define HK_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_SLOTS   32
#define FUZZ_MAX_OPS 512
#define FUZZ_FILL    128

typedef enum fuzz_kind {
    FUZZ_MALLOC,
    FUZZ_CALLOC,
    FUZZ_REALLOC,
    FUZZ_FREE,
    FUZZ_ALIGNED,
    FUZZ_BAD_FREE,    /* a free the allocator must reject: interior pointer or double free */
    FUZZ_USABLE,      /* usable size of a live block: >= its request */
    FUZZ_FREE_ALL,    /* frees every live block (empty pages, coalescing to nothing) */
} fuzz_kind_t;

typedef struct fuzz_op {
    fuzz_kind_t kind;
    unsigned    slot;
    size_t      size;
    size_t      align; /* FUZZ_ALIGNED: 16 .. 64 KiB, a power of two */
    unsigned    variant; /* FUZZ_BAD_FREE: 0 interior pointer, 1 double free */
} fuzz_op_t;

/* Decodes one 4-byte record. */
static inline fuzz_op_t fuzz_decode(const uint8_t *r)
{
    fuzz_op_t op;
    op.kind = (fuzz_kind_t)(r[0] & 7);
    op.slot = r[1] % FUZZ_SLOTS;
    op.size = ((size_t)r[2] | (size_t)r[3] << 8) << (r[0] >> 5);
    op.align = (size_t)16 << ((r[2] & 15) % 13);
    op.variant = r[3] & 1;
    return op;
}

static inline size_t fuzz_op_count(size_t len)
{
    size_t n = len / 4;
    return n < FUZZ_MAX_OPS ? n : FUZZ_MAX_OPS;
}

/* The byte at offset i of a block filled for (slot, gen). */
static inline uint8_t fuzz_byte(unsigned slot, unsigned gen, size_t i)
{
    return (uint8_t)(slot * 31u + gen * 7u + (unsigned)i * 13u + 1u);
}

/* The offsets the pattern covers, in order: the first and the last FUZZ_FILL bytes. */
static inline size_t fuzz_next(size_t i, size_t n)
{
    i++;
    return i == FUZZ_FILL && n > 2 * FUZZ_FILL ? n - FUZZ_FILL : i;
}

static inline void fuzz_fill(uint8_t *p, size_t n, unsigned slot, unsigned gen)
{
    for (size_t i = 0; i < n; i = fuzz_next(i, n))
        p[i] = fuzz_byte(slot, gen, i);
}

/* Aborts (the fuzzer's crash) when a block filled for n bytes lost its pattern below
 * `upto` (n itself, or what a realloc kept). */
static inline void fuzz_verify(const uint8_t *p, size_t n, size_t upto, unsigned slot,
                               unsigned gen, const char *where)
{
    for (size_t i = 0; i < n && i < upto; i = fuzz_next(i, n)) {
        if (p[i] != fuzz_byte(slot, gen, i)) {
            fprintf(stderr, "fuzz: %s: slot %u lost its contents at byte %zu of %zu\n", where,
                    slot, i, n);
            abort();
        }
    }
}

/* Aborts with a message: an invariant the fuzzer found broken. */
#define FUZZ_REQUIRE(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: " __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
