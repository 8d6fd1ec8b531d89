/*
 * slab.c -- slab allocation (Bonwick 1994; OSTEP "Slab Allocation"): per-size-class
 *           slabs of constant-size objects with an allocation bitmap.
 *
 * Algorithm:   1. malloc(n <= MAX_SMALL): round n up to its size class; take the
 *                 first slab on the class's list of slabs with a free object (or a
 *                 slab from the empty pool, or a new one from the region) and claim
 *                 the lowest clear bit of its bitmap. A slab that fills up leaves
 *                 the list.
 *              2. free(p): the slab is p's offset from the base rounded down to
 *                 SLAB_SIZE (slabs are aligned to their size relative to the base),
 *                 the object index is (p - first object) / size; clear its bit. A
 *                 slab that was full rejoins its class's list. A slab that becomes
 *                 empty goes to the empty pool, shared by every class, unless it is
 *                 its class's only empty slab (kept to absorb alloc/free churn).
 *                 Empty slabs are retained: the region never shrinks.
 *              3. n > MAX_SMALL: a mapping of its own (lab_mem_map, page granular);
 *                 free unmaps it, realloc between large sizes remaps it. The memory
 *                 source's mapping table is the record of large blocks: every
 *                 mapping of this heap is one.
 *              4. realloc: in place when the class (or the page count) still fits.
 * Layout:
 *
 *   base                                                               base + brk
 *   |<--- SLAB_SIZE --->|<--- SLAB_SIZE --->|<--- SLAB_SIZE --->| ...        |
 *
 *   slab ->  +-------------------------------------------------------------+
 *            | stamp = address ^ MAGIC | next, prev | cls | used | capacity |
 *            | size | hint | bits[BITMAP_WORDS] (1 = allocated)           |
 *   slab + FIRST_OBJECT (64-aligned):
 *            | obj 0 | obj 1 | ... | obj capacity-1 | tail waste           |
 *            +-------------------------------------------------------------+
 *   cls == POOL marks an empty slab in the pool (no class, no objects).
 *   Objects carry no header; free objects hold nothing (the bitmap is the state).
 *
 * Invariants:  S1 the region is a whole number of slabs, each with a valid stamp,
 *                 and a class slab's size and capacity are its class's
 *              S2 popcount(bits) == used <= capacity, no bit at or past capacity is
 *                 set, and every bitmap word below `hint` is full
 *              S3 a class's list holds exactly its slabs with used < capacity
 *                 (prev links agree); the pool holds exactly the POOL slabs, all
 *                 with used == 0
 *              S4 a class's list holds at most one empty slab (counted in `empties`)
 *              S5 live_blocks and block_bytes equal the objects in use (class size
 *                 each) plus the mappings (page-rounded size each); the free-object
 *                 counters equal the free objects on class lists
 *              slab_check() verifies S1-S5; slab_walk() reports its walk of the slabs
 *              and mappings: a slab header (FIRST_OBJECT bytes) and a class slab's tail
 *              are META, each object BLOCK or FREE, a pooled slab's objects area one
 *              FREE region (the stats count it as one free block), each mapping a BLOCK.
 * Cost:        malloc O(bitmap words) worst case, O(1) typically; free O(1);
 *              large blocks one mmap/munmap each; check O(slabs + mappings).
 * Pathology:   every class in use holds at least one 64 KiB slab, so a small heap
 *              using many classes has a large footprint; slab tails waste up to one
 *              object; a slab with one live object cannot serve another class;
 *              requests just above MAX_SMALL pay a system call.
 */
#include "policy.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---- Types ---- */

#define SLAB_SIZE    ((size_t)64 << 10)
#define MAX_SMALL    ((size_t)8192)
#define MAX_CLASSES  48
#define BITMAP_WORDS 128 /* enough for (SLAB_SIZE - header) / 8 objects */
#define POOL         UINT32_MAX
#define MAGIC_SLAB   ((uintptr_t)0x736c616273616221u)

typedef struct slab {
    uintptr_t stamp;
    struct slab *next, *prev;
    uint32_t cls, used, capacity, size;
    uint32_t hint, unused_;
    uint64_t bits[BITMAP_WORDS];
} slab_t;

#define FIRST_OBJECT ((sizeof(slab_t) + 63) & ~(size_t)63)

typedef struct size_class {
    slab_t *list; /* slabs with a free object */
    uint32_t size, capacity;
    uint32_t empties; /* empty slabs on the list: 0 or 1 */
} size_class_t;

