/*
 * hkfit.c -- heapkit's own lab policy: header-less size-class runs for small blocks,
 *            boundary-tag best fit for large ones, exact growth, page-exact mappings.
 *
 * Algorithm:   1. malloc(n <= SMALL_MAX): n is rounded to a multiple of the alignment
 *                 (an exact class, no other rounding) and served from a run: a span of
 *                 the region holding equal slots with no per-slot header. The run that
 *                 owns a pointer is found from its page: a fixed cache maps a region page
 *                 to the range its runs cover, from the lowest run's start to the highest
 *                 run's end (filled on a miss by binary search in a sorted index of runs,
 *                 kept exact when runs come and go; a page of a zone without runs, by a
 *                 bit per 256 KiB, needs no search). A pointer outside that range is in
 *                 no run; inside it, a walk along the span tiling from the lowest run
 *                 reaches the pointer. A new
 *                 run holds a quarter as many slots as the class has live blocks (2 to
 *                 RUN_MAX_BYTES worth), and when no free span fits it, any hole that
 *                 holds one slot is filled instead of growing the heap. An empty run is
 *                 released at once, so a size band that dies gives its space back.
 *              2. malloc(n > SMALL_MAX): a span of n + 8 bytes rounded to the alignment,
 *                 best fit over segregated free lists (exact lists below 1 KiB, then 16
 *                 per power of two, found with a two-level bitmap), split, or else the region
 *                 grows by exactly the span. A request whose page rounding costs no more
 *                 than a header (<= 8 bytes, or 1/256) gets its own header-less mapping,
 *                 unless a freed mapping of that size showed such blocks die young (the
 *                 floor rises as glibc's dynamic mmap threshold does).
 *              3. free: one lookup finds and validates the pointer (the policy screens
 *                 foreign and misaligned pointers itself, LAB_SCREENS_POINTERS, so the
 *                 range test is made once); runs take the slot back; spans coalesce with
 *                 both neighbours (boundary tags) and a free span that reaches the break
 *                 is trimmed, so the top span is never free.
 *              4. realloc: one lookup, which also validates the pointer as free does;
 *                 shrink in place; grow into a free next span, or at the break by
 *                 exactly the difference; otherwise move (a grown small block becomes
 *                 a span, since blocks that grew once tend to grow again).
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
 *   run span:  | tag | run_t (16 bytes) | slot 0 | slot 1 | ... | slot cap-1 | tail |
 *   free slot: first 8 bytes = (mix(slot address) & ~0xffff) | next free index
 *              (cleared when the slot is handed out, so only freed slots carry marks)
 *   A = allocated, P = span below is allocated, R = run; check = multiply-shift hash of
 *   the span address, size, A and R (not P), so stale or damaged tags are recognized. A
 *   tag is trusted only after the run lookup has ruled out that it lies in a run, where a
 *   slot's user data could forge one (at gran 8 also for a pointer just past a run's
 *   last slot, whose tag word would be that slot's last 8 bytes).
 *   mapping: a page-aligned range holding one payload, no header (size = mapping size).
 *
 * Invariants:  H1 spans tile [lo, break): size >= MIN_SPAN, size % gran == 0, valid check;
 *                 base and top mirror the memory source's region
 *              H2 P of every span equals A of the span below (P = 1 for the first)
 *              H3 a free span has footer == size; no two free spans are adjacent; the
 *                 last span is allocated
 *              H4 every free span is on exactly the list of its bin, the bitmap bit of a
 *                 bin is set iff its list is non-empty, the summary bit of a bitmap word
 *                 is set iff the word is non-zero, and the free counters match
 *              H5 a run has 1 <= used <= cap, used == fresh - |free list|, its free list
 *                 holds distinct marked slots below fresh, and it is on its class's
 *                 partial list iff used < cap
 *              H6 the run index lists exactly the run spans, sorted by address; every
 *                 run span is smaller than RUN_SPAN_MAX; every used page cache entry sits
 *                 at its page's slot and holds the range from the start of the page's
 *                 lowest run to the end of its highest one (empty if no run overlaps it);
 *                 the bit of a zone (256 KiB of the region) is set iff a run overlaps it
 *              H7 every mapping of the memory source is a live block; live_blocks and
 *                 block_bytes equal the slots, spans and mappings found; run_slots and
 *                 run_slot_bytes equal the capacity of the runs found
 *              hkfit_check() verifies H1-H7; hkfit_walk() reports its walk of the spans
 *              (pad, run headers and tails, the run index's span: META; free spans and
 *              free slots, fresh ones included: FREE; slots in use, large spans: BLOCK),
 *              then each mapping (BLOCK).
 * Cost:        small malloc O(1); free O(1) on a page cache hit: a pointer outside its
 *              page's run range is settled by the entry, one inside it walks the spans of
 *              the page from the lowest run up to it (O(log runs) more on a miss); the tag
 *              check is one multiply; large malloc O(1)
 *              bitmap search plus at most FIT_WALK list nodes; slot offsets are divided
 *              by a multiply with a per-class reciprocal, not a division instruction.
 *              The page cache (PC_N entries in the policy state) and the zone bits (2 KiB
 *              for a default 4 GiB region) are bookkeeping of fixed size, like the bins;
 *              the run index they summarize is in the footprint.
 * Pathology:   a class with few live blocks still pays a run header and up to one run
 *              of unused slots; a block that was blocked once by a neighbour keeps its
 *              old hole until something fits there; small blocks pinned between freed
 *              large ones fragment the region like any non-moving allocator.
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---- Constants and types ---- */

#define HDR           ((size_t)8)    /* tag word in front of every span payload */
#define MIN_SPAN      ((size_t)32)   /* tag + two links + footer */
#define SMALL_MAX     ((size_t)512)  /* largest request served from runs */
#define NCLASS        (SMALL_MAX / 8 + 1)
#define RUN_HDR       ((size_t)16)
#define RUN_MAX_BYTES ((size_t)4096) /* slot bytes of the largest run */
#define CAP_DIV       4u /* a new run holds 1/CAP_DIV of the class's live slots */
#define RUN_MIN_CAP   2u
#define NO_SLOT       0xffffu
#define EXACT_BINS    128u /* spans below 1 KiB: one list per size */
#define NBINS         (EXACT_BINS + 38u * 16u)
#define NWORDS        ((NBINS + 63) / 64)
#define FIT_WALK      32
#define RUN_SPAN_MAX  ((size_t)1 << 16) /* run spans are smaller: offsets in a run fit 16 bits */
#define PC_N          1024u /* entries of the page cache, a power of two */
#define PAGE_SHIFT    12    /* log2(LAB_PAGE_SIZE) */
#define ZONE_SHIFT    18    /* a zone is 256 KiB of the region */
#define ZONE_N        ((size_t)(LAB_DEFAULT_LIMIT >> ZONE_SHIFT)) /* zones with a bit */
#define MAP_FLOOR_MAX ((size_t)32 << 20)

