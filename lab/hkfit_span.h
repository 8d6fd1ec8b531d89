/*
 * hkfit_span.h -- hkfit's spans: the region is tiled by spans, each opened by one tag word;
 *                 free spans carry boundary tags and sit in bins (bitbins.h).
 *
 * Layout:
 *
 *   region: base [pad] | span | span | ... | span | break     (pad = 8 for align 16)
 *
 *   span  ->  +--------------------------------------------------+
 *             | check:16 | size:45 (multiple of gran) | R | P | A |  tag word, 8 bytes
 *   user  ->  +--------------------------------------------------+
 *             | payload, size - 8 bytes                          |   large block (A=1,R=0)
 *             +--------------------------------------------------+
 *   free span: | tag | next | prev | ...              | size (footer) |
 *                    ^ lab_binnode_t: the links of its bin's list
 *   run span:  | tag | a run (hkfit_run.h) ...                    |   (A=1,R=1)
 *   A = allocated, P = span below is allocated, R = run; check = multiply-shift hash of
 *   the span address, size, A and R (not P), so stale or damaged tags are recognized. A
 *   tag is trusted only after the run lookup has ruled out that it lies in a run, where a
 *   slot's user data could forge one (at gran 8 also for a pointer just past a run's
 *   last slot, whose tag word would be that slot's last 8 bytes).
 *
 *   bins: exact below 1 KiB (one size each), then 16 per power of two; a two-level bitmap
 *   (bitbins.h) finds the first non-empty bin at or above a size's own.
 *
 * Invariants:  H1 spans tile [lo, break): size >= MIN_SPAN, size % gran == 0, valid check;
 *                 base and top mirror the memory source's region
 *              H2 P of every span equals A of the span below (P = 1 for the first)
 *              H3 a free span has footer == size; no two free spans are adjacent; the
 *                 last span is allocated
 *              H4 every free span is on exactly the list of its bin, the bins and their
 *                 map keep M1, M2 and L1-L3 of bitbins.h, and the free counters match
 *              hkfit_check.c verifies them in its walk of the spans.
 * Algorithm:   best fit among the first FIT_WALK spans of the size's bin, else of the next
 *              non-empty bin; the front of the span is taken and a rest of >= MIN_SPAN
 *              binned; no fit: the region grows by exactly the span. A released span
 *              coalesces with both neighbours (boundary tags) and is trimmed off when it
 *              reaches the break, so the top span is never free.
 */
#ifndef LAB_HKFIT_SPAN_H
#define LAB_HKFIT_SPAN_H

#include "hkfit.h"

/* ---- Tags ---- */

/* Multiply-shift hash of (address, size | A | R): the top 16 bits of (s ^ sizeflags) * K for
 * an odd K: one multiply. A word that is not the tag written at that address (user data, a
 * damaged tag, a tag copied from elsewhere) passes by accident with odds of about 2^-16.
 * It is a checksum, not a secret: a program that writes the right word on purpose into a
 * large block's payload can forge a tag there. Tags of spans that no longer exist are
 * zeroed (when merged away, or trimmed off at the break), so they are not stale. */
static inline uint64_t check16(const uint8_t *s, uint64_t sizeflags)
{
    return (((uint64_t)(uintptr_t)s ^ sizeflags) * 0x9e3779b97f4a7c15u) >> 48;
}
static inline uint64_t make_tag(const uint8_t *s, size_t size, uint64_t flags)
{
    return check16(s, size | (flags & (F_ALLOC | F_RUN))) << 48 | size | flags;
}
static inline bool tag_valid(const uint8_t *s, uint64_t t)
{
    return (t >> 48) == check16(s, t & (SIZE_MASK | F_ALLOC | F_RUN));
}
static inline size_t sz(const uint8_t *s) { return (size_t)(ld(s) & SIZE_MASK); }
static inline uint64_t flags(const uint8_t *s) { return ld(s) & 7; }
static inline void set_tag(uint8_t *s, size_t size, uint64_t fl) { st(s, make_tag(s, size, fl)); }
static inline void set_prev_bit(uint8_t *s, bool on)
{
    st(s, on ? ld(s) | F_PREV : ld(s) & ~F_PREV);
}
static inline lab_binnode_t *node(uint8_t *s) { return (lab_binnode_t *)(void *)(s + HDR); }
static inline uint8_t *span_of_node(lab_binnode_t *n) { return (uint8_t *)n - HDR; }

