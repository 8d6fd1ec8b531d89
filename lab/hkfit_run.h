/*
 * hkfit_run.h -- hkfit's runs: a span of equal slots of one size class, with no header per
 *                slot, for requests n <= SMALL_MAX (rounded to the alignment only).
 *
 * Layout:
 *
 *   run span:  | tag | run_t (16 bytes) | slot 0 | slot 1 | ... | slot cap-1 | tail |
 *                      units used free_head fresh | next prev (partial list links)
 *   free slot: first 8 bytes = (mix(slot address) & ~0xffff) | next free index
 *              (cleared when the slot is handed out, so only freed slots carry marks)
 *   cap = (span size - 24) / slot size, by a multiply with the class's reciprocal;
 *   slots [fresh, cap) were never handed out. A link is (span - base) / 8 + 1, 0 = none.
 *
 * Invariants:  H5 a run has 1 <= used <= cap, used == fresh - |free list|, its free list
 *                 holds distinct marked slots below fresh, and it is on its class's
 *                 partial list iff used < cap
 *              (H6 and H7 count runs too: the run index, run_slots and run_slot_bytes.)
 *              hkfit_check.c verifies H5 for each run span of its walk.
 * Algorithm:   a new run holds a quarter as many slots as the class has live blocks (2 to
 *              RUN_MAX_BYTES worth), and when no free span fits it, any hole that holds
 *              one slot is filled instead of growing the heap. An empty run is released at
 *              once, so a size band that dies gives its space back.
 */
#ifndef LAB_HKFIT_RUN_H
#define LAB_HKFIT_RUN_H

#include "hkfit_span.h"

typedef struct run {
    uint16_t units;     /* slot size / 8 */
    uint16_t used;      /* slots handed out */
    uint16_t free_head; /* first free slot index, NO_SLOT if none */
    uint16_t fresh;     /* slots [fresh, cap) were never handed out */
    uint32_t next;      /* partial list links: (span - base) / 8 + 1, 0 = none */
    uint32_t prev;
} run_t;

/* ceil(2^32 / slot size) per class (hkfit_run.c): see div_slot. */
extern const uint32_t hkfit_recip[NCLASS];

static inline run_t *run_of(uint8_t *s) { return (run_t *)(void *)(s + HDR); }
static inline uint8_t *slots(uint8_t *s) { return s + HDR + RUN_HDR; }
static inline size_t slot_size(const run_t *r) { return (size_t)r->units * 8; }
/* x / (8 * units) for x < RUN_SPAN_MAX: a multiply by ceil(2^32 / (8 * units)), exact there
 * because the rounding error x / 2^32 stays below the 1 / 512 gap to the next quotient. */
static inline size_t div_slot(size_t x, const run_t *r)
{
    return (size_t)(((uint64_t)x * hkfit_recip[r->units]) >> 32);
}
static inline size_t run_cap(uint8_t *s) { return div_slot(sz(s) - HDR - RUN_HDR, run_of(s)); }

/* ---- Partial lists and free marks ---- */

static inline uint32_t link_of(const hkfit_t *h, const uint8_t *s)
{
    return s ? off8(h, s) + 1 : 0;
}
static inline uint8_t *span_of_link(const hkfit_t *h, uint32_t l)
{
    return l ? at8(h, l - 1) : NULL;
}

static inline __attribute__((always_inline)) void partial_push(hkfit_t *h, uint8_t *s)
{
    run_t *r = run_of(s);
    uint8_t *head = h->partial[r->units];
    r->prev = 0;
    r->next = link_of(h, head);
    if (head)
        run_of(head)->prev = link_of(h, s);
    h->partial[r->units] = s;
}

static inline __attribute__((always_inline)) void partial_drop(hkfit_t *h, uint8_t *s)
{
    run_t *r = run_of(s);
    uint8_t *p = span_of_link(h, r->prev), *n = span_of_link(h, r->next);
    if (p)
        run_of(p)->next = r->next;
    else
        h->partial[r->units] = n;
    if (n)
        run_of(n)->prev = r->prev;
}

static inline uint64_t slot_mark(const uint8_t *p, unsigned next)
{
    return (((uint64_t)(uintptr_t)p * 0x9fb21c651e98df25u) & ~(uint64_t)0xffff) | next;
}
static inline bool slot_marked(const uint8_t *p)
{
    return (ld(p) & ~(uint64_t)0xffff) == slot_mark(p, 0);
}

/* ---- hkfit_run.c ---- */

/* A new run of `slot`-byte slots, indexed and on its partial list; NULL when out of memory. */
uint8_t *hkfit_run_new(hkfit_t *h, size_t slot);
/* Releases run s, whose last slot was just freed. */
__attribute__((noinline)) void hkfit_run_release(hkfit_t *h, uint8_t *s);
/* Is slot idx on the free list of run s? Only asked for a slot that carries a free mark,
 * which may be user data that looks like one: the list decides. */
__attribute__((noinline, cold)) bool hkfit_slot_on_free_list(uint8_t *s, size_t idx);

/* ---- Slots: the small malloc and free ---- */

static inline void *small_malloc(hkfit_t *h, size_t n)
{
    size_t slot = round_to(n, h->align);
    uint8_t *s = h->partial[slot / 8];
    if (!s && !(s = hkfit_run_new(h, slot)))
        return NULL;
    run_t *r = run_of(s);
    uint8_t *p;
    if (r->free_head != NO_SLOT) {
        p = slots(s) + r->free_head * slot;
        r->free_head = (uint16_t)(ld(p) & 0xffff);
    } else {
        p = slots(s) + r->fresh++ * slot;
    }
    st(p, 0); /* no stale mark: a later free need not consult the free list */
    if (++r->used == run_cap(s))
        partial_drop(h, s);
    h->class_live[slot / 8]++;
    h->live_blocks++;
    h->block_bytes += slot;
    return p;
}

/* Validates p as a live slot of run s; returns its index through *idx. */
static inline __attribute__((always_inline)) lab_err_t slot_locate(uint8_t *s, const uint8_t *p,
                                                                   size_t *idx)
{
    run_t *r = run_of(s);
    if (p < slots(s))
        return LAB_ERR_MISALIGNED;
    size_t off = (size_t)(p - slots(s));
    *idx = div_slot(off, r);
    if (*idx * slot_size(r) != off || *idx >= r->fresh)
        return LAB_ERR_MISALIGNED;
    if (slot_marked(p) && hkfit_slot_on_free_list(s, *idx))
        return LAB_ERR_DOUBLE_FREE;
    return LAB_OK;
}

static inline __attribute__((always_inline)) void small_free(hkfit_t *h, uint8_t *s, uint8_t *p,
                                                             size_t idx)
{
    run_t *r = run_of(s);
    size_t slot = slot_size(r);
    st(p, slot_mark(p, r->free_head));
    r->free_head = (uint16_t)idx;
    if (r->used-- == run_cap(s))
        partial_push(h, s);
    h->class_live[r->units]--;
    h->live_blocks--;
    h->block_bytes -= slot;
    if (r->used == 0)
        hkfit_run_release(h, s);
}

#endif
