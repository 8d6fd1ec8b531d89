/*
 * test_layout.c -- the layouts `heapkit map` draws (tools/layout.c): what a sample records
 * (a block's payload and overhead, free space, mappings as lanes after the region), and
 * that layout_check() names each invariant (Y1-Y5) when it is broken.
 *
 * The traces are built in memory: layout.c reads only the op array of a trace_t.
 */
#include "harness.h"
#include "layout.h"

#include <string.h>

/* A trace of n ops from "a id size" / "r id size" / "f id" triples. */
typedef struct mini {
    trace_t    t;
    trace_op_t ops[16];
    uint32_t   lines[16];
} mini_t;

static void mini(mini_t *m, const char *name, const trace_op_t *ops, uint32_t n)
{
    memset(m, 0, sizeof *m);
    m->t.name = name;
    m->t.ops = m->ops;
    m->t.lines = m->lines;
    m->t.num_ops = n;
    for (uint32_t i = 0; i < n; i++) {
        m->ops[i] = ops[i];
        m->lines[i] = 5 + i;
        m->t.id_span = ops[i].id + 1 > m->t.id_span ? ops[i].id + 1 : m->t.id_span;
    }
    m->t.num_ids = m->t.id_span;
}

static size_t colour_bytes(const layout_t *l, unsigned j, int colour)
{
    size_t bytes = 0;
    for (size_t i = l->col[j]; i < l->col[j + 1]; i++)
        bytes += l->cells[i].colour == colour ? l->cells[i].len : 0;
    return bytes;
}

static bool clean(const layout_t *l)
{
    lab_report_t r = {0};
    int n = layout_check(l, &r);
    if (n)
        fprintf(stderr, "  layout_check: %s\n", r.first);
    return n == 0;
}

static bool finds(const layout_t *l, const char *id)
{
    lab_report_t r = {0};
    bool ok = layout_check(l, &r) > 0 && strncmp(r.first, id, strlen(id)) == 0;
    if (!ok)
        fprintf(stderr, "  expected %s, layout_check found %d: %s\n", id, r.count, r.first);
    return ok;
}

/* One column per op: a block's payload is its request, the rest of the heap adds up. */
static void records_blocks(void)
{
    static const trace_op_t ops[] = {
        {1000, 0, TRACE_ALLOC, 0}, {3000, 1, TRACE_ALLOC, 0}, {0, 0, TRACE_FREE, 0},
        {5000, 1, TRACE_REALLOC, 0}, {0, 1, TRACE_FREE, 0}};
    mini_t m;
    mini(&m, "blocks", ops, 5);
    layout_options_t opt = {.align = 16, .columns = 100, .buckets = 100, .rows = 400, .check = true};
    layout_t l;
    REQUIRE("build", layout_build(&l, &m.t, lab_policy_find("dlist-first"), &opt) == 0);
    CHECK("one column and bucket per op", l.ncols == 5 && l.nbuckets == 5);
    CHECK("clean", clean(&l));
    CHECK("payload of one block", colour_bytes(&l, 0, LAYOUT_PAYLOAD) == 1000);
    /* header 8 and rounding 16, prologue and epilogue 8 each: the pieces below 16 bytes are
     * merged into one cell of the colour that has most of them */
    CHECK("the rest", colour_bytes(&l, 0, LAYOUT_OVERHEAD) + colour_bytes(&l, 0, LAYOUT_META) == 40);
    CHECK("two blocks", colour_bytes(&l, 1, LAYOUT_PAYLOAD) == 4000);
    CHECK("freed block is free", colour_bytes(&l, 2, LAYOUT_PAYLOAD) == 3000 &&
                                     colour_bytes(&l, 2, LAYOUT_FREE) >= 1000);
    CHECK("realloc'd block", colour_bytes(&l, 3, LAYOUT_PAYLOAD) == 5000);
    CHECK("prologue and epilogue", colour_bytes(&l, 3, LAYOUT_META) == 16);
    CHECK("empty at the end", colour_bytes(&l, 4, LAYOUT_PAYLOAD) == 0);
    size_t all = 0; /* after the realloc the heap has its largest break */
    for (int c = 0; c < LAYOUT_COLOURS; c++)
        all += colour_bytes(&l, 3, c);
    CHECK("a column covers the region", all == l.region && l.nlanes == 0 && l.extent == l.region);
    CHECK("peaks", l.peak_live == 5000 && l.peak_footprint >= 5000);
    CHECK("curves", l.buckets[1].live == 4000 && l.buckets[1].foot >= 4000 &&
                        l.buckets[4].live == 0 && l.buckets[1].n == 1);
    CHECK("region at 0", layout_y(&l, l.base + 100) == 100);
    layout_free(&l);
}