typedef struct slab_heap {
    lab_mem_t *mem;
    slab_t *pool; /* empty slabs, any class */
    size_t pool_slabs;
    size_t nclasses;
    size_class_t classes[MAX_CLASSES];
    uint8_t class_of[MAX_SMALL / 8 + 1]; /* (n + 7) / 8 -> class */
    size_t live_blocks, block_bytes;     /* slab objects and large blocks */
    size_t large_blocks, large_bytes;
    size_t free_objects, free_object_bytes; /* on class lists */
} slab_heap_t;

/* ---- Size classes ---- */

/* Steps of `align` up to 128 bytes, then four classes per doubling up to MAX_SMALL. */
static void build_classes(slab_heap_t *h, size_t align)
{
    size_t size = align;
    while (size <= MAX_SMALL) {
        size_class_t *c = &h->classes[h->nclasses++];
        c->size = (uint32_t)size;
        c->capacity = (uint32_t)((SLAB_SIZE - FIRST_OBJECT) / size);
        size += size < 128 ? align : (size_t)1 << (61 - __builtin_clzll(size));
    }
    size_t c = 0;
    for (size_t i = 0; i <= MAX_SMALL / 8; i++) {
        while (h->classes[c].size < i * 8)
            c++;
        h->class_of[i] = (uint8_t)c;
    }
}

/* ---- Slab lists ---- */

static void slab_push(slab_t **list, slab_t *s)
{
    s->prev = NULL;
    s->next = *list;
    if (s->next)
        s->next->prev = s;
    *list = s;
}

