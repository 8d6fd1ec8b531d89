/*
 * gnu.c -- the GNU hybrid of the COS217 lecture (after glibc's ptmalloc): bins of
 *          boundary-tagged chunks in the sbrk region for small requests, and one
 *          mapping per request at or above cfg->mmap_threshold.
 *
 * Algorithm:   1. malloc(n), n >= threshold: map round_page(unit + n) bytes, flag the
 *                 chunk MAPPED (glibc's IS_MMAPPED).
 *              2. malloc(n), n < threshold: best fit over the bins. Exact bins hold one
 *                 size each; ranged bins (4 per power of two) are kept sorted by size,
 *                 so the first chunk that fits in the lowest non-empty bin is the best
 *                 fit. A bitmap of non-empty bins skips the empty ones. The chunk is
 *                 split when the rest can form a chunk. No fit: carve from the top
 *                 chunk, growing the region with sbrk when the top is too small.
 *              3. free: validate the pointer (a mapping start, or a region header with
 *                 its stamp and intact neighbours), then either unmap (MAPPED) or
 *                 coalesce at once with free neighbours and bin the result;
 *                 a chunk next to the top melts into it, and a top above
 *                 TRIM_THRESHOLD is given back to the region down to TOP_KEEP.
 *              4. realloc: in place when possible: shrink by splitting, grow into a
 *                 free next chunk or into the top (growing the region if needed, even
 *                 past the threshold: a growing buffer at the top is never copied);
 *                 mapped chunks are resized by remap; otherwise malloc, copy, free.
 *              Left out of glibc on purpose: fastbins, the unsorted bin, tcache, the
 *              last-remainder heuristic, the dynamic threshold and arenas. They trade
 *              memory for speed; this file models the lecture's mechanism.
 * Top pad:     none: the top grows by exactly the deficit and starts at min_chunk. The
 *              lab's break is exact and sbrk costs nothing, so glibc's page rounding and
 *              128 KiB pad would only raise the peak footprint the utilization is
 *              measured on (page rounding alone cost 4 points of mean utilization over
 *              the CS:APP traces, 33 on coalescing-bal). The price is one grow_calls
 *              count per top extension.
 * Layout:
 *
 *   lo    first                                                       top            brk
 *   | pad | chunk | chunk | ... | chunk | top chunk (free, in no bin) ........... |
 *   unit = cfg->align (>= 8); pad = unit - 8 bytes so that every payload is unit aligned
 *
 *           allocated chunk                      free chunk
 *   hdr ->  +-------------------------------+    +-------------------------------+
 *           | stamp | size    | M | P | A=1 |    | 0     | size    | 0 | P=1 | 0 |
 *   bp  ->  +-------------------------------+    +-------------------------------+
 *           | payload: size - 8 bytes       |    | next chunk in its bin         |
 *           |                               |    | previous chunk in its bin     |
 *           |                               |    | ...                           |
 *           |                               |    | footer: copy of the header    |
 *   next -> +-------------------------------+    +-------------------------------+
 *   A = allocated, P = the chunk below is allocated (so allocated chunks need no
 *   footer), M = MAPPED. size (bits 3-47) is a multiple of unit, >= min_chunk =
 *   max(32, unit). stamp (bits 48-63, allocated region chunks only) = 16 bits hashed
 *   from the address and a per-heap secret, top bit set: free rejects an interior
 *   pointer whose payload bytes happen to look like a header (glibc would not).
 *
 *   mapped chunk: map -> | pad (unit - 8) | size | M=1 | 0 | A=1 | payload ... |
 *                        size = the mapping's bytes; bp = map + unit
 *
 * Invariants:  G1 chunks tile [lo + unit - 8, brk) exactly; each size >= min_chunk and a
 *                 multiple of unit; the last one is the top
 *              G2 the top is free, never MAPPED, >= min_chunk, and in no bin
 *              G3 no two adjacent chunks are free (the top included)
 *              G4 P of every chunk equals A of the chunk below (P of the first is set)
 *              G5 every free chunk's footer equals its header
 *              G6 the bins hold exactly the free chunks besides the top, each in the bin
 *                 of its size, in doubly linked lists, ranged bins sorted by size; a
 *                 bin's bitmap bit is set iff the bin is non-empty (bitbins.h's M1, L1-L3:
 *                 the bins, their map and NULL-terminated lists are that helper's, with
 *                 this file's shape)
 *              G7 every live mapping is a MAPPED, allocated chunk whose size equals the
 *                 mapping's; region chunks are never MAPPED
 *              G8 the counters (live, block bytes, binned chunks and bytes) match G1-G7
 *              G9 allocated region chunks carry the stamp of their address; free
 *                 chunks and the top carry none
 *              gnu_check() verifies G1-G9; gnu_walk() reports its walks: the pad (META),
 *              each region chunk (BLOCK or FREE), the top (FREE: the stats count it as
 *              a free block), each mapped chunk (BLOCK, pad and page rounding included).
 * Cost:        malloc O(1) from an exact bin, else a bitmap scan plus the length of one
 *              ranged bin; free O(1) plus a sorted insert into a ranged bin; mapped
 *              requests cost one system call each way.
 * Pathology:   holes pinned between live chunks: binary-bal frees the 448-byte blocks
 *              between live 64-byte ones, then asks for 512 bytes, so no hole is ever
 *              reused (about 50% utilization, exactly like glibc's). Sorted ranged bins
 *              degrade to a list walk when many chunks share one. A mapped request
 *              wastes up to a page.
 */
