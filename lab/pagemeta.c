/*
 * pagemeta.c -- segregated metadata (COS217 "Dynamic Memory Management"): blocks have
 *               no header; one size class per page, and a page table says what each
 *               page holds.
 *
 * Algorithm:   1. malloc(n <= MAX_SMALL): round n up to its class and pop the head of
 *                 the class's free list (LIFO, linked through the free objects). An
 *                 empty list gets a fresh page, carved into objects of the class.
 *              2. free(p): the page number (p - base) / PAGE indexes the page table;
 *                 its entry gives the class, so the size needs no header. The object
 *                 is pushed back on its class's list. No coalescing: a page keeps its
 *                 class for the life of the heap.
 *              3. n > MAX_SMALL: a run of whole pages, first fit over the free runs
 *                 (extending the region when none fits); freed runs merge with free
 *                 neighbour runs, so runs stay as long as possible.
 *              4. realloc: in place when the class still fits, or when a run can
 *                 shrink or grow into the free run (or the region top) after it.
 * Layout:
 *
 *   region:  base                                                     base + brk
 *            | page 0 | page 1 | page 2 ... | one class per small page, or runs |
 *   small page: | obj 0 | obj 1 | ... | obj capacity-1 | waste < size |   objects
 *            start at the page start; a free object holds `next` of its class list
 *   page table (a lab_mem_map'd array, remapped larger as the region grows):
 *            table[i] = { kind, cls, used, run, head, next, prev, bits[4] }  56 bytes
 *     SMALL       cls = class, used = objects in use, bits = 1 per allocated object
 *     LARGE       first page of an allocated run, run = its length in pages
 *     LARGE_TAIL  the other pages of an allocated run
 *     FREE        a page of a free run; the first page has run = length and the
 *                 free-run list links next/prev (page index + 1, 0 = none); the last
 *                 page has head = index of the first
 *     UNUSED      (zero) past the break
 *
 * Invariants:  P1 the table covers every page of the region; entries past it are zero
 *              P2 runs tile the pages: a LARGE page is followed by run - 1 LARGE_TAIL
 *                 pages, a FREE run's pages are all FREE and its last page's head
 *                 points at its first; no two free runs are adjacent (merging is done)
 *              P3 a SMALL page: valid class, popcount(bits) == used <= capacity, no
 *                 bit set past capacity
 *              P4 class c's free list holds only slot-aligned objects of class-c
 *                 pages whose bit is clear, as many as those pages' free slots and as
 *                 the counter free_objects[c]
 *              P5 the free-run list holds exactly the first pages of the free runs
 *                 (prev links agree)
 *              P6 live_blocks and block_bytes equal the objects in use (class size
 *                 each) plus the allocated runs (whole pages each)
 *              pagemeta_check() verifies P1-P6; pagemeta_walk() reports its walk of the
 *              table: each object of a small page (BLOCK or FREE) and the page's tail
 *              (META), each run (BLOCK or FREE), then the table's mapping (META).
 * Cost:        small malloc and free O(1) (a division for the slot); runs O(free
 *              runs) to place, O(pages) to mark; check O(pages + free objects).
 * Pathology:   pages never change class, so memory freed in one class cannot serve
 *              another (a phase of small objects followed by another size keeps both
 *              sets of pages); the table costs 56 bytes per page (1.4 %).
 */
#include "policy.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---- Types and size classes ---- */

#define PAGE        LAB_PAGE_SIZE
#define PAGE_SHIFT  12
#define MAX_SMALL   ((size_t)2048)
#define MAX_CLASSES 32
#define NONE        0u /* list links are page index + 1 */

enum { UNUSED = 0, SMALL, LARGE, LARGE_TAIL, FREE };

typedef struct page {
    uint8_t kind, cls;
    uint16_t used;
    uint32_t run, head, next, prev, unused_;
    uint64_t bits[4]; /* 256 objects at most: the smallest class is 16 bytes */
} page_t;

typedef struct obj {
    struct obj *next;
} obj_t;