static void slab_unlink(slab_t **list, slab_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *list = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* An empty slab of class c, from the pool or from the region; NULL at the limit. */
static slab_t *slab_new(slab_heap_t *h, size_t c)
{
    slab_t *s = h->pool;
    if (s) {
        slab_unlink(&h->pool, s);
        h->pool_slabs--;
    } else if (!(s = lab_mem_sbrk(h->mem, SLAB_SIZE))) {
        return NULL;
    }
    size_class_t *cls = &h->classes[c];
    memset(s, 0, sizeof *s);
    s->stamp = (uintptr_t)s ^ MAGIC_SLAB;
    s->cls = (uint32_t)c;
    s->size = cls->size;
    s->capacity = cls->capacity;
    slab_push(&cls->list, s);
    cls->empties++;
    h->free_objects += s->capacity;
    h->free_object_bytes += (size_t)s->capacity * s->size;
    return s;
}

/* Lowest clear bit; the caller guarantees used < capacity. */
static uint32_t claim_object(slab_t *s)
{
    uint32_t w = s->hint;
    while (s->bits[w] == ~(uint64_t)0)
        w++;
    s->hint = w;
    uint32_t bit = (uint32_t)__builtin_ctzll(~s->bits[w]);
    s->bits[w] |= (uint64_t)1 << bit;
    return w * 64 + bit;
}

/* ---- Large blocks ---- */

static void *large_malloc(slab_heap_t *h, size_t n)
{
    void *p = lab_mem_map(h->mem, n);
    if (p) {
        h->large_blocks++;
        h->large_bytes += lab_mem_round_page(n);
        h->live_blocks++;
        h->block_bytes += lab_mem_round_page(n);
    }
    return p;
}

/* ---- malloc, free ---- */

static void *slab_malloc(void *st, size_t n)
{
    slab_heap_t *h = st;
    if (n > MAX_SMALL)
        return large_malloc(h, n);
    size_t c = h->class_of[(n + 7) / 8];
    size_class_t *cls = &h->classes[c];
    slab_t *s = cls->list;
    if (!s && !(s = slab_new(h, c)))
        return NULL;
    if (s->used++ == 0)
        cls->empties--;
    if (s->used == s->capacity)
        slab_unlink(&cls->list, s);
    uint32_t i = claim_object(s);
    h->live_blocks++;
    h->block_bytes += s->size;
    h->free_objects--;
    h->free_object_bytes -= s->size;
    return (uint8_t *)s + FIRST_OBJECT + (size_t)i * s->size;
}

static bool in_region(const slab_heap_t *h, const void *p)
{
    return (uintptr_t)p - (uintptr_t)h->mem->base < h->mem->brk;
}

static slab_t *slab_of(const slab_heap_t *h, const void *p)
{
    size_t off = (size_t)((const uint8_t *)p - h->mem->base);
    return (slab_t *)(void *)(h->mem->base + (off & ~(SLAB_SIZE - 1)));
}

/* Slab and object index of region pointer p: LAB_OK when p is a live object. */
static lab_err_t locate(const slab_heap_t *h, const void *p, slab_t **sp, uint32_t *ip)
{
    slab_t *s = slab_of(h, p);
    if (s->stamp != ((uintptr_t)s ^ MAGIC_SLAB))
        return LAB_ERR_CORRUPT;
    if (s->cls == POOL)
        return LAB_ERR_DOUBLE_FREE; /* an empty slab holds no blocks */
    size_t off = (size_t)((const uint8_t *)p - (const uint8_t *)s);
    if (off < FIRST_OBJECT || (off - FIRST_OBJECT) % s->size != 0)
        return LAB_ERR_MISALIGNED;
    size_t i = (off - FIRST_OBJECT) / s->size;
    if (i >= s->capacity)
        return LAB_ERR_MISALIGNED;
    if (!(s->bits[i / 64] >> (i % 64) & 1))
        return LAB_ERR_DOUBLE_FREE;
    *sp = s;
    *ip = (uint32_t)i;
    return LAB_OK;
}

/* A slab that just became empty: kept if it is its class's only empty one, else pooled. */
static void slab_emptied(slab_heap_t *h, slab_t *s)
{
    size_class_t *cls = &h->classes[s->cls];
    if (cls->empties == 0) {
        cls->empties = 1;
        return;
    }
    slab_unlink(&cls->list, s);
    h->free_objects -= s->capacity;
    h->free_object_bytes -= (size_t)s->capacity * s->size;
    s->cls = POOL;
    slab_push(&h->pool, s);
    h->pool_slabs++;
}

/* Size of large block p (outside the region): LAB_OK when p starts a mapping. */
static lab_err_t large_locate(const slab_heap_t *h, const void *p, size_t *size)
{
    const lab_mapping_t *m = lab_mem_find_mapping(h->mem, p);
    if (!m)
        return LAB_ERR_FOREIGN;
    if (m->addr != (uintptr_t)p)
        return LAB_ERR_MISALIGNED;
    *size = m->size;
    return LAB_OK;
}

static void large_release(slab_heap_t *h, void *p, size_t size)
{
    lab_mem_unmap(h->mem, p, size);
    h->large_blocks--;
    h->large_bytes -= size;
    h->live_blocks--;
    h->block_bytes -= size;
}

/* Frees live object i of slab s (located). */
static void object_release(slab_heap_t *h, slab_t *s, uint32_t i)
{
    s->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
    if (i / 64 < s->hint)
        s->hint = i / 64;
    if (s->used-- == s->capacity)
        slab_push(&h->classes[s->cls].list, s);
    h->live_blocks--;
    h->block_bytes -= s->size;
    h->free_objects++;
    h->free_object_bytes += s->size;
    if (s->used == 0)
        slab_emptied(h, s);
}

static lab_err_t slab_free(void *st, void *p)
{
    slab_heap_t *h = st;
    size_t size;
    slab_t *s;
    uint32_t i;
    lab_err_t e;
    if (!in_region(h, p)) {
        if ((e = large_locate(h, p, &size)) == LAB_OK)
            large_release(h, p, size);
    } else if ((e = locate(h, p, &s, &i)) == LAB_OK) {
        object_release(h, s, i);
    }
    return e;
}

static size_t slab_usable_size(void *st, const void *p)
{
    slab_heap_t *h = st;
    size_t size;
    if (!in_region(h, p))
        return large_locate(h, p, &size) == LAB_OK ? size : 0;
    slab_t *s;
    uint32_t i;
    return locate(h, p, &s, &i) == LAB_OK ? s->size : 0;
}

static void *slab_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    slab_heap_t *h = st;
    slab_t *s = NULL; /* NULL: p is a large block */
    uint32_t i = 0;
    size_t old = 0;
    if (!in_region(h, p))
        *err = large_locate(h, p, &old);
    else if ((*err = locate(h, p, &s, &i)) == LAB_OK)
        old = s->size;
    if (*err != LAB_OK)
        return NULL;
    if (n <= old && (n > MAX_SMALL || old <= MAX_SMALL))
        return p; /* the class or the pages still fit */
    void *q;
    if (n > MAX_SMALL && old > MAX_SMALL) {
        if ((q = lab_mem_remap(h->mem, p, old, n)) != NULL) {
            h->large_bytes += lab_mem_round_page(n) - old;
            h->block_bytes += lab_mem_round_page(n) - old;
        }
    } else if ((q = slab_malloc(h, n)) != NULL) {
        memcpy(q, p, old < n ? old : n);
        if (s)
            object_release(h, s, i);
        else
            large_release(h, p, old);
    }
    if (!q)
        *err = LAB_ERR_NOMEM;
    return q;
}

