/*
 * layout.c -- building a layout (layout.h): the replay, the samples, the lanes; its checker.
 *
 * Design:      One pass over the ops. A builder keeps, per id, the payload and request
 *              size of every live id and a dense list of the live ids (so a sample
 *              costs the live blocks, not the ids ever used). A sample sorts the live
 *              payloads, so each BLOCK region finds its request size by binary search,
 *              merges the live mappings into the lanes, and runs the walk with a
 *              listener that turns regions into cells (layout.h says how they merge).
 * Ops:         TRACE_ALLOC mallocs, TRACE_REALLOC reallocs (size 0 frees), TRACE_FREE
 *              frees; any other kind a later trace format adds (calloc, aligned
 *              allocation) allocates its size like malloc.
 */
#include "layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#define OVERSAMPLE 4 /* cells a column keeps per pixel row, at the scale known so far */
#define MIN_GRAN   16

/* ---- The builder ---- */

typedef struct pin { /* a live payload and its request size */
    uintptr_t p;
    size_t    size;
} pin_t;

typedef struct builder {
    layout_t               *l;
    const layout_options_t *opt;
    lab_heap_t              heap;
    void                  **ptr; /* per id: payload (when live) and request size */
    size_t                 *req;
    uint32_t               *live; /* the live ids, unordered; pos[id] is where */
    uint32_t               *pos;
    size_t                  nlive, live_bytes;
    pin_t                  *pins; /* the live payloads by address, for a sample */
    size_t                  cells_cap, lanes_cap;
    unsigned                j;          /* the column being sampled */
    size_t                  gran;       /* cells shorter than this merge */
    layout_cell_t           pend;       /* the cell being merged ... */
    size_t                  pend_bytes[LAYOUT_COLOURS]; /* ... and its bytes of each colour */
    bool                    nomem;
} builder_t;

/* v (an array of *cap elements) grown to hold `need`, or NULL when memory ran out (v is
 * kept, b->nomem is set). */
static void *grow(builder_t *b, void *v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need)
        n *= 2;
    void *q = realloc(v, n * elem);
    if (!q) {
        b->nomem = true;
        return NULL;
    }
    *cap = n;
    return q;
}

/* Says what op k did wrong; returns false. */
static bool __attribute__((format(printf, 3, 4)))
fail(builder_t *b, uint32_t k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heapkit: map: %s on %s: op %u (line %u): ", b->l->trace->name,
            b->l->policy->name, k + 1, b->l->trace->lines[k]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

/* ---- Replay ---- */

static void live_add(builder_t *b, uint32_t id, void *p, size_t n)
{
    b->ptr[id] = p;
    b->req[id] = n;
    b->pos[id] = (uint32_t)b->nlive;
    b->live[b->nlive++] = id;
    b->live_bytes += n;
    if (b->live_bytes > b->l->peak_live)
        b->l->peak_live = b->live_bytes;
}

static void live_drop(builder_t *b, uint32_t id)
{
    uint32_t last = b->live[--b->nlive];
    b->live[b->pos[id]] = last;
    b->pos[last] = b->pos[id];
    b->live_bytes -= b->req[id];
    b->ptr[id] = NULL;
}

static bool apply(builder_t *b, uint32_t k)
{
    const trace_op_t *op = &b->l->trace->ops[k];
    void *p = b->ptr[op->id], *q;
    switch (op->kind) {
    case TRACE_FREE: {
        live_drop(b, op->id);
        lab_err_t e = lab_free(&b->heap, p);
        return e == LAB_OK || fail(b, k, "free of id %u refused: %s", op->id, lab_strerror(e));
    }
    case TRACE_REALLOC:
        live_drop(b, op->id);
        if (!(q = lab_realloc(&b->heap, p, op->size)) && op->size)
            return fail(b, k, "realloc(%zu) of id %u failed: %s", op->size, op->id,
                        lab_strerror(b->heap.last_error));
        if (op->size)
            live_add(b, op->id, q, op->size);
        return true;
    case TRACE_ALLOC:
    default: /* a kind a later trace format adds allocates too (see Ops above) */
        if (!(q = lab_malloc(&b->heap, op->size)))
            return fail(b, k, "malloc(%zu) for id %u returned NULL: out of memory", op->size,
                        op->id);
        live_add(b, op->id, q, op->size);
        return true;
    }
}

/* Op k's bucket of the curves gets the heap as the op left it. */
static void note_curves(builder_t *b, uint32_t k)
{
    layout_t *l = b->l;
    layout_bucket_t *u = &l->buckets[(uint64_t)k * l->nbuckets / l->trace->num_ops];
    size_t foot = lab_footprint(&b->heap);
    u->foot = foot > u->foot ? foot : u->foot;
    u->live = b->live_bytes > u->live ? b->live_bytes : u->live;
    if (foot) {
        u->util += (double)b->live_bytes / (double)foot;
        u->n++;
    }
}

/* ---- Cells ---- */

/* Appends len bytes at addr to the column, lengthening its last cell when it continues. */
static void emit(builder_t *b, uintptr_t addr, size_t len, int colour)
{
    layout_t *l = b->l;
    while (len && !b->nomem) {
        layout_cell_t *last = l->ncells > l->col[b->j] ? &l->cells[l->ncells - 1] : NULL;
        uint32_t piece = len > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)len;
        layout_cell_t *cells;
        if (last && last->colour == colour && last->addr + last->len == addr &&
            last->len <= UINT32_MAX / 2)
            last->len += piece;
        else if ((cells = grow(b, l->cells, &b->cells_cap, l->ncells + 1, sizeof *cells)))
            (l->cells = cells)[l->ncells++] = (layout_cell_t){addr, piece, (uint8_t)colour};
        addr += piece;
        len -= piece;
    }
}