#include "bitbins.h"
#include "blocks.h"
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define TAG_MAPPED     ((size_t)4)
#define STAMP_SHIFT    48 /* allocated region headers: stamp in 48-63 */
#define SIZE_BITS      (((size_t)1 << STAMP_SHIFT) - 1)
#define SMALL_LIMIT    ((size_t)1024) /* chunks below this size have exact bins */
#define NSMALL         128            /* SMALL_LIMIT / 8: enough for unit 8 */
#define PER_OCTAVE     4              /* ranged bins per power of two */
#define NBINS          384            /* NSMALL + 4 * 54 octaves, rounded to 64 */
#define TRIM_THRESHOLD ((size_t)128 << 10) /* give the top back above this size */
#define TOP_KEEP       LAB_PAGE_SIZE       /* and keep this much: no sbrk ping-pong */

typedef lab_binnode_t link_t;

/* Exact bins below SMALL_LIMIT, one unit apart (exact_shift is the heap's log2(unit):
 * shape_of), then 4 sorted range bins per power of two. */
static const lab_binshape_t gnu_bins = {
    .nbins = NBINS,
    .exact_max = SMALL_LIMIT - 1,
    .exact_shift = 3,
    .first_range = NSMALL,
    .range_lg = 10,
    .per_lg = 2,
    .size_lg_max = 63,
    .sorted_from = NSMALL,
};

typedef struct gnu {
    lab_mem_t *mem;
    size_t unit;      /* chunk granularity = payload alignment */
    unsigned shift;   /* log2(unit) */
    size_t min_chunk; /* header + two links + footer, rounded to unit */
    size_t threshold; /* requests >= this are mapped */
    uint64_t secret;  /* per-heap salt of the header stamps */
    char *first;      /* payload of the first chunk */
    char *top;        /* payload of the top chunk */
    size_t live_blocks, block_bytes;
    size_t bin_blocks, bin_bytes;
    uint64_t bitmap[LAB_BINMAP_WORDS(NBINS)];
    link_t  *bins[NBINS]; /* list heads, NULL when empty */
} gnu_t;

/* ---- Chunk helpers ---- */

static size_t tag_size(size_t tag)
{
    return lab_tag_size(tag) & SIZE_BITS;
}
static size_t size_of(void *bp)
{
    return tag_size(*lab_hdr(bp));
}
static bool is_alloc(size_t tag)
{
    return lab_tag_is_alloc(tag);
}
static bool prev_alloc(size_t tag)
{
    return lab_tag_has_prev_alloc(tag);
}
static link_t *node(char *bp)
{
    return (link_t *)(void *)bp;
}
static bool in_region(const gnu_t *g, const char *bp)
{
    return bp >= (char *)lab_mem_lo(g->mem) && bp < (char *)lab_mem_hi(g->mem);
}

/* 16 bits only a header this heap wrote at bp carries. The top bit is always set, so the
 * small integers and user-space pointers that fill payloads never pass for a header. */
