/*
 * hkfit.h -- what hkfit's files share: the constants, the policy state and the functions
 *            one file gives the others. Not an interface of the lab: the policy's only
 *            external symbol is lab_policy_hkfit (hkfit.c).
 *
 * Files:       one concept each; a file that defines an in-memory format draws it at its
 *              top, with the invariants of it that hkfit_check() verifies:
 *   hkfit.c           the policy: algorithm, method table, malloc/free/realloc, locate
 *   hkfit_span.h/.c   spans: the tag word, boundary tags, the free span bins       H1-H4
 *   hkfit_run.h/.c    runs: header-less slots of one class, free marks, partials   H5
 *   hkfit_index.c     the run index (sorted run offsets, in a span) and zone bits  H6
 *   hkfit_pcache.h/.c the page cache: region page -> the range its runs cover      H6
 *   hkfit_map.c       page-exact mappings, the mapping floor, large requests       H7
 *   hkfit_check.c     the checker and the walk over all of them, stats            H1-H7
 *              Hot helpers are static inline in the headers, so malloc, free and realloc
 *              compile into one function each as they did in one file; cold paths (run
 *              creation and release, cache fills, the checker) are calls between files.
 */
#ifndef LAB_HKFIT_H
#define LAB_HKFIT_H

#include "bitbins.h"
#include "policy.h"

#include <stdbool.h>
#include <string.h>

/* ---- Constants ---- */

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

/* ---- Types and the state ---- */

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
    uint64_t   binmap[LAB_BINMAP_WORDS(NBINS)]; /* non-empty bins, and their summary */
    lab_binnode_t *bins[NBINS]; /* free spans, by the links after their tag */
} hkfit_t;

/* ---- Words and offsets ---- */

static inline uint64_t ld(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st(void *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static inline uint8_t *hi(const hkfit_t *h) { return h->top; }
static inline uint8_t *lo(const hkfit_t *h) { return h->base + h->pad; }
static inline uint32_t off8(const hkfit_t *h, const uint8_t *s)
{
    return (uint32_t)((size_t)(s - h->base) / 8);
}
static inline uint8_t *at8(const hkfit_t *h, uint32_t o) { return h->base + (size_t)o * 8; }

static inline size_t round_to(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

/* ---- What one file gives the others ---- */

/* hkfit_index.c: the run index and the zone bits */
/* The runs overlapping page k: the lowest run and the end of the highest (NULL: none). */
void hkfit_page_runs(const hkfit_t *h, size_t k, uint8_t **lo_run, uint8_t **hi_end);
/* False when no run overlaps page k (its zone bit is clear), so a cache miss needs no search. */
bool hkfit_page_may_hold_run(const hkfit_t *h, size_t k);
/* Room in the index for one more run (it may move to a larger span); false: out of memory. */
bool hkfit_rix_reserve(hkfit_t *h);
/* Enters new run s (reserved before), or removes released run s, keeping the page cache
 * and the zone bits exact; the last run's removal releases the index's span. */
void hkfit_rix_add(hkfit_t *h, uint8_t *s);
void hkfit_rix_del(hkfit_t *h, uint8_t *s);
/* H6, the zone part. */
void hkfit_zones_check(const hkfit_t *h, lab_report_t *r);

/* hkfit_map.c: mappings and large requests */
/* Does a request of n bytes get a mapping of its own (page-exact, above the floor)? */
bool hkfit_want_map(const hkfit_t *h, size_t n);
/* Unmaps the block p of `size` bytes; raise_floor: a free (not a move), so the floor rises. */
void hkfit_map_free(hkfit_t *h, void *p, size_t size, bool raise_floor);
/* malloc(n > SMALL_MAX): a mapping or a span; NULL when out of memory. */
void *hkfit_large_malloc(hkfit_t *h, size_t n);

/* hkfit_check.c: the methods that read the whole heap */
int  hkfit_check(void *stp, lab_report_t *r);
void hkfit_walk(void *stp, lab_walk_fn fn, void *ctx);
void hkfit_stats(void *stp, lab_stats_t *s);

#endif