typedef struct pagemeta {
    lab_mem_t *mem;
    page_t *table;
    size_t table_cap; /* entries */
    size_t nclasses;
    uint32_t size[MAX_CLASSES], capacity[MAX_CLASSES];
    obj_t *free[MAX_CLASSES];
    size_t free_objects[MAX_CLASSES];
    uint8_t class_of[MAX_SMALL / 8 + 1]; /* (n + 7) / 8 -> class */
    uint32_t free_runs;                  /* list of free runs, page index + 1 */
    size_t nfree_runs, free_run_pages;
    size_t live_blocks, block_bytes;
} pagemeta_t;

/* Steps of `align` (from 16) up to 128, four per doubling up to 1024, then the largest
 * sizes that fit 3 and 2 objects in a page. */
static void build_classes(pagemeta_t *h, size_t align)
{
    size_t size = 16;
    while (size <= 1024) {
        h->size[h->nclasses++] = (uint32_t)size;
        size += size < 128 ? align : (size_t)1 << (61 - __builtin_clzll(size));
    }
    h->size[h->nclasses++] = (uint32_t)((PAGE / 3) & ~(align - 1));
    h->size[h->nclasses++] = (uint32_t)(PAGE / 2);
    size_t c = 0;
    for (size_t i = 0; i <= MAX_SMALL / 8; i++) {
        while (h->size[c] < i * 8)
            c++;
        h->class_of[i] = (uint8_t)c;
    }
    for (c = 0; c < h->nclasses; c++)
        h->capacity[c] = (uint32_t)(PAGE / h->size[c]);
}

static size_t npages(const pagemeta_t *h)
{
    return h->mem->brk >> PAGE_SHIFT;
}
static page_t *pg(const pagemeta_t *h, size_t i)
{
    return &h->table[i];
}
static uint8_t *page_addr(const pagemeta_t *h, size_t i)
{
    return h->mem->base + (i << PAGE_SHIFT);
}
static size_t pages_for(size_t n)
{
    return lab_mem_round_page(n) >> PAGE_SHIFT;
}

/* ---- Page table and free runs ---- */

/* Makes the table cover `pages` pages; false when the memory source refuses. */
static bool table_reserve(pagemeta_t *h, size_t pages)
{
    if (pages <= h->table_cap)
        return true;
    size_t cap = h->table_cap ? h->table_cap * 2 : PAGE / sizeof(page_t);
    while (cap < pages)
        cap *= 2;
    page_t *t = h->table
                    ? lab_mem_remap(h->mem, h->table, h->table_cap * sizeof *t, cap * sizeof *t)
                    : lab_mem_map(h->mem, cap * sizeof *t);
    if (!t)
        return false;
    h->table = t; /* mremap zero-fills the new tail, so new entries are UNUSED */
    h->table_cap = cap;
    return true;
}

static void run_link(pagemeta_t *h, size_t start, size_t n)
{
    page_t *p = pg(h, start);
    p->run = (uint32_t)n;
    pg(h, start + n - 1)->head = (uint32_t)start;
    p->prev = NONE;
    p->next = h->free_runs;
    if (p->next)
        pg(h, p->next - 1)->prev = (uint32_t)start + 1;
    h->free_runs = (uint32_t)start + 1;
    h->nfree_runs++;
    h->free_run_pages += n;
}

static void run_unlink(pagemeta_t *h, size_t start)
{
    page_t *p = pg(h, start);
    if (p->prev)
        pg(h, p->prev - 1)->next = p->next;
    else
        h->free_runs = p->next;
    if (p->next)
        pg(h, p->next - 1)->prev = p->prev;
    h->nfree_runs--;
    h->free_run_pages -= p->run;
}

static void mark_pages(pagemeta_t *h, size_t start, size_t n, uint8_t kind)
{
    for (size_t i = start; i < start + n; i++)
        pg(h, i)->kind = kind;
}

/* Frees pages [start, start + n), merging with the free runs on either side. */
static void run_free(pagemeta_t *h, size_t start, size_t n)
{
    mark_pages(h, start, n, FREE);
    if (start + n < npages(h) && pg(h, start + n)->kind == FREE) {
        size_t above = start + n;
        run_unlink(h, above);
        n += pg(h, above)->run;
    }
    if (start > 0 && pg(h, start - 1)->kind == FREE) {
        size_t below = pg(h, start - 1)->head;
        run_unlink(h, below);
        n += start - below;
        start = below;
    }
    run_link(h, start, n);
}