static size_t stamp_of(const gnu_t *g, const char *bp)
{
    uint64_t h = ((uint64_t)(uintptr_t)bp ^ g->secret) * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)((h >> 49) | 0x8000) << STAMP_SHIFT;
}
static bool stamped(const gnu_t *g, const char *bp, size_t tag)
{
    return (tag & ~SIZE_BITS) == stamp_of(g, bp);
}
static void set_alloc_header(const gnu_t *g, char *bp, size_t size, size_t flags)
{
    *lab_hdr(bp) = lab_tag(size, LAB_TAG_ALLOC | flags) | stamp_of(g, bp);
}

static size_t chunk_size(const gnu_t *g, size_t n)
{
    size_t s = lab_round_up(n + LAB_WORD, g->unit);
    return s < g->min_chunk ? g->min_chunk : s;
}

/* ---- Sanity of what the heap memory says (user overflows can damage it) ---- */

/* Could a chunk of `size` bytes start at bp and end at or below the top? */
static bool plausible(const gnu_t *g, const char *bp, size_t size)
{
    return size >= g->min_chunk && size % g->unit == 0 && size <= (size_t)(g->top - bp);
}

/* A list link (not NULL) must point at a unit-aligned payload below the top. */
static bool link_sane(const gnu_t *g, const link_t *l)
{
    const char *p = (const char *)l;
    return p >= g->first && p < g->top && (uintptr_t)p % g->unit == 0;
}

static lab_binshape_t shape_of(const gnu_t *g)
{
    lab_binshape_t sh = gnu_bins;
    sh.exact_shift = g->shift;
    return sh;
}

static unsigned bin_index(const gnu_t *g, size_t size)
{
    lab_binshape_t sh = shape_of(g);
    return lab_bin_of(&sh, size);
}

/* Free chunk bp in [first, top) is intact: sane size, footer == header, and links that
 * point back at it, so unlinking it writes only where it should (glibc's safe unlink). */
static bool free_chunk_intact(const gnu_t *g, char *bp)
{
    size_t tag = *lab_hdr(bp);
    if (is_alloc(tag) || (tag & ~SIZE_BITS) || !plausible(g, bp, tag_size(tag)) ||
        *lab_ftr(bp) != tag)
        return false;
    const link_t *l = node(bp);
    bool prev_ok = l->prev ? link_sane(g, l->prev) && l->prev->next == l
                           : g->bins[bin_index(g, tag_size(tag))] == l;
    return prev_ok && (!l->next || (link_sane(g, l->next) && l->next->prev == l));
}

/* ---- Bins ---- */

/* Links bp in after the last chunk smaller than it (ranged bins stay sorted; exact bins get
 * it in front). Links read from the heap are checked first: an overflow may have damaged
 * a binned chunk, and then the walk stops there and bp goes in front, so that nothing is
 * written through the damaged link. */
static void bin_insert(gnu_t *g, char *bp, size_t size)
{
    lab_binshape_t sh = shape_of(g);
    unsigned i = lab_bin_of(&sh, size);
    size_t steps = g->bin_blocks;
    link_t *after = NULL, *at = g->bins[i];
    if (i >= NSMALL)
        for (; at && link_sane(g, at) && size_of(at) < size && steps-- > 0; at = at->next)
            after = at;
    if (at && !link_sane(g, at))
        after = NULL;
    lab_bin_link_after(&sh, g->bins, g->bitmap, i, after, node(bp));
    g->bin_blocks++;
    g->bin_bytes += size;
}

static void bin_remove(gnu_t *g, char *bp)
{
    lab_binshape_t sh = shape_of(g);
    lab_bin_remove(&sh, g->bins, g->bitmap, lab_bin_of(&sh, size_of(bp)), node(bp));
    g->bin_blocks--;
    g->bin_bytes -= size_of(bp);
}

/* Best fit: the smallest binned chunk of at least `need` bytes, unlinked; NULL if none.
 * A damaged chunk (failing free_chunk_intact) is passed over and stays where check()
 * will report it; a damaged link ends the walk of its bin. */