/* ---- Checker, stats ---- */

/* Bits of word w that stand for no object. */
static uint64_t past_capacity(const slab_t *s, uint32_t w)
{
    if (w * 64 >= s->capacity)
        return ~(uint64_t)0;
    if ((w + 1) * 64 <= s->capacity)
        return 0;
    return ~(uint64_t)0 << (s->capacity % 64);
}

/* S1, S2 for one slab; adds its objects to the tallies. */
static void check_slab(const slab_heap_t *h, const slab_t *s, lab_report_t *r, size_t *live,
                       size_t *bytes)
{
    if (s->cls == POOL) {
        LAB_EXPECT(r, s->used == 0, "S3: pooled slab %p has %u objects", (const void *)s, s->used);
        return;
    }
    const size_class_t *cls = &h->classes[s->cls];
    LAB_EXPECT(r, s->size == cls->size && s->capacity == cls->capacity,
               "S1: slab %p: size %u capacity %u, class says %u %u", (const void *)s, s->size,
               s->capacity, cls->size, cls->capacity);
    size_t set = 0;
    for (uint32_t w = 0; w < BITMAP_WORDS; w++) {
        set += (size_t)__builtin_popcountll(s->bits[w]);
        LAB_EXPECT(r, w >= s->hint || s->bits[w] == ~(uint64_t)0,
                   "S2: slab %p word %u below hint %u is not full", (const void *)s, w, s->hint);
        LAB_EXPECT(r, !(s->bits[w] & past_capacity(s, w)),
                   "S2: slab %p has a bit set past capacity in word %u", (const void *)s, w);
    }
    LAB_EXPECT(r, set == s->used && s->used <= s->capacity,
               "S2: slab %p: %zu bits set, used %u, capacity %u", (const void *)s, set, s->used,
               s->capacity);
    *live += s->used;
    *bytes += (size_t)s->used * s->size;
}

/* S3: walks `list`; every member must satisfy the class's membership rule. */
static size_t check_list(const slab_t *list, uint32_t cls, size_t limit, lab_report_t *r,
                         size_t *empties)
{
    size_t count = 0;
    const slab_t *prev = NULL;
    for (const slab_t *s = list; s && count <= limit; prev = s, s = s->next, count++) {
        LAB_EXPECT(r, s->cls == cls && s->used < (cls == POOL ? 1 : s->capacity),
                   "S3: slab %p (class %u, used %u) on the list of class %u", (const void *)s,
                   s->cls, s->used, cls);
        LAB_EXPECT(r, s->prev == prev, "S3: slab %p has a bad prev link", (const void *)s);
        *empties += s->used == 0;
    }
    return count;
}

/* What the walk of the slabs and mappings finds. */
typedef struct census {
    size_t nslabs, live, bytes, pooled, large;
    size_t open[MAX_CLASSES]; /* slabs of each class with a free object */
} census_t;

/* The objects of class slab s in address order (live: BLOCK, free: FREE), then its tail. */
static void emit_objects(const slab_t *s, lab_walk_fn fn, void *ctx)
{
    const uint8_t *obj = (const uint8_t *)s + FIRST_OBJECT;
    for (uint32_t i = 0; i < s->capacity; i++, obj += s->size) {
        bool live = s->bits[i / 64] >> (i % 64) & 1;
        lab_walk_emit(fn, ctx, obj, s->size, live ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      live ? obj : NULL);
    }
    size_t tail = (size_t)((const uint8_t *)s + SLAB_SIZE - obj);
    lab_walk_emit(fn, ctx, obj, tail, LAB_REGION_META, NULL);
}

/* S1, S2 over every slab, then the mappings: the walk of check() and walk(), which passes
 * fn (a slab header is META; a pooled slab's objects area one FREE region). False when a
 * bad slab stops it. */