/* Adds n pages at the top of the region as free pages; false at the limit. */
static bool grow_pages(pagemeta_t *h, size_t n)
{
    size_t start = npages(h);
    if (!table_reserve(h, start + n) || !lab_mem_sbrk(h->mem, n << PAGE_SHIFT))
        return false;
    run_free(h, start, n);
    return true;
}

/* Takes the first n pages of free run `start`; the rest stays a free run. */
static void run_take(pagemeta_t *h, size_t start, size_t n)
{
    size_t have = pg(h, start)->run;
    run_unlink(h, start);
    if (have > n)
        run_link(h, start + n, have - n); /* its pages are FREE already */
}

/* First page of a run of n pages taken from the free runs or the region top, or SIZE_MAX. */
static size_t run_alloc(pagemeta_t *h, size_t n)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        for (uint32_t link = h->free_runs; link != NONE; link = pg(h, link - 1)->next)
            if (pg(h, link - 1)->run >= n) {
                run_take(h, link - 1, n);
                return link - 1;
            }
        size_t top = npages(h), top_free = 0;
        if (top > 0 && pg(h, top - 1)->kind == FREE)
            top_free = top - pg(h, top - 1)->head;
        if (attempt == 0 && !grow_pages(h, n - top_free))
            return SIZE_MAX;
    }
    return SIZE_MAX;
}

/* ---- malloc ---- */

/* Gives class c a fresh page, all of its objects on the free list; false at the limit. */
static bool add_small_page(pagemeta_t *h, size_t c)
{
    size_t i = run_alloc(h, 1);
    if (i == SIZE_MAX)
        return false;
    page_t *p = pg(h, i);
    memset(p, 0, sizeof *p);
    p->kind = SMALL;
    p->cls = (uint8_t)c;
    uint8_t *at = page_addr(h, i);
    for (uint32_t k = h->capacity[c]; k-- > 0;) { /* pushed backwards: popped in order */
        obj_t *o = (obj_t *)(void *)(at + (size_t)k * h->size[c]);
        o->next = h->free[c];
        h->free[c] = o;
    }
    h->free_objects[c] += h->capacity[c];
    return true;
}

static void *small_malloc(pagemeta_t *h, size_t n)
{
    size_t c = h->class_of[(n + 7) / 8];
    if (!h->free[c] && !add_small_page(h, c))
        return NULL;
    obj_t *o = h->free[c];
    h->free[c] = o->next;
    h->free_objects[c]--;
    size_t off = (size_t)((uint8_t *)o - h->mem->base);
    page_t *p = pg(h, off >> PAGE_SHIFT);
    size_t slot = (off & (PAGE - 1)) / h->size[c];
    p->bits[slot / 64] |= (uint64_t)1 << (slot % 64);
    p->used++;
    h->live_blocks++;
    h->block_bytes += h->size[c];
    return o;
}

static void *pagemeta_malloc(void *st, size_t n)
{
    pagemeta_t *h = st;
    if (n <= MAX_SMALL)
        return small_malloc(h, n);
    size_t k = pages_for(n), i = run_alloc(h, k);
    if (i == SIZE_MAX)
        return NULL;
    pg(h, i)->kind = LARGE;
    pg(h, i)->run = (uint32_t)k;
    mark_pages(h, i + 1, k - 1, LARGE_TAIL);
    h->live_blocks++;
    h->block_bytes += k * PAGE;
    return page_addr(h, i);
}

/* ---- free ---- */

/* Page index of p and, for a small object, its slot: LAB_OK when p is a live block. */
static lab_err_t locate(const pagemeta_t *h, const void *p, size_t *ip, size_t *slotp)
{
    size_t off = (size_t)((const uint8_t *)p - h->mem->base), in_page = off & (PAGE - 1);
    if ((uintptr_t)p < (uintptr_t)h->mem->base || off >= h->mem->brk)
        return LAB_ERR_FOREIGN; /* e.g. inside the page table's own mapping */
    const page_t *pe = pg(h, off >> PAGE_SHIFT);
    *ip = off >> PAGE_SHIFT;
    switch (pe->kind) {
    case SMALL: {
        size_t size = h->size[pe->cls], slot = in_page / size;
        if (in_page % size || slot >= h->capacity[pe->cls])
            return LAB_ERR_MISALIGNED;
        *slotp = slot;
        return pe->bits[slot / 64] >> (slot % 64) & 1 ? LAB_OK : LAB_ERR_DOUBLE_FREE;
    }
    case LARGE:
        return in_page == 0 ? LAB_OK : LAB_ERR_MISALIGNED;
    case LARGE_TAIL:
        return LAB_ERR_MISALIGNED;
    case FREE:
        return LAB_ERR_DOUBLE_FREE;
    default:
        return LAB_ERR_FOREIGN;
    }
}