static char *take_best_fit(gnu_t *g, size_t need)
{
    lab_binshape_t sh = shape_of(g);
    for (unsigned i = lab_bin_next(&sh, g->bitmap, lab_bin_of(&sh, need)); i < NBINS;
         i = lab_bin_next(&sh, g->bitmap, i + 1)) {
        size_t steps = g->bin_blocks;
        for (link_t *l = g->bins[i]; l && link_sane(g, l) && steps-- > 0; l = l->next)
            if (size_of(l) >= need && free_chunk_intact(g, (char *)l)) {
                bin_remove(g, (char *)l);
                return (char *)l;
            }
    }
    return NULL;
}

/* ---- The top chunk ---- */

static size_t top_size(const gnu_t *g)
{
    return size_of(g->top);
}
static void set_top(gnu_t *g, char *bp, size_t size)
{
    g->top = bp;
    *lab_hdr(bp) = lab_tag(size, LAB_TAG_PREV_ALLOC); /* G3: the chunk below is allocated */
}

/* Grows the top by exactly the deficit (in units): the lab's break is exact, so rounding up
 * to pages or padding would only raise the peak footprint. */
static bool grow_top(gnu_t *g, size_t deficit)
{
    size_t grow = lab_round_up(deficit, g->unit);
    if (!lab_mem_sbrk(g->mem, grow))
        return false;
    set_top(g, g->top, top_size(g) + grow);
    return true;
}

static void trim_top(gnu_t *g)
{
    size_t size = top_size(g);
    if (size < TRIM_THRESHOLD)
        return;
    size_t release = (size - TOP_KEEP) & ~(LAB_PAGE_SIZE - 1);
    lab_mem_trim(g->mem, release);
    set_top(g, g->top, size - release);
}

/* Carves `need` bytes off the bottom of the top; NULL when the region cannot grow. */
static char *take_from_top(gnu_t *g, size_t need)
{
    size_t size = top_size(g);
    if (size < need + g->min_chunk) {
        if (!grow_top(g, need + g->min_chunk - size))
            return NULL;
        size = top_size(g);
    }
    char *bp = g->top;
    set_alloc_header(g, bp, need, LAB_TAG_PREV_ALLOC);
    set_top(g, bp + need, size - need);
    return bp;
}

/* ---- Region chunks ---- */

/* Marks free chunk bp (unlinked) allocated, splitting off a binned rest when it is large enough. */
static void place(gnu_t *g, char *bp, size_t need)
{
    size_t size = size_of(bp); /* a free chunk's P is always set (G3) */
    if (size - need >= g->min_chunk) {
        set_alloc_header(g, bp, need, LAB_TAG_PREV_ALLOC);
        lab_set_tags(bp + need, size - need, LAB_TAG_PREV_ALLOC);
        bin_insert(g, bp + need, size - need);
    } else {
        set_alloc_header(g, bp, size, LAB_TAG_PREV_ALLOC);
        *lab_hdr(bp + size) |= LAB_TAG_PREV_ALLOC;
    }
}

/* Turns allocated chunk bp into free space: coalesce, then bin it or melt it into the top. */
static void release(gnu_t *g, char *bp)
{
    size_t size = size_of(bp);
    char *next = bp + size;
    /* No stamp, A clear: should it end up inside a bigger chunk, the stale header still
     * tells a double free of bp apart from a live chunk. */
    *lab_hdr(bp) = lab_tag(size, *lab_hdr(bp) & LAB_TAG_PREV_ALLOC);
    if (!prev_alloc(*lab_hdr(bp))) {
        bp = lab_prev_blk(bp);
        bin_remove(g, bp);
        size += size_of(bp);
    }
    if (next == g->top) {
        set_top(g, bp, size + top_size(g));
        trim_top(g);
        return;
    }
    if (is_alloc(*lab_hdr(next))) {
        *lab_hdr(next) &= ~LAB_TAG_PREV_ALLOC;
    } else {
        bin_remove(g, next);
        size += size_of(next);
    }
    lab_set_tags(bp, size, LAB_TAG_PREV_ALLOC);
    bin_insert(g, bp, size);
}

/* Keeps `need` bytes of allocated chunk bp and frees the rest when it can form a chunk. */
static void shrink_to(gnu_t *g, char *bp, size_t need)
{
    size_t size = size_of(bp), p = *lab_hdr(bp) & LAB_TAG_PREV_ALLOC;
    if (size - need < g->min_chunk)
        return;
    set_alloc_header(g, bp, need, p);
    set_alloc_header(g, bp + need, size - need, LAB_TAG_PREV_ALLOC);
    g->block_bytes -= size - need;
    release(g, bp + need);
}