static void flush(builder_t *b)
{
    if (!b->pend.len)
        return;
    int best = 0;
    for (int c = 1; c < LAYOUT_COLOURS; c++)
        best = b->pend_bytes[c] > b->pend_bytes[best] ? c : best;
    emit(b, b->pend.addr, b->pend.len, best);
    b->pend.len = 0;
    memset(b->pend_bytes, 0, sizeof b->pend_bytes);
}

/* A piece of the layout: kept whole when long, else merged with its neighbours. */
static void segment(builder_t *b, uintptr_t addr, size_t len, int colour)
{
    if (len == 0)
        return;
    if (b->pend.len && b->pend.addr + b->pend.len != addr)
        flush(b);
    if (len >= b->gran) {
        flush(b);
        emit(b, addr, len, colour);
        return;
    }
    if (!b->pend.len)
        b->pend.addr = addr;
    b->pend.len += (uint32_t)len;
    b->pend_bytes[colour] += len;
    if (b->pend.len >= b->gran)
        flush(b);
}

static int pin_cmp(const void *x, const void *y)
{
    const pin_t *a = x, *c = y;
    return a->p < c->p ? -1 : a->p > c->p;
}

/* The walk's listener: a block is its header, its payload up to the request size, and the
 * overhead after that. */
static void on_region(void *ctx, const lab_region_t *g)
{
    static const int colour_of[LAB_REGION_KINDS] = {LAYOUT_OVERHEAD, LAYOUT_FREE, LAYOUT_META,
                                                    LAYOUT_DEAD};
    builder_t *b = ctx;
    if (g->kind != LAB_REGION_BLOCK) {
        segment(b, g->start, g->size,
                (unsigned)g->kind < LAB_REGION_KINDS ? colour_of[g->kind] : LAYOUT_META);
        return;
    }
    pin_t key = {(uintptr_t)g->payload, 0};
    const pin_t *pin = bsearch(&key, b->pins, b->nlive, sizeof *b->pins, pin_cmp);
    uintptr_t end = g->start + g->size;
    size_t req = pin ? pin->size : 0; /* not a live payload: the walk is wrong, W7 */
    req = req < end - key.p ? req : end - key.p;
    segment(b, g->start, key.p - g->start, LAYOUT_OVERHEAD);
    segment(b, key.p, req, LAYOUT_PAYLOAD);
    segment(b, key.p + req, end - key.p - req, LAYOUT_OVERHEAD);
}

/* ---- Lanes and samples ---- */

static int lane_cmp(const void *x, const void *y)
{
    const layout_lane_t *a = x, *c = y;
    return a->lo < c->lo ? -1 : a->lo > c->lo;
}

/* Adds the live mappings to the lanes, which stay sorted and merged (Y4). */
static void note_mappings(builder_t *b)
{
    layout_t *l = b->l;
    const lab_mem_t *mem = &b->heap.mem;
    size_t n = l->nlanes + mem->map_count;
    if (!mem->map_count)
        return;
    layout_lane_t *lanes = grow(b, l->lanes, &b->lanes_cap, n, sizeof *lanes);
    if (!lanes)
        return;
    l->lanes = lanes;
    for (size_t i = 0; i < mem->map_count; i++)
        l->lanes[l->nlanes++] =
            (layout_lane_t){mem->maps[i].addr, mem->maps[i].addr + mem->maps[i].size, 0};
    qsort(l->lanes, l->nlanes, sizeof *l->lanes, lane_cmp);
    n = 0;
    for (size_t i = 0; i < l->nlanes; i++) {
        layout_lane_t *top = n ? &l->lanes[n - 1] : NULL;
        if (top && l->lanes[i].lo <= top->hi)
            top->hi = l->lanes[i].hi > top->hi ? l->lanes[i].hi : top->hi;
        else
            l->lanes[n++] = l->lanes[i];
    }
    l->nlanes = n;
}