static inline size_t span_for(const hkfit_t *h, size_t n)
{
    size_t s = round_to(n + HDR, h->gran);
    return s < MIN_SPAN ? MIN_SPAN : s;
}

/* ---- Free span bins ---- */

/* Free span bins (bitbins.h): exact below 1 KiB (size / 8), then 16 per power of two up to
 * the largest span of 48 bits, so no size is clamped into the last bin. */
static const lab_binshape_t span_bins = {
    .nbins = NBINS,
    .exact_max = EXACT_BINS * 8 - 1,
    .exact_shift = 3,
    .first_range = EXACT_BINS,
    .range_lg = 10,
    .per_lg = 4,
    .size_lg_max = 47,
    .sorted_from = NBINS,
};

static inline unsigned bin_of(size_t s) { return lab_bin_of(&span_bins, s); }

static inline __attribute__((always_inline)) void bin_insert(hkfit_t *h, uint8_t *s)
{
    lab_bin_push(&span_bins, h->bins, h->binmap, bin_of(sz(s)), node(s));
    h->free_spans++;
    h->free_span_bytes += sz(s);
}

static inline __attribute__((always_inline)) void bin_remove(hkfit_t *h, uint8_t *s)
{
    lab_bin_remove(&span_bins, h->bins, h->binmap, bin_of(sz(s)), node(s));
    h->free_spans--;
    h->free_span_bytes -= sz(s);
}

/* ---- A pointer's span ---- */

/* Validates p, known to lie in no run, as the payload of a live large span: a valid tag
 * with A set and R clear, confirmed by the P bit of the span above; *l names the span. */
static inline __attribute__((always_inline)) lab_err_t span_locate(const hkfit_t *h, uint8_t *p,
                                                                   loc_t *l)
{
    uint8_t *s = p - HDR; /* p is aligned (locate) */
    if (s < lo(h))
        return LAB_ERR_MISALIGNED;
    uint64_t t = ld(s);
    size_t z = (size_t)(t & SIZE_MASK);
    if (!tag_valid(s, t) || z < MIN_SPAN || z > (size_t)(hi(h) - s))
        return LAB_ERR_CORRUPT; /* not a tag: an interior pointer, or freed and merged */
    if (t & F_RUN)
        return LAB_ERR_MISALIGNED;
    if (!(t & F_ALLOC))
        return LAB_ERR_DOUBLE_FREE;
    if (s == h->rix_span || (s + z < hi(h) && !(flags(s + z) & F_PREV)))
        return LAB_ERR_CORRUPT;
    *l = (loc_t){K_SPAN, s, 0};
    return LAB_OK;
}

/* ---- hkfit_span.c ---- */

/* Smallest free span >= s among the first FIT_WALK of its bin, else of the next bin. */
uint8_t *hkfit_find_fit(hkfit_t *h, size_t s);
/* Takes s bytes at the start of free span f (already off its bin), splitting the rest. */
uint8_t *hkfit_carve(hkfit_t *h, uint8_t *f, size_t s, uint64_t fl);
/* Grows the region by exactly s bytes for a new top span (the old top is allocated). */
uint8_t *hkfit_grow(hkfit_t *h, size_t s, uint64_t fl);
/* An allocated span of s bytes with flags fl: a fit, else growth; NULL when out of memory. */
uint8_t *hkfit_span_alloc(hkfit_t *h, size_t s, uint64_t fl);
/* Frees span s: coalesces with free neighbours, trims at the break, else bins it. */
void hkfit_span_release(hkfit_t *h, uint8_t *s);

#endif