/* Grows allocated chunk bp to at least `need` bytes into its free successor or the top. */
static bool grow_in_place(gnu_t *g, char *bp, size_t need)
{
    size_t size = size_of(bp), p = *lab_hdr(bp) & LAB_TAG_PREV_ALLOC;
    char *next = bp + size;
    if (next == g->top) {
        size_t total = size + top_size(g);
        if (total < need + g->min_chunk) {
            if (!grow_top(g, need + g->min_chunk - total))
                return false;
            total = size + top_size(g);
        }
        set_alloc_header(g, bp, need, p);
        set_top(g, bp + need, total - need);
        g->block_bytes += need - size;
        return true;
    }
    if (is_alloc(*lab_hdr(next)) || size + size_of(next) < need)
        return false;
    bin_remove(g, next);
    g->block_bytes += size_of(next);
    size += size_of(next);
    set_alloc_header(g, bp, size, p);
    *lab_hdr(bp + size) |= LAB_TAG_PREV_ALLOC;
    return true;
}

/* The chunk below bp, which bp's P bit says is free, is found by its footer and intact. */
static bool free_prev_intact(const gnu_t *g, char *bp)
{
    if (bp == g->first)
        return false;
    size_t size = tag_size(*((size_t *)(void *)bp - 2));
    if (size < g->min_chunk || size % g->unit || size > (size_t)(bp - g->first))
        return false;
    return free_chunk_intact(g, bp - size);
}

/* The chunk above an allocated chunk agrees that it is allocated, and is intact itself. */
static bool next_intact(const gnu_t *g, char *next)
{
    size_t tag = *lab_hdr(next);
    if (!prev_alloc(tag))
        return false;
    if (next == g->top)
        return true;
    return is_alloc(tag) ? stamped(g, next, tag) : free_chunk_intact(g, next);
}

/* Is region pointer bp a live chunk, with neighbours intact enough to coalesce with?
 * Every read stays inside [lo, top + 8); nothing is written. */
static lab_err_t validate_region(const gnu_t *g, char *bp)
{
    if (bp < g->first)
        return LAB_ERR_MISALIGNED;
    size_t tag = *lab_hdr(bp), size = tag_size(tag);
    if (bp >= g->top) /* inside the top: never a live chunk */
        return bp == g->top || !is_alloc(tag) ? LAB_ERR_DOUBLE_FREE : LAB_ERR_MISALIGNED;
    if (!is_alloc(tag))
        return plausible(g, bp, size) ? LAB_ERR_DOUBLE_FREE : LAB_ERR_MISALIGNED;
    if (!stamped(g, bp, tag))
        return LAB_ERR_MISALIGNED; /* payload bytes, not a header: an interior pointer */
    if ((tag & TAG_MAPPED) || !plausible(g, bp, size) || !next_intact(g, bp + size))
        return LAB_ERR_CORRUPT;
    if (!prev_alloc(tag) && !free_prev_intact(g, bp))
        return LAB_ERR_CORRUPT;
    return LAB_OK;
}

/* ---- Mapped chunks ---- */

static char *map_chunk(gnu_t *g, size_t n)
{
    char *map = lab_mem_map(g->mem, g->unit + n);
    if (!map)
        return NULL;
    size_t size = lab_mem_round_page(g->unit + n);
    char *bp = map + g->unit;
    *lab_hdr(bp) = lab_tag(size, TAG_MAPPED | LAB_TAG_ALLOC);
    g->live_blocks++;
    g->block_bytes += size;
    return bp;
}

/* The mapping of mapped chunk bp, or NULL when bp is not the payload of an intact one. */
static const lab_mapping_t *validate_mapped(const gnu_t *g, char *bp, lab_err_t *e)
{
    const lab_mapping_t *map = lab_mem_find_mapping(g->mem, bp);
    *e = LAB_ERR_FOREIGN;
    if (!map)
        return NULL;
    *e = LAB_ERR_MISALIGNED;
    if ((uintptr_t)bp != map->addr + g->unit)
        return NULL;
    *e = LAB_ERR_CORRUPT;
    if (*lab_hdr(bp) != lab_tag(map->size, TAG_MAPPED | LAB_TAG_ALLOC))
        return NULL;
    *e = LAB_OK;
    return map;
}