/* Column j: the layout as op k left it. */
static bool sample(builder_t *b, uint32_t k)
{
    layout_t *l = b->l;
    for (size_t i = 0; i < b->nlive; i++)
        b->pins[i] = (pin_t){(uintptr_t)b->ptr[b->live[i]], b->req[b->live[i]]};
    qsort(b->pins, b->nlive, sizeof *b->pins, pin_cmp);
    note_mappings(b);
    size_t gran = b->heap.mem.peak_footprint / ((size_t)b->opt->rows * OVERSAMPLE);
    b->gran = gran > MIN_GRAN ? gran : MIN_GRAN;
    l->col[b->j] = l->ncells;
    lab_walk(&b->heap, on_region, b);
    flush(b);
    l->col[++b->j] = l->ncells;
    lab_report_t r = {0};
    if (b->opt->check && lab_walk_check(&b->heap, &r) != 0)
        return fail(b, k, "the walk breaks its contract: %s", r.first);
    return !b->nomem;
}

/* Replays every op, sampling column j after op (j + 1) * ops / columns - 1. */
static int replay(builder_t *b)
{
    layout_t *l = b->l;
    for (uint32_t k = 0; k < l->trace->num_ops; k++) {
        if (!apply(b, k))
            return 1;
        note_curves(b, k);
        bool due = b->j < l->ncols && k + 1 == (uint64_t)(b->j + 1) * l->trace->num_ops / l->ncols;
        if (due && !sample(b, k))
            return b->nomem ? 2 : 1;
    }
    return 0;
}

/* Stacks the lanes after the region (Y4). */
static void lay_out(layout_t *l, lab_heap_t *h)
{
    l->base = (uintptr_t)lab_mem_lo(&h->mem);
    l->region = h->mem.brk_high;
    l->peak_footprint = lab_peak_footprint(h);
    size_t at = l->region;
    for (size_t i = 0; i < l->nlanes; i++) {
        l->lanes[i].base = at;
        at += l->lanes[i].hi - l->lanes[i].lo;
    }
    l->extent = at ? (double)at : 1;
}

/* ---- The layout ---- */

static bool builder_alloc(builder_t *b)
{
    layout_t *l = b->l;
    size_t ids = l->trace->id_span ? l->trace->id_span : 1;
    b->ptr = calloc(ids, sizeof *b->ptr);
    b->req = calloc(ids, sizeof *b->req);
    b->live = calloc(ids, sizeof *b->live);
    b->pos = calloc(ids, sizeof *b->pos);
    b->pins = calloc(ids, sizeof *b->pins);
    l->col = calloc((size_t)l->ncols + 1, sizeof *l->col);
    l->buckets = calloc(l->nbuckets ? l->nbuckets : 1, sizeof *l->buckets);
    return b->ptr && b->req && b->live && b->pos && b->pins && l->col && l->buckets;
}

int layout_build(layout_t *l, const trace_t *t, const lab_policy_t *p, const layout_options_t *opt)
{
    memset(l, 0, sizeof *l);
    l->trace = t;
    l->policy = p;
    l->align = opt->align;
    l->ncols = opt->columns < t->num_ops ? opt->columns : t->num_ops;
    l->nbuckets = opt->buckets < t->num_ops ? opt->buckets : t->num_ops;
    l->extent = 1;
    if (!p->walk) {
        fprintf(stderr, "heapkit: map: policy '%s' has no walk: the system heap cannot be drawn\n",
                p->name);
        return 2;
    }
    builder_t b;
    memset(&b, 0, sizeof b);
    b.l = l;
    b.opt = opt;
    lab_cfg_t cfg = {.align = opt->align};
    int status = 2;
    if (builder_alloc(&b) && lab_heap_open(&b.heap, p, &cfg, 0) == 0) {
        status = replay(&b);
        lay_out(l, &b.heap);
        lab_heap_close(&b.heap);
    }
    if (status == 2)
        fputs("heapkit: map: out of memory\n", stderr);
    free(b.ptr), free(b.req), free(b.live), free(b.pos), free(b.pins);
    return status;
}