/* Frees live block p, found by locate() at page i (and slot, for a small page). */
static void release(pagemeta_t *h, void *p, size_t i, size_t slot)
{
    page_t *pe = pg(h, i);
    h->live_blocks--;
    if (pe->kind == LARGE) {
        h->block_bytes -= (size_t)pe->run * PAGE;
        run_free(h, i, pe->run);
        return;
    }
    pe->bits[slot / 64] &= ~((uint64_t)1 << (slot % 64));
    pe->used--;
    obj_t *o = p;
    o->next = h->free[pe->cls];
    h->free[pe->cls] = o;
    h->free_objects[pe->cls]++;
    h->block_bytes -= h->size[pe->cls];
}

static lab_err_t pagemeta_free(void *st, void *p)
{
    pagemeta_t *h = st;
    size_t i, slot = 0;
    lab_err_t e = locate(h, p, &i, &slot);
    if (e == LAB_OK)
        release(h, p, i, slot);
    return e;
}

/* Usable bytes of the live block at page i (located). */
static size_t usable_at(const pagemeta_t *h, size_t i)
{
    const page_t *pe = pg(h, i);
    return pe->kind == LARGE ? (size_t)pe->run * PAGE : h->size[pe->cls];
}

static size_t pagemeta_usable_size(void *st, const void *p)
{
    pagemeta_t *h = st;
    size_t i, slot;
    return locate(h, p, &i, &slot) == LAB_OK ? usable_at(h, i) : 0;
}

/* ---- realloc ---- */

/* Resizes the run at page i to k pages in place; false when the pages after it are taken. */
static bool resize_run(pagemeta_t *h, size_t i, size_t k)
{
    size_t have = pg(h, i)->run, next = i + have;
    if (k > have) {
        size_t more = k - have, top = npages(h);
        size_t spare = next < top && pg(h, next)->kind == FREE ? pg(h, next)->run : 0;
        if (spare < more && next + spare != top)
            return false;
        if (spare < more && !grow_pages(h, more - spare))
            return false;
        run_take(h, next, more);
        mark_pages(h, next, more, LARGE_TAIL);
    } else if (k < have) {
        run_free(h, i + k, have - k);
    }
    pg(h, i)->run = (uint32_t)k;
    h->block_bytes = h->block_bytes - have * PAGE + k * PAGE;
    return true;
}

static void *pagemeta_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    pagemeta_t *h = st;
    size_t i, slot = 0;
    if ((*err = locate(h, p, &i, &slot)) != LAB_OK)
        return NULL;
    size_t old = usable_at(h, i);
    if (old <= MAX_SMALL && n <= old)
        return p;
    if (old > MAX_SMALL && n > MAX_SMALL && resize_run(h, i, pages_for(n)))
        return p;
    void *q = pagemeta_malloc(h, n);
    if (!q) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    memcpy(q, p, old < n ? old : n);
    release(h, p, i, slot);
    return q;
}

/* ---- Checker, stats ---- */

/* What the walk of the page table finds; it reports regions to fn when fn is not NULL. */
typedef struct tally {
    size_t live, bytes, free_runs, free_slots[MAX_CLASSES];
    lab_walk_fn fn;
    void *ctx;
} tally_t;

/* The objects of small page i in address order (live: BLOCK, free: FREE), then its tail. */
static void emit_objects(const pagemeta_t *h, size_t i, lab_walk_fn fn, void *ctx)
{
    const page_t *pe = pg(h, i);
    size_t size = h->size[pe->cls], cap = h->capacity[pe->cls];
    const uint8_t *obj = page_addr(h, i);
    for (size_t k = 0; k < cap; k++, obj += size) {
        bool live = pe->bits[k / 64] >> (k % 64) & 1;
        lab_walk_emit(fn, ctx, obj, size, live ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      live ? obj : NULL);
    }
    lab_walk_emit(fn, ctx, obj, PAGE - cap * size, LAB_REGION_META, NULL);
}