static lab_err_t unmap_chunk(gnu_t *g, char *bp)
{
    lab_err_t e;
    const lab_mapping_t *map = validate_mapped(g, bp, &e);
    if (!map)
        return e;
    size_t size = map->size;
    lab_mem_unmap(g->mem, (void *)map->addr, size);
    g->live_blocks--;
    g->block_bytes -= size;
    return LAB_OK;
}

static char *remap_chunk(gnu_t *g, char *bp, size_t n, lab_err_t *err)
{
    const lab_mapping_t *map = validate_mapped(g, bp, err);
    if (!map)
        return NULL;
    size_t old = map->size, size = lab_mem_round_page(g->unit + n);
    if (size == old)
        return bp;
    char *q = lab_mem_remap(g->mem, (void *)map->addr, old, size);
    if (!q) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    bp = q + g->unit;
    *lab_hdr(bp) = lab_tag(size, TAG_MAPPED | LAB_TAG_ALLOC);
    g->block_bytes = g->block_bytes - old + size;
    return bp;
}

/* ---- Operations ---- */

static int gnu_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    gnu_t *g = st;
    g->mem = mem;
    g->unit = cfg->align;
    g->shift = (unsigned)__builtin_ctzll((unsigned long long)g->unit);
    g->min_chunk = g->unit > 4 * LAB_WORD ? g->unit : 4 * LAB_WORD;
    g->threshold = cfg->mmap_threshold ? cfg->mmap_threshold : (size_t)128 << 10;
    g->secret = (uint64_t)(uintptr_t)g * UINT64_C(0xbf58476d1ce4e5b9);
    char *lo = lab_mem_sbrk(mem, g->unit - LAB_WORD + g->min_chunk);
    if (!lo)
        return ENOMEM;
    g->first = lo + g->unit;
    set_top(g, g->first, g->min_chunk);
    return 0;
}

static void *gnu_malloc(void *st, size_t n)
{
    gnu_t *g = st;
    if (n >= g->threshold)
        return map_chunk(g, n);
    size_t need = chunk_size(g, n);
    char *bp = take_best_fit(g, need);
    if (bp)
        place(g, bp, need);
    else if (!(bp = take_from_top(g, need)))
        return NULL;
    g->live_blocks++;
    g->block_bytes += size_of(bp);
    return bp;
}

static lab_err_t gnu_free(void *st, void *p)
{
    gnu_t *g = st;
    char *bp = p;
    if (!in_region(g, bp))
        return unmap_chunk(g, bp);
    lab_err_t e = validate_region(g, bp);
    if (e != LAB_OK)
        return e;
    g->live_blocks--;
    g->block_bytes -= size_of(bp);
    release(g, bp);
    return LAB_OK;
}

static void *gnu_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    gnu_t *g = st;
    char *bp = p;
    if (!in_region(g, bp))
        return remap_chunk(g, bp, n, err);
    if ((*err = validate_region(g, bp)) != LAB_OK)
        return NULL;
    size_t need = chunk_size(g, n), size = size_of(bp);
    if (need <= size || grow_in_place(g, bp, need)) {
        shrink_to(g, bp, need);
        return bp;
    }
    char *q = gnu_malloc(g, n);
    if (!q) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    memcpy(q, bp, size - LAB_WORD);
    g->live_blocks--;
    g->block_bytes -= size;
    release(g, bp);
    return q;
}

static size_t gnu_usable_size(void *st, const void *p)
{
    gnu_t *g = st;
    char *bp = (char *)(uintptr_t)p;
    lab_err_t e;
    if (!in_region(g, bp))
        return validate_mapped(g, bp, &e) ? size_of(bp) - g->unit : 0;
    return validate_region(g, bp) == LAB_OK ? size_of(bp) - LAB_WORD : 0;
}

/* ---- Checker ---- */

typedef struct census {
    size_t live, live_bytes, free_chunks, free_bytes, bin_chunks, bin_bytes, maps, map_bytes;
} census_t;