/* Mappings become lanes after the region, in address order; their blocks are drawn there. */
static void mappings_are_lanes(void)
{
    static const trace_op_t ops[] = {
        {300000, 0, TRACE_ALLOC, 0}, {100, 1, TRACE_ALLOC, 0}, {500000, 2, TRACE_ALLOC, 0},
        {0, 0, TRACE_FREE, 0}, {0, 2, TRACE_FREE, 0}, {0, 1, TRACE_FREE, 0}};
    mini_t m;
    mini(&m, "mapped", ops, 6);
    layout_options_t opt = {.align = 16, .columns = 6, .buckets = 6, .rows = 400, .check = true};
    layout_t l;
    REQUIRE("build", layout_build(&l, &m.t, lab_policy_find("gnu"), &opt) == 0);
    CHECK("clean", clean(&l));
    CHECK("lanes", l.nlanes >= 1 && l.lanes[0].base == l.region);
    size_t lanes = 0;
    for (size_t i = 0; i < l.nlanes; i++)
        lanes += l.lanes[i].hi - l.lanes[i].lo;
    CHECK("extent: region, then lanes", l.extent == (double)(l.region + lanes));
    CHECK("a lane address", layout_y(&l, l.lanes[0].lo + 8) == (double)(l.region + 8));
    /* the 100-byte block is below the merging size: its cell may hold its neighbours too */
    size_t payload = colour_bytes(&l, 2, LAYOUT_PAYLOAD);
    CHECK("mapped payloads", payload >= 800000 && payload <= 800200);

    /* Each invariant broken in turn is named; repaired, the layout is clean again. */
    layout_cell_t *c = &l.cells[l.col[2]], saved = *c;
    c->colour = 9;
    CHECK("bad colour: Y2", finds(&l, "Y2"));
    *c = saved;
    c->addr = 4096;
    CHECK("cell outside: Y3", finds(&l, "Y3"));
    *c = saved;
    layout_cell_t swap = c[0];
    c[0] = c[1];
    c[1] = swap;
    CHECK("cells out of order: Y2", finds(&l, "Y2"));
    c[1] = c[0];
    c[0] = swap;
    size_t col3 = l.col[3];
    l.col[3] = l.col[4] + 1;
    CHECK("columns out of order: Y1", finds(&l, "Y1"));
    l.col[3] = col3;
    l.lanes[0].base++;
    CHECK("lane misplaced: Y4", finds(&l, "Y4"));
    l.lanes[0].base--;
    l.buckets[1].live = l.buckets[1].foot + 1;
    CHECK("live above the footprint: Y5", finds(&l, "Y5"));
    l.buckets[1].live = 0;
    CHECK("clean after repairs", clean(&l));
    layout_free(&l);
}

/* A policy that fails names the op; one without a walk is refused. */
static void failures(void)
{
    static const trace_op_t ops[] = {{(size_t)1 << 32, 0, TRACE_ALLOC, 0}, {0, 0, TRACE_FREE, 0}};
    mini_t m;
    mini(&m, "huge", ops, 2);
    layout_options_t opt = {.align = 16, .columns = 10, .buckets = 10, .rows = 400};
    layout_t l;
    CHECK("out of memory: 1", layout_build(&l, &m.t, lab_policy_find("minimal"), &opt) == 1);
    layout_free(&l);
    CHECK("no walk: 2", layout_build(&l, &m.t, lab_policy_find("libc"), &opt) == 2);
    layout_free(&l);
}

int main(void)
{
    records_blocks();
    mappings_are_lanes();
    failures();
    return hk_test_summary();
}