static bool slab_scan(const slab_heap_t *h, lab_report_t *r, census_t *c, lab_walk_fn fn, void *ctx)
{
    c->nslabs = h->mem->brk / SLAB_SIZE;
    LAB_EXPECT(r, h->mem->brk % SLAB_SIZE == 0, "S1: break %zu is not whole slabs", h->mem->brk);
    for (size_t k = 0; k < c->nslabs; k++) {
        const slab_t *s = (const slab_t *)(const void *)(h->mem->base + k * SLAB_SIZE);
        if (s->stamp != ((uintptr_t)s ^ MAGIC_SLAB) || (s->cls != POOL && s->cls >= h->nclasses)) {
            lab_report_add(r, "S1: slab %zu has a bad stamp or class", k);
            return false;
        }
        check_slab(h, s, r, &c->live, &c->bytes);
        c->pooled += s->cls == POOL;
        if (s->cls != POOL && s->used < s->capacity)
            c->open[s->cls]++;
        lab_walk_emit(fn, ctx, s, FIRST_OBJECT, LAB_REGION_META, NULL);
        if (s->cls == POOL)
            lab_walk_emit(fn, ctx, (const uint8_t *)s + FIRST_OBJECT, SLAB_SIZE - FIRST_OBJECT,
                          LAB_REGION_FREE, NULL);
        else if (fn)
            emit_objects(s, fn, ctx);
    }
    for (size_t i = 0; i < h->mem->map_count; i++) { /* every mapping is a large block */
        const lab_mapping_t *m = &h->mem->maps[i];
        c->large += m->size;
        lab_walk_emit(fn, ctx, (const void *)m->addr, m->size, LAB_REGION_BLOCK,
                      (const void *)m->addr);
    }
    return true;
}

static int slab_check(void *st, lab_report_t *r)
{
    slab_heap_t *h = st;
    int before = r->count;
    census_t w;
    memset(&w, 0, sizeof w);
    if (!slab_scan(h, r, &w, NULL, NULL))
        return r->count - before;
    size_t free_objects = 0, free_bytes = 0;
    for (uint32_t c = 0; c < h->nclasses; c++) {
        const size_class_t *cls = &h->classes[c];
        size_t empties = 0, n = check_list(cls->list, c, w.nslabs, r, &empties);
        LAB_EXPECT(r, n == w.open[c], "S3: class %u lists %zu slabs, %zu are not full", c, n,
                   w.open[c]);
        LAB_EXPECT(r, empties == cls->empties && empties <= 1,
                   "S4: class %u has %zu empty slabs listed, counter %u", c, empties, cls->empties);
        for (const slab_t *s = cls->list; s && n--; s = s->next) {
            free_objects += s->capacity - s->used;
            free_bytes += (size_t)(s->capacity - s->used) * s->size;
        }
    }
    size_t pool_empties = 0;
    LAB_EXPECT(r,
               check_list(h->pool, POOL, w.nslabs, r, &pool_empties) == w.pooled &&
                   w.pooled == h->pool_slabs,
               "S3: the pool lists a different number of slabs than the %zu pooled", w.pooled);
    LAB_EXPECT(r, h->mem->map_count == h->large_blocks && w.large == h->large_bytes,
               "S5: %zu mappings (%zu bytes), counters say %zu (%zu)", h->mem->map_count, w.large,
               h->large_blocks, h->large_bytes);
    LAB_EXPECT(r, w.live + h->large_blocks == h->live_blocks && w.bytes + w.large == h->block_bytes,
               "S5: slabs hold %zu objects (%zu bytes), counters say %zu (%zu) minus large", w.live,
               w.bytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, free_objects == h->free_objects && free_bytes == h->free_object_bytes,
               "S5: lists hold %zu free objects (%zu bytes), counters say %zu (%zu)", free_objects,
               free_bytes, h->free_objects, h->free_object_bytes);
    return r->count - before;
}

static void slab_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    census_t w;
    memset(&w, 0, sizeof w);
    slab_scan(st, &unused, &w, fn, ctx);
}

static void slab_stats(void *st, lab_stats_t *s)
{
    slab_heap_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = h->free_objects + h->pool_slabs; /* a pooled slab is one free block */
    s->free_bytes = h->free_object_bytes + h->pool_slabs * (SLAB_SIZE - FIRST_OBJECT);
    if (h->pool_slabs)
        s->largest_free = SLAB_SIZE - FIRST_OBJECT;
    else
        for (size_t c = h->nclasses; c-- > 0 && !s->largest_free;)
            if (h->classes[c].list)
                s->largest_free = h->classes[c].size;
}

static int slab_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    slab_heap_t *h = st;
    if (cfg->align > 16)
        return EINVAL; /* classes above 128 bytes are multiples of 32 only */
    h->mem = mem;
    build_classes(h, cfg->align);
    return 0;
}

const lab_policy_t lab_policy_slab = {
    .name = "slab",
    .description = "slabs of constant-size objects per size class with allocation bitmaps",
    .state_size = sizeof(slab_heap_t),
    .init = slab_init,
    .malloc = slab_malloc,
    .free = slab_free,
    .realloc = slab_realloc,
    .usable_size = slab_usable_size,
    .check = slab_check,
    .stats = slab_stats,
    .walk = slab_walk,
};