/* G1-G5: walks the region chunk by chunk up to the top, for check() and walk(), which
 * passes fn: the pad in front (META), each chunk (BLOCK or FREE), the top (FREE). */
static void check_region(const gnu_t *g, lab_report_t *r, census_t *c, lab_walk_fn fn, void *ctx)
{
    char *lo = (char *)lab_mem_lo(g->mem), *hi = (char *)lab_mem_hi(g->mem);
    LAB_EXPECT(r, g->first == lo + g->unit, "G1: first chunk at %p, region at %p", (void *)g->first,
               (void *)lo);
    if (!(g->top >= g->first && g->top < hi)) {
        lab_report_add(r, "G1: top %p outside the region", (void *)g->top);
        return;
    }
    lab_walk_emit(fn, ctx, lo, (size_t)(g->first - lo) - LAB_WORD, LAB_REGION_META, NULL);
    bool below_free = false;
    char *bp = g->first;
    for (; bp < g->top; bp += size_of(bp)) {
        size_t tag = *lab_hdr(bp), size = tag_size(tag);
        if (!plausible(g, bp, size)) {
            lab_report_add(r, "G1: chunk %p has bad size %zu", (void *)bp, size);
            return;
        }
        LAB_EXPECT(r, prev_alloc(tag) == !below_free, "G4: chunk %p has a wrong P bit", (void *)bp);
        LAB_EXPECT(r, !(tag & TAG_MAPPED), "G7: region chunk %p is flagged MAPPED", (void *)bp);
        LAB_EXPECT(r, is_alloc(tag) ? stamped(g, bp, tag) : !(tag & ~SIZE_BITS),
                   "G9: chunk %p has a wrong stamp", (void *)bp);
        lab_walk_emit(fn, ctx, lab_hdr(bp), size,
                      is_alloc(tag) ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      is_alloc(tag) ? bp : NULL);
        if (is_alloc(tag)) {
            c->live++;
            c->live_bytes += size;
        } else {
            LAB_EXPECT(r, !below_free, "G3: free chunks %p and the one below are adjacent",
                       (void *)bp);
            size_t footer = *(size_t *)(void *)(bp + size - 2 * LAB_WORD); /* size is plausible */
            LAB_EXPECT(r, footer == tag, "G5: free chunk %p: footer %#zx, header %#zx", (void *)bp,
                       footer, tag);
            c->free_chunks++;
            c->free_bytes += size;
        }
        below_free = !is_alloc(tag);
    }
    size_t tag = *lab_hdr(g->top), size = tag_size(tag);
    LAB_EXPECT(r,
               !is_alloc(tag) && !(tag & (TAG_MAPPED | ~SIZE_BITS)) && size >= g->min_chunk &&
                   size % g->unit == 0,
               "G2: top %p has tag %#zx", (void *)g->top, tag);
    LAB_EXPECT(r, (size_t)(hi - g->top) + LAB_WORD == size,
               "G1: top of %zu bytes at %p, the break is at %p", size, (void *)g->top, (void *)hi);
    LAB_EXPECT(r, !below_free, "G3: the chunk below the top is free");
    LAB_EXPECT(r, prev_alloc(tag) == !below_free, "G4: the top has a wrong P bit");
    lab_walk_emit(fn, ctx, lab_hdr(g->top), (size_t)(hi - g->top) + LAB_WORD, LAB_REGION_FREE,
                  NULL);
}

/* The size of the free chunk whose links are at n, or 0 when n is not a binned chunk's. */
static size_t binned_size(const void *ctx, const lab_binnode_t *n)
{
    const gnu_t *g = ctx;
    if (!link_sane(g, n))
        return 0;
    size_t tag = *lab_hdr((void *)(uintptr_t)n);
    return is_alloc(tag) ? 0 : tag_size(tag);
}

/* G6: the bins and their map (bitbins.h's checker), then the bytes they hold. */
static void check_bins(const gnu_t *g, lab_report_t *r, census_t *c)
{
    lab_binshape_t sh = shape_of(g);
    int before = r->count;
    c->bin_chunks = lab_bins_check(&sh, g->bins, g->bitmap, binned_size, g, c->free_chunks, "G6",
                                   r);
    if (r->count != before)
        return; /* a list may be broken: its bytes cannot be summed */
    for (unsigned i = 0; i < NBINS; i++)
        for (const link_t *l = g->bins[i]; l; l = l->next)
            c->bin_bytes += size_of((void *)(uintptr_t)l);
}