void layout_free(layout_t *l)
{
    free(l->col), free(l->cells), free(l->lanes), free(l->buckets);
    memset(l, 0, sizeof *l);
}

/* The lane holding addr (the last that starts at or below it), or NULL. */
static const layout_lane_t *lane_of(const layout_t *l, uintptr_t addr)
{
    size_t a = 0, b = l->nlanes;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (l->lanes[mid].lo <= addr)
            a = mid + 1;
        else
            b = mid;
    }
    return a ? &l->lanes[a - 1] : NULL;
}

double layout_y(const layout_t *l, uintptr_t addr)
{
    if (addr >= l->base && addr - l->base < l->region)
        return (double)(addr - l->base);
    const layout_lane_t *lane = lane_of(l, addr);
    return lane ? (double)(lane->base + (addr - lane->lo)) : 0;
}

/* ---- Checker ---- */

/* Where a cell is: 0 in the region, i + 1 in lane i, SIZE_MAX nowhere (Y3). */
static size_t part_of(const layout_t *l, const layout_cell_t *c)
{
    if (c->addr >= l->base && c->addr - l->base < l->region)
        return c->len <= l->region - (c->addr - l->base) ? 0 : SIZE_MAX;
    const layout_lane_t *lane = lane_of(l, c->addr);
    return lane && c->len <= lane->hi - c->addr ? (size_t)(lane - l->lanes) + 1 : SIZE_MAX;
}

static void check_column(const layout_t *l, unsigned j, lab_report_t *r)
{
    size_t part = 0;
    uintptr_t end = 0;
    for (size_t i = l->col[j]; i < l->col[j + 1]; i++) {
        const layout_cell_t *c = &l->cells[i];
        size_t at = part_of(l, c);
        LAB_EXPECT(r, c->len > 0 && c->colour < LAYOUT_COLOURS, "Y2: column %u cell %zu is empty "
                   "or has colour %u", j, i, c->colour);
        LAB_EXPECT(r, at != SIZE_MAX, "Y3: column %u cell %#zx +%u is in no part", j,
                   (size_t)c->addr, c->len);
        LAB_EXPECT(r, at == SIZE_MAX || at > part || (at == part && c->addr >= end),
                   "Y2: column %u cell %#zx overlaps or comes too late", j, (size_t)c->addr);
        part = at == SIZE_MAX ? part : at;
        end = c->addr + c->len;
    }
}

int layout_check(const layout_t *l, lab_report_t *r)
{
    int before = r->count;
    LAB_EXPECT(r, l->col && l->col[0] == 0 && l->col[l->ncols] == l->ncells,
               "Y1: columns hold cells [%zu, %zu), there are %zu", l->col ? l->col[0] : 0,
               l->col ? l->col[l->ncols] : 0, l->ncells);
    for (unsigned j = 0; l->col && j < l->ncols; j++)
        if (l->col[j] > l->col[j + 1] || l->col[j + 1] > l->ncells) {
            lab_report_add(r, "Y1: column %u holds cells [%zu, %zu)", j, l->col[j], l->col[j + 1]);
            return r->count - before; /* the columns cannot be told apart */
        }
    for (unsigned j = 0; l->col && j < l->ncols; j++)
        check_column(l, j, r);
    size_t at = l->region;
    for (size_t i = 0; i < l->nlanes; i++) {
        const layout_lane_t *lane = &l->lanes[i];
        LAB_EXPECT(r, lane->lo < lane->hi && (i == 0 || lane->lo > l->lanes[i - 1].hi),
                   "Y4: lane %zu [%#zx, %#zx) is empty, out of order or touches the one below", i,
                   (size_t)lane->lo, (size_t)lane->hi);
        LAB_EXPECT(r, lane->base == at, "Y4: lane %zu drawn at %zu, not %zu", i, lane->base, at);
        at += lane->hi - lane->lo;
    }
    LAB_EXPECT(r, l->extent == (at ? (double)at : 1), "Y4: extent %.0f, region and lanes %zu",
               l->extent, at);
    for (unsigned k = 0; k < l->nbuckets; k++) {
        const layout_bucket_t *u = &l->buckets[k];
        LAB_EXPECT(r, u->live <= u->foot && u->util <= u->n * (1 + 1e-9),
                   "Y5: bucket %u: live %zu, footprint %zu, utilization %g over %u ops", k,
                   u->live, u->foot, u->util, u->n);
    }
    return r->count - before;
}
