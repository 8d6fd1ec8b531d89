/*
 * sites.c -- allocations per call site, in total and at the peak of live bytes (sites.h).
 *
 * Design:      The pass keeps, per id, the entry its live block belongs to and its
 *              requested size, and per entry the live blocks and bytes now. The peak
 *              op comes from trace_peak_live(), the trace module's own count, so the
 *              "live at the peak" column is taken at the very op the trace header and
 *              `heapkit replay` call the peak; the per-entry live counts are copied
 *              once, when the pass reaches that op.
 * Complexity:  O(ops + sites log sites).
 */
#include "sites.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct counter {
    const trace_t *t;
    site_stat_t *stat; /* num_callsites + 1 entries */
    uint64_t *blocks;  /* per entry: live blocks now */
    uint64_t *bytes;   /* per entry: live bytes now */
    uint32_t *owner;   /* per id: the entry of its live block */
    size_t *size;      /* per id: its requested size (live ids only) */
} counter_t;

static uint32_t entry_of(const counter_t *c, uint32_t op)
{
    uint32_t cs = c->t->callsite ? c->t->callsite[op] : 0;
    return cs ? cs - 1 : c->t->num_callsites;
}

static void drop(counter_t *c, uint32_t id)
{
    c->blocks[c->owner[id]]--;
    c->bytes[c->owner[id]] -= c->size[id];
}

static void apply(counter_t *c, uint32_t i)
{
    const trace_op_t *op = &c->t->ops[i];
    if (op->kind == TRACE_FREE || op->kind == TRACE_REALLOC)
        drop(c, op->id);
    if (op->kind == TRACE_FREE || (op->kind == TRACE_REALLOC && op->size == 0))
        return; /* realloc(p, 0) frees p: not an allocation */
    uint32_t e = entry_of(c, i);
    c->stat[e].calls++;
    c->stat[e].bytes += op->size;
    c->owner[op->id] = e;
    c->size[op->id] = op->size;
    c->blocks[e]++;
    c->bytes[e] += op->size;
}

static void snapshot(counter_t *c, size_t entries)
{
    for (size_t e = 0; e < entries; e++) {
        c->stat[e].peak_blocks = c->blocks[e];
        c->stat[e].peak_bytes = c->bytes[e];
    }
}

size_t sites_count(const trace_t *t, site_stat_t **out)
{
    *out = NULL;
    if (!t->num_callsites)
        return 0;
    size_t entries = (size_t)t->num_callsites + 1, ids = t->id_span ? t->id_span : 1;
    counter_t c = {t,
                   calloc(entries, sizeof *c.stat),
                   calloc(entries, sizeof *c.blocks),
                   calloc(entries, sizeof *c.bytes),
                   calloc(ids, sizeof *c.owner),
                   calloc(ids, sizeof *c.size)};
    uint32_t peak_at = 0;
    uint64_t peak = trace_peak_live(t, &peak_at);
    bool ok = c.stat && c.blocks && c.bytes && c.owner && c.size;
    for (size_t e = 0; ok && e < entries; e++)
        c.stat[e].site = e + 1 < entries ? (uint32_t)e : SITES_NONE;
    for (uint32_t i = 0; ok && i < t->num_ops; i++) {
        apply(&c, i);
        if (i == peak_at && peak > 0)
            snapshot(&c, entries);
    }
    free(c.blocks), free(c.bytes), free(c.owner), free(c.size);
    if (!ok) {
        free(c.stat);
        return 0;
    }
    *out = c.stat;
    return entries;
}

/* ---- Sorting ---- */

static sites_order_t sort_order; /* qsort has no context argument; set just before the sort */

static int cmp_u64(uint64_t a, uint64_t b)
{
    return (a < b) - (a > b); /* larger first */
}

static int site_cmp(const void *x, const void *y)
{
    const site_stat_t *a = x, *b = y;
    int by = sort_order == SITES_BY_BYTES ? cmp_u64(a->bytes, b->bytes)
                                          : cmp_u64(a->peak_bytes, b->peak_bytes);
    if (by)
        return by;
    if (a->calls != b->calls)
        return cmp_u64(a->calls, b->calls);
    return (a->site > b->site) - (a->site < b->site);
}

void sites_sort(site_stat_t *s, size_t n, sites_order_t order)
{
    sort_order = order;
    qsort(s, n, sizeof *s, site_cmp);
}