/* G7: every live mapping is one of our mapped chunks (for walk(): a BLOCK each). */
static void check_mappings(const gnu_t *g, lab_report_t *r, census_t *c, lab_walk_fn fn, void *ctx)
{
    const lab_mem_t *m = g->mem;
    for (size_t i = 0; i < m->map_count; i++) {
        char *bp = (char *)m->maps[i].addr + g->unit;
        LAB_EXPECT(r, *lab_hdr(bp) == lab_tag(m->maps[i].size, TAG_MAPPED | LAB_TAG_ALLOC),
                   "G7: mapping %p of %zu bytes has header %#zx", (void *)m->maps[i].addr,
                   m->maps[i].size, *lab_hdr(bp));
        lab_walk_emit(fn, ctx, (void *)m->maps[i].addr, m->maps[i].size, LAB_REGION_BLOCK, bp);
        c->maps++;
        c->map_bytes += m->maps[i].size;
    }
}

static int gnu_check(void *st, lab_report_t *r)
{
    gnu_t *g = st;
    int before = r->count;
    census_t c = {0};
    check_region(g, r, &c, NULL, NULL);
    if (r->count != before)
        return r->count - before; /* the walk is unreliable: bin checks would mislead */
    check_bins(g, r, &c);
    check_mappings(g, r, &c, NULL, NULL);
    LAB_EXPECT(r, c.bin_chunks == c.free_chunks && c.bin_bytes == c.free_bytes,
               "G6: bins hold %zu chunks (%zu bytes), the walk found %zu (%zu bytes)", c.bin_chunks,
               c.bin_bytes, c.free_chunks, c.free_bytes);
    LAB_EXPECT(r, g->live_blocks == c.live + c.maps, "G8: live_blocks %zu, found %zu",
               g->live_blocks, c.live + c.maps);
    LAB_EXPECT(r, g->block_bytes == c.live_bytes + c.map_bytes, "G8: block_bytes %zu, found %zu",
               g->block_bytes, c.live_bytes + c.map_bytes);
    LAB_EXPECT(r, g->bin_blocks == c.bin_chunks && g->bin_bytes == c.bin_bytes,
               "G8: bin counters %zu/%zu, found %zu/%zu", g->bin_blocks, g->bin_bytes, c.bin_chunks,
               c.bin_bytes);
    return r->count - before;
}

/* The region's walk, then the mappings': the walks of gnu_check. */
static void gnu_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    census_t c = {0};
    check_region(st, &unused, &c, fn, ctx);
    check_mappings(st, &unused, &c, fn, ctx);
}

/* ---- Statistics ---- */

/* The largest binned chunk: the last of the highest non-empty bin (ranged bins are sorted,
 * an exact bin holds one size). */
static size_t largest_binned(const gnu_t *g)
{
    lab_binshape_t sh = shape_of(g);
    unsigned i = lab_bin_last(&sh, g->bitmap);
    if (i >= NBINS)
        return 0;
    const link_t *l = g->bins[i];
    for (size_t steps = g->bin_blocks; l->next && steps-- > 0;)
        l = l->next;
    return size_of((void *)(uintptr_t)l);
}

/* The top counts as one free block: it is free memory malloc hands out. */
static void gnu_stats(void *st, lab_stats_t *s)
{
    gnu_t *g = st;
    size_t top = top_size(g), binned = largest_binned(g);
    s->live_blocks = g->live_blocks;
    s->block_bytes = g->block_bytes;
    s->free_blocks = g->bin_blocks + 1;
    s->free_bytes = g->bin_bytes + top;
    s->largest_free = binned > top ? binned : top;
}

const lab_policy_t lab_policy_gnu = {
    .name = "gnu",
    .description = "GNU hybrid: best-fit bins with boundary tags below the mmap threshold, "
                   "a mapping per request above",
    .state_size = sizeof(gnu_t),
    .init = gnu_init,
    .malloc = gnu_malloc,
    .free = gnu_free,
    .realloc = gnu_realloc,
    .usable_size = gnu_usable_size,
    .check = gnu_check,
    .stats = gnu_stats,
    .walk = gnu_walk,
};