#define F_ALLOC   ((uint64_t)1)
#define F_PREV    ((uint64_t)2)
#define F_RUN     ((uint64_t)4)
#define SIZE_MASK ((((uint64_t)1) << 48) - 8)

typedef struct run {
    uint16_t units;     /* slot size / 8 */
    uint16_t used;      /* slots handed out */
    uint16_t free_head; /* first free slot index, NO_SLOT if none */
    uint16_t fresh;     /* slots [fresh, cap) were never handed out */
    uint32_t next;      /* partial list links: (span - base) / 8 + 1, 0 = none */
    uint32_t prev;
} run_t;

/* Page cache entry of region page `page - 1` (page 0 = empty entry): the runs overlapping
 * that page lie in [start + 8 * lo, start + 8 * hi), start being the page's first byte, lo
 * the lowest run's start and hi the highest run's end; lo == hi when no run overlaps the
 * page. Runs are smaller than RUN_SPAN_MAX, so both fit 16 bits. */
typedef struct pcache {
    uint32_t page; /* page index + 1, 0 = entry unused */
    int16_t  lo;   /* (lowest run - start) / 8 */
    int16_t  hi;   /* (end of the highest run - start) / 8 */
} pcache_t;
_Static_assert(RUN_SPAN_MAX / 8 + LAB_PAGE_SIZE / 8 <= INT16_MAX, "page cache offsets fit");
_Static_assert(((size_t)1 << PAGE_SHIFT) == LAB_PAGE_SIZE, "PAGE_SHIFT matches the page size");

typedef struct fnode {
    uint64_t tag;
    uint8_t *next;
    uint8_t *prev;
} fnode_t;

typedef enum kind { K_SLOT, K_SPAN, K_MAP } kind_t;
typedef struct loc {
    kind_t   kind;
    uint8_t *s;   /* run span (K_SLOT) or span (K_SPAN) */
    size_t   idx; /* slot index (K_SLOT) or mapping size (K_MAP) */
} loc_t;

typedef struct hkfit {
    lab_mem_t *mem;
    uint8_t   *base, *top;   /* the region: base and break, mirrored from mem */
    size_t     align, gran, pad;
    size_t     map_floor;     /* smallest request that may get its own mapping */
    uint8_t   *rix_span;      /* span holding the run index (NULL when no runs) */
    uint32_t  *rix;           /* run span offsets / 8, ascending */
    size_t     rix_n, rix_cap;
    pcache_t   pc[PC_N];      /* page -> range of its runs, a cache of the index (not counted) */
    uint64_t   zones[ZONE_N / 64]; /* bit z set iff a run overlaps zone z (not counted) */
    /* Not adjacent on purpose: gcc turned "live_blocks--; block_bytes -= slot" in free into
     * 9 SSE instructions on the pair instead of 2 scalar ones. */
    size_t     live_blocks, map_blocks;
    size_t     block_bytes, map_bytes;
    size_t     free_spans, free_span_bytes;
    size_t     run_slots, run_slot_bytes; /* slots (and their bytes) of all runs */
    size_t     class_live[NCLASS]; /* live slots per class */
    uint8_t   *partial[NCLASS]; /* run spans with a free slot */
    uint64_t   binsum;         /* bit w set iff binmap[w] != 0 */
    uint64_t   binmap[NWORDS];
    uint8_t   *bins[NBINS];
} hkfit_t;

/* ---- Words, tags and spans ---- */