/* P3 for small page i. */
static void check_small(const pagemeta_t *h, size_t i, lab_report_t *r, tally_t *t)
{
    const page_t *pe = pg(h, i);
    if (pe->cls >= h->nclasses) {
        lab_report_add(r, "P3: page %zu has class %u", i, pe->cls);
        return;
    }
    if (t->fn)
        emit_objects(h, i, t->fn, t->ctx);
    size_t cap = h->capacity[pe->cls], set = 0;
    for (size_t w = 0; w < 4; w++) {
        uint64_t past = w * 64 >= cap         ? ~(uint64_t)0
                        : (w + 1) * 64 <= cap ? 0
                                              : ~(uint64_t)0 << (cap % 64);
        LAB_EXPECT(r, !(pe->bits[w] & past), "P3: page %zu has a bit past capacity", i);
        set += (size_t)__builtin_popcountll(pe->bits[w]);
    }
    LAB_EXPECT(r, set == pe->used && pe->used <= cap, "P3: page %zu: %zu bits, used %u, cap %zu", i,
               set, pe->used, cap);
    t->live += pe->used;
    t->bytes += (size_t)pe->used * h->size[pe->cls];
    t->free_slots[pe->cls] += cap - pe->used;
}

/* P2 for the run starting at page i; returns its length, or 0 when the walk must stop. */
static size_t check_run(const pagemeta_t *h, size_t i, bool prev_free, lab_report_t *r, tally_t *t)
{
    const page_t *pe = pg(h, i);
    size_t n = pe->run, top = npages(h);
    if (n == 0 || n > top - i) {
        lab_report_add(r, "P2: run at page %zu has length %zu", i, n);
        return 0;
    }
    uint8_t rest = pe->kind == LARGE ? LARGE_TAIL : FREE;
    for (size_t j = i + 1; j < i + n; j++)
        if (pg(h, j)->kind != rest) {
            lab_report_add(r, "P2: page %zu inside the run at %zu has kind %u", j, i,
                           pg(h, j)->kind);
            return 0;
        }
    lab_walk_emit(t->fn, t->ctx, page_addr(h, i), n * PAGE,
                  pe->kind == LARGE ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                  pe->kind == LARGE ? page_addr(h, i) : NULL);
    if (pe->kind == LARGE) {
        t->live++;
        t->bytes += n * PAGE;
    } else {
        LAB_EXPECT(r, pg(h, i + n - 1)->head == i, "P2: free run at %zu: bad head link", i);
        LAB_EXPECT(r, !prev_free, "P2: free run at %zu follows another free run", i);
        t->free_runs++;
    }
    return n;
}

/* P1, P2, P3: walks the page table, for check() and walk() (t->fn: each small page's
 * objects and tail, each run; then the table's own mapping, META); false when it cannot
 * continue. */
static bool walk_pages(const pagemeta_t *h, lab_report_t *r, tally_t *t)
{
    size_t top = npages(h);
    if (top > h->table_cap) {
        lab_report_add(r, "P1: %zu pages, the table covers %zu", top, h->table_cap);
        return false;
    }
    for (size_t i = top; i < h->table_cap; i++)
        LAB_EXPECT(r, pg(h, i)->kind == UNUSED, "P1: entry %zu past the break is in use", i);
    bool prev_free = false;
    for (size_t i = 0; i < top;) {
        uint8_t kind = pg(h, i)->kind;
        if (kind == SMALL) {
            check_small(h, i++, r, t);
        } else if (kind == LARGE || kind == FREE) {
            size_t n = check_run(h, i, prev_free, r, t);
            if (n == 0)
                return false;
            i += n;
        } else {
            lab_report_add(r, "P2: page %zu of kind %u starts no run", i, kind);
            return false;
        }
        prev_free = kind == FREE;
    }
    const lab_mapping_t *table = h->table ? lab_mem_find_mapping(h->mem, h->table) : NULL;
    if (table)
        lab_walk_emit(t->fn, t->ctx, (void *)table->addr, table->size, LAB_REGION_META, NULL);
    return true;
}