static uint64_t ld(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static void st(void *p, uint64_t v) { memcpy(p, &v, sizeof v); }

/* Multiply-shift hash of (address, size | A | R): the top 16 bits of (s ^ sizeflags) * K for
 * an odd K: one multiply. A word that is not the tag written at that address (user data, a
 * damaged tag, a tag copied from elsewhere) passes by accident with odds of about 2^-16.
 * It is a checksum, not a secret: a program that writes the right word on purpose into a
 * large block's payload can forge a tag there. Tags of spans that no longer exist are
 * zeroed (when merged away, or trimmed off at the break), so they are not stale. */
static uint64_t check16(const uint8_t *s, uint64_t sizeflags)
{
    return (((uint64_t)(uintptr_t)s ^ sizeflags) * 0x9e3779b97f4a7c15u) >> 48;
}
static uint64_t make_tag(const uint8_t *s, size_t size, uint64_t flags)
{
    return check16(s, size | (flags & (F_ALLOC | F_RUN))) << 48 | size | flags;
}
static bool tag_valid(const uint8_t *s, uint64_t t)
{
    return (t >> 48) == check16(s, t & (SIZE_MASK | F_ALLOC | F_RUN));
}
static size_t sz(const uint8_t *s) { return (size_t)(ld(s) & SIZE_MASK); }
static uint64_t flags(const uint8_t *s) { return ld(s) & 7; }
static void set_tag(uint8_t *s, size_t size, uint64_t fl) { st(s, make_tag(s, size, fl)); }
static void set_prev_bit(uint8_t *s, bool on)
{
    st(s, on ? ld(s) | F_PREV : ld(s) & ~F_PREV);
}
static uint8_t *hi(const hkfit_t *h) { return h->top; }
static uint8_t *lo(const hkfit_t *h) { return h->base + h->pad; }
static fnode_t *node(uint8_t *s) { return (fnode_t *)(void *)s; }
static run_t *run_of(uint8_t *s) { return (run_t *)(void *)(s + HDR); }
static uint8_t *slots(uint8_t *s) { return s + HDR + RUN_HDR; }
static size_t slot_size(const run_t *r) { return (size_t)r->units * 8; }
/* x / (8 * units) for x < RUN_SPAN_MAX: a multiply by ceil(2^32 / (8 * units)), exact there
 * because the rounding error x / 2^32 stays below the 1 / 512 gap to the next quotient. */
#define RECIP(u) ((uint32_t)((((uint64_t)1 << 32) + 8 * (u) - 1) / (8 * (u))))
#define RECIP8(u) RECIP(u), RECIP(u + 1), RECIP(u + 2), RECIP(u + 3), RECIP(u + 4), RECIP(u + 5), \
                  RECIP(u + 6), RECIP(u + 7)
static const uint32_t recip[NCLASS] = {0,          RECIP8(1),  RECIP8(9),  RECIP8(17),
                                       RECIP8(25), RECIP8(33), RECIP8(41), RECIP8(49),
                                       RECIP8(57)};
static size_t div_slot(size_t x, const run_t *r)
{
    return (size_t)(((uint64_t)x * recip[r->units]) >> 32);
}
static size_t run_cap(uint8_t *s) { return div_slot(sz(s) - HDR - RUN_HDR, run_of(s)); }
static size_t round_to(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

static size_t span_for(const hkfit_t *h, size_t n)
{
    size_t s = round_to(n + HDR, h->gran);
    return s < MIN_SPAN ? MIN_SPAN : s;
}

/* ---- Free span bins ---- */

static unsigned bin_of(size_t s)
{
    if (s < EXACT_BINS * 8)
        return (unsigned)(s >> 3);
    unsigned fl = 63u - (unsigned)__builtin_clzll(s);
    return EXACT_BINS + (fl - 10) * 16 + (unsigned)((s >> (fl - 4)) & 15);
}

/* First non-empty bin >= b, or NBINS: the summary word has bit w set iff binmap[w] != 0. */
static unsigned next_bin(const hkfit_t *h, unsigned b)
{
    if (b >= NBINS)
        return NBINS;
    unsigned w = b / 64;
    uint64_t m = h->binmap[w] & (~(uint64_t)0 << (b % 64));
    if (m)
        return w * 64 + (unsigned)__builtin_ctzll(m);
    uint64_t words = h->binsum & (~(uint64_t)1 << w); /* words above w */
    if (!words)
        return NBINS;
    w = (unsigned)__builtin_ctzll(words);
    return w * 64 + (unsigned)__builtin_ctzll(h->binmap[w]);
}

static inline __attribute__((always_inline)) void bin_insert(hkfit_t *h, uint8_t *s)
{
    unsigned b = bin_of(sz(s));
    node(s)->prev = NULL;
    node(s)->next = h->bins[b];
    if (h->bins[b])
        node(h->bins[b])->prev = s;
    h->bins[b] = s;
    h->binmap[b / 64] |= (uint64_t)1 << (b % 64);
    h->binsum |= (uint64_t)1 << (b / 64);
    h->free_spans++;
    h->free_span_bytes += sz(s);
}

static inline __attribute__((always_inline)) void bin_remove(hkfit_t *h, uint8_t *s)
{
    unsigned b = bin_of(sz(s));
    fnode_t *f = node(s);
    if (f->prev)
        node(f->prev)->next = f->next;
    else
        h->bins[b] = f->next;
    if (f->next)
        node(f->next)->prev = f->prev;
    if (!h->bins[b] && !(h->binmap[b / 64] &= ~((uint64_t)1 << (b % 64))))
        h->binsum &= ~((uint64_t)1 << (b / 64));
    h->free_spans--;
    h->free_span_bytes -= sz(s);
}

/* Smallest free span >= s among the first FIT_WALK of its bin, else of the next bin. */
static uint8_t *find_fit(hkfit_t *h, size_t s)
{
    uint8_t *best = NULL;
    size_t best_size = SIZE_MAX;
    unsigned b = bin_of(s);
    for (int pass = 0; pass < 2 && !best; pass++) {
        if (pass == 1 && (b = next_bin(h, b + 1)) >= NBINS)
            break;
        int k = 0;
        for (uint8_t *f = h->bins[b]; f && k < FIT_WALK; f = node(f)->next, k++) {
            size_t z = sz(f);
            if (z >= s && z < best_size) {
                best = f;
                best_size = z;
                if (z == s)
                    break;
            }
        }
    }
    return best;
}

/* ---- Spans: carve, grow, release ---- */

/* Takes s bytes at the start of free span f (already off its bin), splitting the rest. */
static uint8_t *carve(hkfit_t *h, uint8_t *f, size_t s, uint64_t fl)
{
    size_t z = sz(f);
    if (z - s >= MIN_SPAN) {
        uint8_t *rest = f + s;
        set_tag(rest, z - s, F_PREV);
        st(rest + (z - s) - 8, z - s);
        bin_insert(h, rest);
        z = s;
    } else if (f + z < hi(h)) {
        set_prev_bit(f + z, true);
    }
    set_tag(f, z, F_ALLOC | F_PREV | fl);
    return f;
}

/* Grows the region by exactly s bytes for a new top span (the old top is allocated). */
static uint8_t *grow(hkfit_t *h, size_t s, uint64_t fl)
{
    if (h->mem->brk < h->pad && !lab_mem_sbrk(h->mem, h->pad - h->mem->brk))
        return NULL;
    uint8_t *s0 = lab_mem_sbrk(h->mem, s);
    h->top = lab_mem_hi(h->mem);
    if (!s0)
        return NULL;
    set_tag(s0, s, F_ALLOC | F_PREV | fl);
    return s0;
}

static uint8_t *span_alloc(hkfit_t *h, size_t s, uint64_t fl)
{
    uint8_t *f = find_fit(h, s);
    if (!f)
        return grow(h, s, fl);
    bin_remove(h, f);
    return carve(h, f, s, fl);
}

/* Frees span s: coalesces with free neighbours, trims at the break, else bins it. */
static void span_release(hkfit_t *h, uint8_t *s)
{
    size_t z = sz(s);
    bool prev_alloc = (flags(s) & F_PREV) != 0;
    uint8_t *n = s + z;
    if (n < hi(h) && !(flags(n) & F_ALLOC)) {
        bin_remove(h, n);
        z += sz(n);
        st(n, 0);
    }
    if (!prev_alloc) {
        uint8_t *p = s - ld(s - 8);
        bin_remove(h, p);
        z += sz(p);
        st(s, 0);
        s = p;
    }
    if (s + z == hi(h)) {
        st(s, 0); /* no stale tag above the break for a later double free to find */
        lab_mem_trim(h->mem, z);
        h->top = lab_mem_hi(h->mem);
        return;
    }
    set_tag(s, z, F_PREV);
    st(s + z - 8, z);
    set_prev_bit(s + z, false);
    bin_insert(h, s);
}

/* ---- Run index: sorted offsets of run spans, kept in a span of its own ---- */

static uint32_t off8(const hkfit_t *h, const uint8_t *s)
{
    return (uint32_t)((size_t)(s - h->base) / 8);
}
static uint8_t *at8(const hkfit_t *h, uint32_t o) { return h->base + (size_t)o * 8; }

/* Number of index entries <= o. */
static size_t rix_upper(const hkfit_t *h, uint32_t o)
{
    size_t a = 0, b = h->rix_n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (h->rix[m] <= o)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* ---- Page cache: region page -> range of the runs overlapping it, filled from the index ---- */

static size_t page_of(const hkfit_t *h, const uint8_t *p)
{
    return (size_t)(p - h->base) / LAB_PAGE_SIZE;
}
static uint8_t *page_start(const hkfit_t *h, size_t k)
{
    return h->base + k * LAB_PAGE_SIZE;
}
static pcache_t *pc_entry(hkfit_t *h, size_t k) { return &h->pc[k & (PC_N - 1)]; }

/* The runs overlapping page k, from the index: a binary search for the first, then the
 * runs that start inside the page (*lo_run = NULL and *hi_end = NULL when there are none). */
static void page_runs(const hkfit_t *h, size_t k, uint8_t **lo_run, uint8_t **hi_end)
{
    uint8_t *ps = page_start(h, k), *pe = ps + LAB_PAGE_SIZE;
    size_t i = rix_upper(h, off8(h, ps));
    *lo_run = *hi_end = NULL;
    if (i > 0) {
        uint8_t *s = at8(h, h->rix[i - 1]);
        if (s + sz(s) > ps)
            *lo_run = s, *hi_end = s + sz(s);
    }
    for (; i < h->rix_n && at8(h, h->rix[i]) < pe; i++) {
        uint8_t *s = at8(h, h->rix[i]);
        if (!*lo_run)
            *lo_run = s;
        *hi_end = s + sz(s);
    }
}

/* 8-byte units from the start of page k to s (negative below the page). */
static int16_t pc_rel(const hkfit_t *h, size_t k, const uint8_t *s)
{
    return (int16_t)((s - page_start(h, k)) / 8);
}
static uint8_t *pc_at(const hkfit_t *h, size_t k, int16_t rel)
{
    return page_start(h, k) + (ptrdiff_t)rel * 8;
}

/* ---- Zones: which 256 KiB parts of the region hold runs at all ---- */

static size_t zone_of(const hkfit_t *h, const uint8_t *p)
{
    return (size_t)(p - h->base) >> ZONE_SHIFT;
}
static bool zone_bit(const hkfit_t *h, size_t z)
{
    return (h->zones[z / 64] >> (z % 64)) & 1;
}

/* False when no run overlaps page k, which a page cache miss then needs no search for
 * (zones beyond ZONE_N have no bit: maybe). */
static bool page_may_hold_run(const hkfit_t *h, size_t k)
{
    size_t z = k >> (ZONE_SHIFT - PAGE_SHIFT);
    return z >= ZONE_N || zone_bit(h, z);
}

/* Does a run of the index overlap [a, b)? */
static bool runs_overlap(const hkfit_t *h, const uint8_t *a, const uint8_t *b)
{
    size_t i = rix_upper(h, off8(h, a));
    if (i > 0 && at8(h, h->rix[i - 1]) + sz(at8(h, h->rix[i - 1])) > a)
        return true;
    return i < h->rix_n && at8(h, h->rix[i]) < b;
}

/* Sets the zone bits of run s, just added to the index. */
static void zones_add(hkfit_t *h, const uint8_t *s)
{
    for (size_t z = zone_of(h, s), last = zone_of(h, s + sz(s) - 1); z <= last && z < ZONE_N;
         z++)
        h->zones[z / 64] |= (uint64_t)1 << (z % 64);
}

/* Clears the zone bits of run s, just removed from index entry i, where no other run
 * overlaps the zone. Runs do not overlap and the index is sorted, so the only candidates
 * are s's neighbours in the index, now entries i - 1 and i. */
static void zones_del(hkfit_t *h, const uint8_t *s, size_t i)
{
    const uint8_t *below = i > 0 ? at8(h, h->rix[i - 1]) : NULL;
    const uint8_t *below_end = below ? below + sz(below) : NULL;
    const uint8_t *above = i < h->rix_n ? at8(h, h->rix[i]) : NULL;
    for (size_t z = zone_of(h, s), last = zone_of(h, s + sz(s) - 1); z <= last && z < ZONE_N;
         z++) {
        const uint8_t *zs = h->base + (z << ZONE_SHIFT), *ze = zs + ((size_t)1 << ZONE_SHIFT);
        if (!(below_end && below_end > zs) && !(above && above < ze))
            h->zones[z / 64] &= ~((uint64_t)1 << (z % 64));
    }
}

static void pc_fill(hkfit_t *h, pcache_t *e, size_t k)
{
    uint8_t *lo_run = NULL, *hi_end = NULL;
    if (page_may_hold_run(h, k))
        page_runs(h, k, &lo_run, &hi_end);
    *e = (pcache_t){(uint32_t)(k + 1), lo_run ? pc_rel(h, k, lo_run) : 0,
                    hi_end ? pc_rel(h, k, hi_end) : 0};
}

/* The run span containing p (base <= p < break), or NULL. A pointer outside the range of
 * runs on its page is settled by the cache entry alone; inside it, a walk along the tiling
 * of spans from the lowest run reaches p (the walk stays inside one page). */
static inline __attribute__((always_inline)) uint8_t *run_containing(hkfit_t *h,
                                                                     const uint8_t *p)
{
    size_t k = page_of(h, p);
    pcache_t *e = pc_entry(h, k);
    if (__builtin_expect(e->page != k + 1, 0))
        pc_fill(h, e, k);
    uint8_t *s = pc_at(h, k, e->lo);
    if (p < s || p >= pc_at(h, k, e->hi))
        return NULL;
    for (;;) {
        uint64_t t = ld(s);
        size_t z = (size_t)(t & SIZE_MASK);
        if (p < s + z)
            return (t & F_RUN) && tag_valid(s, t) ? s : NULL;
        if (z < MIN_SPAN)
            return NULL; /* damaged tiling: the span checks report it */
        s += z;
    }
}

/* Keeps the cached pages of run s exact when s is created (add) or released (!add). */
static void pc_update(hkfit_t *h, uint8_t *s, bool add)
{
    for (size_t k = page_of(h, s), b = page_of(h, s + sz(s) - 1); k <= b; k++) {
        pcache_t *e = pc_entry(h, k);
        if (e->page != k + 1)
            continue;
        int16_t so = pc_rel(h, k, s), eo = pc_rel(h, k, s + sz(s));
        if (add && e->lo == e->hi) {
            e->lo = so;
            e->hi = eo;
        } else if (add) {
            e->lo = so < e->lo ? so : e->lo;
            e->hi = eo > e->hi ? eo : e->hi;
        } else if (e->lo == so || e->hi == eo) {
            e->page = 0; /* refilled from the index on the next lookup */
        }
    }
}

static bool rix_reserve(hkfit_t *h)
{
    if (h->rix_n < h->rix_cap)
        return true;
    size_t cap = h->rix_cap ? h->rix_cap * 2 : 16;
    uint8_t *s = span_alloc(h, span_for(h, cap * sizeof *h->rix), 0);
    if (!s)
        return false;
    uint32_t *t = (uint32_t *)(void *)(s + HDR);
    if (h->rix_n)
        memcpy(t, h->rix, h->rix_n * sizeof *t);
    if (h->rix_span)
        span_release(h, h->rix_span);
    h->rix_span = s;
    h->rix = t;
    h->rix_cap = cap;
    return true;
}

static void rix_add(hkfit_t *h, uint8_t *s)
{
    uint32_t o = off8(h, s);
    size_t i = rix_upper(h, o);
    memmove(&h->rix[i + 1], &h->rix[i], (h->rix_n - i) * sizeof *h->rix);
    h->rix[i] = o;
    h->rix_n++;
    pc_update(h, s, true);
    zones_add(h, s);
}

static void rix_del(hkfit_t *h, uint8_t *s)
{
    size_t i = rix_upper(h, off8(h, s)) - 1;
    pc_update(h, s, false);
    memmove(&h->rix[i], &h->rix[i + 1], (h->rix_n - i - 1) * sizeof *h->rix);
    h->rix_n--;
    zones_del(h, s, i);
    if (h->rix_n == 0) {
        uint8_t *x = h->rix_span;
        h->rix_span = NULL;
        h->rix = NULL;
        h->rix_cap = 0;
        span_release(h, x);
    }
}

/* ---- Runs ---- */

static uint32_t link_of(const hkfit_t *h, const uint8_t *s) { return s ? off8(h, s) + 1 : 0; }
static uint8_t *span_of_link(const hkfit_t *h, uint32_t l) { return l ? at8(h, l - 1) : NULL; }

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

static uint64_t slot_mark(const uint8_t *p, unsigned next)
{
    return (((uint64_t)(uintptr_t)p * 0x9fb21c651e98df25u) & ~(uint64_t)0xffff) | next;
}
static bool slot_marked(const uint8_t *p) { return (ld(p) & ~(uint64_t)0xffff) == slot_mark(p, 0); }

/* A span for a run of `slot`-byte slots: the wanted size, else a hole it can fill. */
static uint8_t *run_span(hkfit_t *h, size_t slot)
{
    size_t cap = h->class_live[slot / 8] / CAP_DIV, max_cap = RUN_MAX_BYTES / slot;
    if (cap > max_cap)
        cap = max_cap;
    if (cap < RUN_MIN_CAP)
        cap = RUN_MIN_CAP;
    size_t want = round_to(HDR + RUN_HDR + cap * slot, h->gran);
    size_t least = round_to(HDR + RUN_HDR + slot, h->gran);
    uint8_t *f = find_fit(h, want);
    if (!f && least < want)
        f = find_fit(h, least); /* a hole the run can fill instead of growing */
    if (f) {
        bin_remove(h, f);
        /* a remainder too small for another run would only be a dead hole: take it */
        return carve(h, f, sz(f) < want + least ? sz(f) : want, F_RUN);
    }
    return grow(h, want, F_RUN);
}

static uint8_t *run_new(hkfit_t *h, size_t slot)
{
    if (!rix_reserve(h))
        return NULL;
    uint8_t *s = run_span(h, slot);
    if (!s)
        return NULL;
    *run_of(s) = (run_t){.units = (uint16_t)(slot / 8), .free_head = NO_SLOT};
    rix_add(h, s);
    partial_push(h, s);
    h->run_slots += run_cap(s);
    h->run_slot_bytes += run_cap(s) * slot;
    return s;
}

static void *small_malloc(hkfit_t *h, size_t n)
{
    size_t slot = round_to(n, h->align);
    uint8_t *s = h->partial[slot / 8];
    if (!s && !(s = run_new(h, slot)))
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

/* Is slot idx on the free list of run s? Only asked for a slot that carries a free mark,
 * which may be user data that looks like one: the list decides. */
static __attribute__((noinline, cold)) bool slot_on_free_list(uint8_t *s, size_t idx)
{
    run_t *r = run_of(s);
    size_t k = 0;
    for (unsigned i = r->free_head; i != NO_SLOT && k <= r->fresh; k++) {
        if (i == idx)
            return true;
        i = (unsigned)(ld(slots(s) + i * slot_size(r)) & 0xffff);
    }
    return false;
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
    if (slot_marked(p) && slot_on_free_list(s, *idx))
        return LAB_ERR_DOUBLE_FREE;
    return LAB_OK;
}

/* Releases run s, whose last slot was just freed. */
static __attribute__((noinline)) void run_release(hkfit_t *h, uint8_t *s)
{
    size_t cap = run_cap(s);
    partial_drop(h, s);
    h->run_slots -= cap;
    h->run_slot_bytes -= cap * slot_size(run_of(s));
    rix_del(h, s);
    span_release(h, s);
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
        run_release(h, s);
}

/* ---- Large spans and mappings ---- */

static bool want_map(const hkfit_t *h, size_t n)
{
    size_t r = lab_mem_round_page(n), slack = r >> 8;
    return n >= h->map_floor && r - n <= (slack > HDR ? slack : HDR);
}

static void *map_malloc(hkfit_t *h, size_t n)
{
    void *p = lab_mem_map(h->mem, n);
    if (p) {
        h->map_blocks++;
        h->map_bytes += lab_mem_round_page(n);
        h->live_blocks++;
        h->block_bytes += lab_mem_round_page(n);
    }
    return p;
}

static void map_free(hkfit_t *h, void *p, size_t size, bool raise_floor)
{
    lab_mem_unmap(h->mem, p, size);
    h->map_blocks--;
    h->map_bytes -= size;
    h->live_blocks--;
    h->block_bytes -= size;
    if (raise_floor && size + 1 > h->map_floor)
        h->map_floor = size + 1 < MAP_FLOOR_MAX ? size + 1 : MAP_FLOOR_MAX;
}

static void *large_malloc(hkfit_t *h, size_t n)
{
    if (want_map(h, n))
        return map_malloc(h, n);
    uint8_t *s = span_alloc(h, span_for(h, n), 0);
    if (!s)
        return NULL;
    h->live_blocks++;
    h->block_bytes += sz(s);
    return s + HDR;
}

static void large_free(hkfit_t *h, uint8_t *s)
{
    h->live_blocks--;
    h->block_bytes -= sz(s);
    span_release(h, s);
}

/* ---- Locating a pointer ---- */

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

/* Finds and validates any pointer p (the policy has LAB_SCREENS_POINTERS: dispatch.c does
 * not screen p first): foreign and misaligned as dispatch.c would say, then slot or span or
 * mapping, each with its own checks. */
static inline __attribute__((always_inline)) lab_err_t locate(hkfit_t *h, const void *cp,
                                                          loc_t *l)
{
    uint8_t *p = (uint8_t *)(uintptr_t)cp;
    if (p >= h->base && p < hi(h)) {
        if ((uintptr_t)p & (h->align - 1))
            return LAB_ERR_MISALIGNED;
        uint8_t *s = run_containing(h, p);
        if (s) {
            *l = (loc_t){K_SLOT, s, 0};
            return slot_locate(s, p, &l->idx);
        }
        /* At gran 8, p may be the end of a run: the word span_locate would read as p's
         * tag is then the last 8 bytes of the run's last slot, user data. */
        if (h->gran == 8 && p - HDR >= lo(h) && run_containing(h, p - HDR))
            return LAB_ERR_MISALIGNED;
        return span_locate(h, p, l);
    }
    const lab_mapping_t *m = lab_mem_find_mapping(h->mem, p);
    if (!m)
        return LAB_ERR_FOREIGN;
    if ((uintptr_t)p != m->addr)
        return LAB_ERR_MISALIGNED;
    *l = (loc_t){K_MAP, NULL, m->size};
    return LAB_OK;
}

/* ---- Policy operations ---- */

static int hkfit_init(void *stp, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    hkfit_t *h = stp;
    if (cfg->align > 16)
        return EINVAL; /* spans keep their tag at payload - 8; wider alignment needs pads */
    h->mem = mem;
    h->base = lab_mem_lo(mem);
    h->top = lab_mem_hi(mem);
    h->align = cfg->align;
    h->gran = cfg->align < 8 ? 8 : cfg->align;
    h->pad = h->gran - HDR;
    h->map_floor = LAB_PAGE_SIZE / 2;
    return 0;
}

static void *hkfit_malloc(void *stp, size_t n)
{
    hkfit_t *h = stp;
    return n <= SMALL_MAX ? small_malloc(h, n) : large_malloc(h, n);
}

static lab_err_t hkfit_free(void *stp, void *p)
{
    hkfit_t *h = stp;
    loc_t l;
    lab_err_t e = locate(h, p, &l);
    if (e != LAB_OK)
        return e;
    if (l.kind == K_SLOT)
        small_free(h, l.s, p, l.idx);
    else if (l.kind == K_SPAN)
        large_free(h, l.s);
    else
        map_free(h, p, l.idx, true);
    return LAB_OK;
}

static size_t usable(const loc_t *l)
{
    if (l->kind == K_SLOT)
        return slot_size(run_of(l->s));
    return l->kind == K_SPAN ? sz(l->s) - HDR : l->idx;
}

static size_t hkfit_usable_size(void *stp, const void *p)
{
    loc_t l;
    return locate(stp, p, &l) == LAB_OK ? usable(&l) : 0;
}

/* Resizes span s in place to `need` bytes if its neighbours or the break allow. */
static bool span_resize(hkfit_t *h, uint8_t *s, size_t need)
{
    size_t z = sz(s);
    uint8_t *n = s + z;
    uint64_t keep = flags(s) & F_PREV;
    if (need > z && n < hi(h) && !(flags(n) & F_ALLOC) && z + sz(n) >= need) {
        bin_remove(h, n);
        size_t nz = sz(n);
        st(n, 0);
        set_tag(s, z + nz, F_ALLOC | keep);
        if (s + z + nz < hi(h))
            set_prev_bit(s + z + nz, true);
        z += nz;
    } else if (need > z && n == hi(h)) {
        if (!lab_mem_sbrk(h->mem, need - z))
            return false;
        h->top = lab_mem_hi(h->mem);
        set_tag(s, need, F_ALLOC | keep);
        z = need;
    } else if (need > z) {
        return false;
    }
    if (z - need >= MIN_SPAN) { /* hand the tail back */
        set_tag(s, need, F_ALLOC | keep);
        set_tag(s + need, z - need, F_ALLOC | F_PREV);
        span_release(h, s + need);
        z = need;
    }
    return true;
}

static void *move_block(hkfit_t *h, void *p, const loc_t *l, size_t n)
{
    uint8_t *q = large_malloc(h, n);
    if (!q)
        return NULL;
    size_t old = usable(l);
    memcpy(q, p, old < n ? old : n);
    if (l->kind == K_SLOT)
        small_free(h, l->s, p, l->idx);
    else if (l->kind == K_SPAN)
        large_free(h, l->s);
    else
        map_free(h, p, l->idx, false);
    return q;
}

static void *hkfit_realloc(void *stp, void *p, size_t n, lab_err_t *err)
{
    hkfit_t *h = stp;
    loc_t l;
    if ((*err = locate(h, p, &l)) != LAB_OK)
        return NULL;
    if (l.kind == K_SLOT && n <= usable(&l))
        return p;
    if (l.kind == K_MAP && lab_mem_round_page(n) == l.idx)
        return p;
    if (l.kind == K_MAP && want_map(h, n)) {
        void *q = lab_mem_remap(h->mem, p, l.idx, n);
        if (q) {
            h->map_bytes += lab_mem_round_page(n) - l.idx;
            h->block_bytes += lab_mem_round_page(n) - l.idx;
            return q;
        }
    }
    if (l.kind == K_SPAN) {
        size_t before = sz(l.s);
        if (span_resize(h, l.s, span_for(h, n))) {
            h->block_bytes = h->block_bytes - before + sz(l.s);
            return p;
        }
    }
    void *q = move_block(h, p, &l, n);
    if (!q)
        *err = LAB_ERR_NOMEM;
    return q;
}

/* ---- Checker ---- */

#define RUN_SLOTS_MAX (RUN_SPAN_MAX / 8) /* more slots than any run has (H6) */

/* What the walk of the spans finds; it reports regions to fn when fn is not NULL. */
typedef struct walk {
    size_t live, bytes, free_spans, free_bytes, runs, partial, run_slots, run_slot_bytes;
    lab_walk_fn fn;
    void *ctx;
} walk_t;

/* Run s as regions: its tag and header (META), each slot (BLOCK when it was handed out and
 * is not on the free list, whose slots are the bits of `freed`; else FREE), its tail. */
static void emit_run(uint8_t *s, const uint64_t *freed, walk_t *w)
{
    run_t *run = run_of(s);
    size_t cap = run_cap(s), slot = slot_size(run);
    lab_walk_emit(w->fn, w->ctx, s, HDR + RUN_HDR, LAB_REGION_META, NULL);
    uint8_t *p = slots(s);
    for (size_t i = 0; i < cap; i++, p += slot) {
        bool live = i < run->fresh && !(freed[i / 64] >> (i % 64) & 1);
        lab_walk_emit(w->fn, w->ctx, p, slot, live ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      live ? p : NULL);
    }
    lab_walk_emit(w->fn, w->ctx, p, (size_t)(s + sz(s) - p), LAB_REGION_META, NULL);
}

static void check_run(hkfit_t *h, uint8_t *s, lab_report_t *r, walk_t *w)
{
    run_t *run = run_of(s);
    size_t cap = run_cap(s), nfree = 0, slot = slot_size(run);
    uint64_t freed[RUN_SLOTS_MAX / 64]; /* the walk's: slots on the free list */
    bool emit = w->fn && cap <= RUN_SLOTS_MAX; /* a damaged size: H6 reports it */
    if (emit)
        memset(freed, 0, (cap + 63) / 64 * sizeof *freed);
    LAB_EXPECT(r, slot >= h->align && slot <= SMALL_MAX && slot % h->align == 0,
               "H5: run %p has slot size %zu", (void *)s, slot);
    LAB_EXPECT(r, run->used >= 1 && run->used <= cap && run->fresh <= cap,
               "H5: run %p used %u fresh %u cap %zu", (void *)s, run->used, run->fresh, cap);
    for (unsigned i = run->free_head; i != NO_SLOT; nfree++) {
        if (i >= run->fresh || nfree > cap || !slot_marked(slots(s) + i * slot)) {
            lab_report_add(r, "H5: run %p free list broken at slot %u", (void *)s, i);
            return;
        }
        if (emit && i < cap)
            freed[i / 64] |= (uint64_t)1 << (i % 64);
        i = (unsigned)(ld(slots(s) + i * slot) & 0xffff);
    }
    LAB_EXPECT(r, run->used + nfree == run->fresh, "H5: run %p used %u + free %zu != fresh %u",
               (void *)s, run->used, nfree, run->fresh);
    w->partial += run->used < cap;
    w->live += run->used;
    w->bytes += run->used * slot;
    LAB_EXPECT(r, sz(s) < RUN_SPAN_MAX, "H6: run %p spans %zu bytes", (void *)s, sz(s));
    LAB_EXPECT(r, w->runs < h->rix_n && at8(h, h->rix[w->runs]) == s,
               "H6: run %p is not entry %zu of the index", (void *)s, w->runs);
    w->runs++;
    w->run_slots += cap;
    w->run_slot_bytes += cap * slot;
    if (emit)
        emit_run(s, freed, w);
    else
        lab_walk_emit(w->fn, w->ctx, s, sz(s), LAB_REGION_META, NULL);
}

static void check_free_span(hkfit_t *h, uint8_t *s, bool prev_free, lab_report_t *r, walk_t *w)
{
    size_t z = sz(s);
    LAB_EXPECT(r, ld(s + z - 8) == z, "H3: free span %p footer mismatch", (void *)s);
    LAB_EXPECT(r, !prev_free, "H3: free spans %p and its lower neighbour both free", (void *)s);
    LAB_EXPECT(r, s + z < hi(h), "H3: last span %p is free", (void *)s);
    unsigned b = bin_of(z);
    uint8_t *f = h->bins[b];
    for (size_t k = 0; f && f != s && k < h->free_spans; k++)
        f = node(f)->next;
    LAB_EXPECT(r, f == s, "H4: free span %p missing from bin %u", (void *)s, b);
    w->free_spans++;
    w->free_bytes += z;
}

/* H1-H5 over the spans that tile the region, for check() and walk() (w->fn): the pad
 * below the first span and the run index's span are META, a free span FREE, a large
 * block BLOCK, a run its header, slots and tail. */
static void check_spans(hkfit_t *h, lab_report_t *r, walk_t *w)
{
    bool prev_alloc = true;
    lab_walk_emit(w->fn, w->ctx, h->base, h->top > h->base ? h->pad : 0, LAB_REGION_META, NULL);
    for (uint8_t *s = lo(h); s < hi(h);) {
        uint64_t t = ld(s);
        size_t z = (size_t)(t & SIZE_MASK);
        if (!tag_valid(s, t) || z < MIN_SPAN || z % h->gran || z > (size_t)(hi(h) - s)) {
            lab_report_add(r, "H1: span %p has a bad tag %#llx", (void *)s, (unsigned long long)t);
            return;
        }
        LAB_EXPECT(r, ((t & F_PREV) != 0) == prev_alloc, "H2: span %p P bit wrong", (void *)s);
        if (!(t & F_ALLOC)) {
            check_free_span(h, s, !prev_alloc, r, w);
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_FREE, NULL);
        } else if (t & F_RUN) {
            check_run(h, s, r, w);
        } else if (s != h->rix_span) {
            w->live++;
            w->bytes += z;
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_BLOCK, s + HDR);
        } else {
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_META, NULL);
        }
        prev_alloc = (t & F_ALLOC) != 0;
        s += z;
    }
}

static void check_bins(hkfit_t *h, lab_report_t *r, const walk_t *w)
{
    size_t listed = 0, partial = 0;
    for (unsigned b = 0; b < NBINS; b++) {
        bool bit = (h->binmap[b / 64] >> (b % 64)) & 1;
        LAB_EXPECT(r, bit == (h->bins[b] != NULL), "H4: bitmap bit of bin %u is wrong", b);
        if (b % 64 == 0)
            LAB_EXPECT(r, ((h->binsum >> (b / 64)) & 1) == (h->binmap[b / 64] != 0),
                       "H4: summary bit of bitmap word %u is wrong", b / 64);
        for (uint8_t *f = h->bins[b]; f && listed <= w->free_spans; f = node(f)->next, listed++)
            LAB_EXPECT(r, bin_of(sz(f)) == b && !(flags(f) & F_ALLOC),
                       "H4: span %p in bin %u does not belong there", (void *)f, b);
    }
    LAB_EXPECT(r, listed == w->free_spans && h->free_spans == listed &&
                      h->free_span_bytes == w->free_bytes,
               "H4: %zu spans listed, %zu found, counter %zu", listed, w->free_spans, h->free_spans);
    for (size_t c = 0; c < NCLASS; c++)
        for (uint8_t *s = h->partial[c]; s && partial <= w->runs; s = span_of_link(h, run_of(s)->next)) {
            partial++;
            LAB_EXPECT(r, run_of(s)->units == c && run_of(s)->used < run_cap(s),
                       "H5: run %p on partial list %zu wrongly", (void *)s, c);
        }
    LAB_EXPECT(r, partial == w->partial, "H5: %zu runs on partial lists, %zu partial runs",
               partial, w->partial);
}

static int hkfit_check(void *stp, lab_report_t *r)
{
    hkfit_t *h = stp;
    int before = r->count;
    walk_t w = {0};
    LAB_EXPECT(r, h->base == lab_mem_lo(h->mem) && h->top == lab_mem_hi(h->mem),
               "H1: region mirror [%p, %p) is not the memory source's", (void *)h->base,
               (void *)h->top);
    check_spans(h, r, &w);
    if (r->count != before)
        return r->count - before;
    check_bins(h, r, &w);
    LAB_EXPECT(r, w.runs == h->rix_n, "H6: %zu runs found, index holds %zu", w.runs, h->rix_n);
    for (size_t i = 0; i < PC_N; i++) {
        const pcache_t *e = &h->pc[i];
        if (!e->page)
            continue;
        size_t k = e->page - 1;
        uint8_t *lo_run, *hi_end, *ps = page_start(h, k);
        page_runs(h, k, &lo_run, &hi_end);
        LAB_EXPECT(r, k % PC_N == i && pc_at(h, k, e->lo) == (lo_run ? lo_run : ps) &&
                          pc_at(h, k, e->hi) == (hi_end ? hi_end : ps),
                   "H6: page cache entry %zu (page %zu) holds runs [%p, %p), not the page's", i,
                   k, (void *)pc_at(h, k, e->lo), (void *)pc_at(h, k, e->hi));
    }
    size_t used_zones = h->top > h->base ? zone_of(h, h->top - 1) + 1 : 0;
    for (size_t z = 0; z < ZONE_N; z++) {
        if (z >= used_zones && z % 64 == 0 && !h->zones[z / 64]) {
            z += 63; /* a clear word beyond the break */
            continue;
        }
        const uint8_t *zs = h->base + (z << ZONE_SHIFT);
        bool want = z < used_zones && runs_overlap(h, zs, zs + ((size_t)1 << ZONE_SHIFT));
        LAB_EXPECT(r, zone_bit(h, z) == want, "H6: bit of zone %zu is %d, runs there: %d", z,
                   (int)zone_bit(h, z), (int)want);
    }
    size_t maps = h->mem->map_count, mbytes = h->mem->mapped;
    LAB_EXPECT(r, maps == h->map_blocks && mbytes == h->map_bytes,
               "H7: %zu mappings of %zu bytes, policy counts %zu of %zu", maps, mbytes,
               h->map_blocks, h->map_bytes);
    LAB_EXPECT(r, w.live + maps == h->live_blocks && w.bytes + mbytes == h->block_bytes,
               "H7: found %zu blocks / %zu bytes, counters say %zu / %zu", w.live + maps,
               w.bytes + mbytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, w.run_slots == h->run_slots && w.run_slot_bytes == h->run_slot_bytes,
               "H7: runs hold %zu slots / %zu bytes, counters say %zu / %zu", w.run_slots,
               w.run_slot_bytes, h->run_slots, h->run_slot_bytes);
    return r->count - before;
}

/* The spans' walk of hkfit_check, then each mapping: a header-less block. */
static void hkfit_walk(void *stp, lab_walk_fn fn, void *ctx)
{
    hkfit_t *h = stp;
    lab_report_t unused = {0};
    walk_t w = {0};
    w.fn = fn;
    w.ctx = ctx;
    check_spans(h, &unused, &w);
    for (size_t i = 0; i < h->mem->map_count; i++) {
        const lab_mapping_t *m = &h->mem->maps[i];
        lab_walk_emit(fn, ctx, (void *)m->addr, m->size, LAB_REGION_BLOCK, (void *)m->addr);
    }
}

static void hkfit_stats(void *stp, lab_stats_t *s)
{
    hkfit_t *h = stp;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    size_t live_slots = 0, live_slot_bytes = 0; /* free slots = run slots - live slots */
    for (size_t c = 1; c < NCLASS; c++) {
        live_slots += h->class_live[c];
        live_slot_bytes += h->class_live[c] * c * 8;
    }
    s->free_blocks = h->free_spans + h->run_slots - live_slots;
    s->free_bytes = h->free_span_bytes + h->run_slot_bytes - live_slot_bytes;
    unsigned b = NBINS;
    while (b > 0 && !h->bins[b - 1])
        b--;
    for (uint8_t *f = b ? h->bins[b - 1] : NULL; f; f = node(f)->next)
        if (sz(f) > s->largest_free)
            s->largest_free = sz(f);
    for (size_t c = NCLASS; c-- > 0 && s->largest_free < c * 8;)
        if (h->partial[c])
            s->largest_free = c * 8;
}

const lab_policy_t lab_policy_hkfit = {
    .name = "hkfit",
    .description = "heapkit fit: header-less class runs, tagged best fit, exact growth",
    .flags = LAB_SCREENS_POINTERS,
    .state_size = sizeof(hkfit_t),
    .init = hkfit_init,
    .malloc = hkfit_malloc,
    .free = hkfit_free,
    .realloc = hkfit_realloc,
    .usable_size = hkfit_usable_size,
    .check = hkfit_check,
    .stats = hkfit_stats,
    .walk = hkfit_walk,
};