/* P4 for class c. */
static void check_class_list(const pagemeta_t *h, size_t c, lab_report_t *r, const tally_t *t)
{
    size_t count = 0, limit = t->free_slots[c];
    for (const obj_t *o = h->free[c]; o && count <= limit; o = o->next, count++) {
        size_t off = (size_t)((const uint8_t *)o - h->mem->base), in_page = off & (PAGE - 1);
        const page_t *pe = off < h->mem->brk ? pg(h, off >> PAGE_SHIFT) : NULL;
        size_t slot = in_page / h->size[c];
        if (!pe || pe->kind != SMALL || pe->cls != c || in_page % h->size[c] ||
            slot >= h->capacity[c] || (pe->bits[slot / 64] >> (slot % 64) & 1)) {
            lab_report_add(r, "P4: class %zu list holds %p, not a free object of it", c,
                           (const void *)o);
            return;
        }
    }
    LAB_EXPECT(r, count == limit && count == h->free_objects[c],
               "P4: class %zu lists %s%zu objects, pages have %zu free, counter %zu", c,
               count > limit ? "over " : "", count, limit, h->free_objects[c]);
}

/* P5. */
static void check_run_list(const pagemeta_t *h, lab_report_t *r, size_t expected)
{
    size_t count = 0;
    uint32_t prev = NONE;
    for (uint32_t link = h->free_runs; link != NONE && count <= expected; count++) {
        if (link - 1 >= npages(h) || pg(h, link - 1)->kind != FREE ||
            (link - 1 > 0 && pg(h, link - 2)->kind == FREE)) {
            lab_report_add(r, "P5: free-run list holds page %u, not a free run start", link - 1);
            return;
        }
        LAB_EXPECT(r, pg(h, link - 1)->prev == prev, "P5: page %u has a bad prev link", link - 1);
        prev = link;
        link = pg(h, link - 1)->next;
    }
    LAB_EXPECT(r, count == expected && count == h->nfree_runs,
               "P5: list has %zu free runs, the table %zu, counter %zu", count, expected,
               h->nfree_runs);
}

static int pagemeta_check(void *st, lab_report_t *r)
{
    pagemeta_t *h = st;
    int before = r->count;
    tally_t t;
    memset(&t, 0, sizeof t);
    if (!walk_pages(h, r, &t))
        return r->count - before;
    for (size_t c = 0; c < h->nclasses; c++)
        check_class_list(h, c, r, &t);
    check_run_list(h, r, t.free_runs);
    LAB_EXPECT(r, t.live == h->live_blocks && t.bytes == h->block_bytes,
               "P6: table shows %zu live blocks (%zu bytes), counters say %zu (%zu)", t.live,
               t.bytes, h->live_blocks, h->block_bytes);
    return r->count - before;
}

static void pagemeta_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    tally_t t;
    memset(&t, 0, sizeof t);
    t.fn = fn;
    t.ctx = ctx;
    walk_pages(st, &unused, &t);
}

static void pagemeta_stats(void *st, lab_stats_t *s)
{
    pagemeta_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = h->nfree_runs;
    s->free_bytes = h->free_run_pages * PAGE;
    for (size_t c = 0; c < h->nclasses; c++) {
        s->free_blocks += h->free_objects[c];
        s->free_bytes += h->free_objects[c] * h->size[c];
        if (h->free_objects[c] && h->size[c] > s->largest_free)
            s->largest_free = h->size[c];
    }
    for (uint32_t link = h->free_runs; link != NONE; link = pg(h, link - 1)->next)
        if ((size_t)pg(h, link - 1)->run * PAGE > s->largest_free)
            s->largest_free = (size_t)pg(h, link - 1)->run * PAGE;
}

static int pagemeta_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    pagemeta_t *h = st;
    if (cfg->align > 16)
        return EINVAL; /* classes above 128 bytes are multiples of 16 only */
    h->mem = mem;
    build_classes(h, cfg->align);
    return 0;
}

const lab_policy_t lab_policy_pagemeta = {
    .name = "pagemeta",
    .description = "segregated metadata: header-less blocks, one class per page, page table",
    .state_size = sizeof(pagemeta_t),
    .init = pagemeta_init,
    .malloc = pagemeta_malloc,
    .free = pagemeta_free,
    .realloc = pagemeta_realloc,
    .usable_size = pagemeta_usable_size,
    .check = pagemeta_check,
    .stats = pagemeta_stats,
    .walk = pagemeta_walk,
};
