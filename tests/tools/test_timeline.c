/*
 * test_timeline.c -- the curves of `heapkit report` (tools/timeline.c) against the table's
 *                    figures (tools/replay.c) on every policy: the largest footprint of a
 *                    timeline is replay's peak footprint (at most it, when a realloc can
 *                    hold two blocks inside one op), its largest live payload is the
 *                    trace's peak, every utilization is in [0, 1], and a policy that runs
 *                    out of memory gives a reason instead of a curve.
 *
 * The traces are built in memory, with every kind of op (calloc, aligned, realloc).
 */
#include "harness.h"
#include "replay.h"
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#define OPS 3000
#define IDS 200

typedef struct mini {
    trace_t t;
    trace_op_t ops[OPS];
    uint32_t lines[OPS];
} mini_t;

static void op(mini_t *m, uint8_t kind, uint32_t id, size_t size, uint8_t shift)
{
    uint32_t k = m->t.num_ops++;
    m->ops[k] = (trace_op_t){size, id, kind, shift};
    m->lines[k] = k + 1;
    m->t.id_span = id + 1 > m->t.id_span ? id + 1 : m->t.id_span;
    m->t.num_ids = m->t.id_span;
}

/* A seeded random trace; with_realloc adds reallocs. */
static void build(mini_t *m, bool with_realloc, unsigned seed)
{
    bool live[IDS] = {false};
    memset(m, 0, sizeof *m);
    m->t.name = "mini";
    m->t.ops = m->ops;
    m->t.lines = m->lines;
    m->t.num_threads = 1;
    srand(seed);
    while (m->t.num_ops < OPS - IDS) {
        uint32_t id = (uint32_t)rand() % IDS;
        size_t size = 1 + (size_t)rand() % (rand() % 8 ? 600 : 40000);
        if (!live[id]) {
            int k = rand() % 4;
            op(m,
               k == 0   ? TRACE_CALLOC
               : k == 1 ? TRACE_ALIGNED
                        : TRACE_ALLOC,
               id, size, k == 1 ? 6 : 0);
            live[id] = true;
        } else if (with_realloc && rand() % 3 == 0) {
            op(m, TRACE_REALLOC, id, size, 0);
        } else {
            op(m, TRACE_FREE, id, 0, 0);
            live[id] = false;
        }
    }
    for (uint32_t id = 0; id < IDS; id++) /* the end frees half of what is left */
        if (live[id] && id % 2)
            op(m, TRACE_FREE, id, 0, 0);
}

static double largest(const timeline_point_t *p, unsigned n, int live)
{
    double top = 0;
    for (unsigned b = 0; b < n; b++)
        top = (live ? p[b].live : p[b].foot) > top ? (live ? p[b].live : p[b].foot) : top;
    return top;
}

static bool in_unit(const timeline_point_t *p, unsigned n)
{
    for (unsigned b = 0; b < n; b++)
        if (!(p[b].util >= 0 && p[b].util <= 1 + 1e-9))
            return false;
    return true;
}

static void against_replay(const mini_t *m, bool exact)
{
    enum { BUCKETS = 300 };
    static timeline_point_t points[BUCKETS];
    replay_options_t opt = {.align = 16, .check_every = 0, .timing_runs = 0};
    replay_scratch_t rs;
    timeline_scratch_t ts;
    REQUIRE("scratch", replay_scratch_init(&rs, IDS) == 0);
    REQUIRE("timeline scratch", timeline_scratch_init(&ts, IDS, BUCKETS) == 0);
    unsigned n = timeline_buckets(m->t.num_ops, BUCKETS);
    double peak_live = (double)trace_peak_live(&m->t, NULL);
    for (const lab_policy_t *const *p = lab_policies; *p; p++) {
        replay_result_t res;
        char why[128];
        replay_run(&m->t, *p, &opt, &rs, &res);
        int got = timeline_measure(&m->t, *p, 16, BUCKETS, &ts, points, why, sizeof why);
        CHECK((*p)->name, res.ok && got == 0);
        if (!res.ok || got != 0) {
            fprintf(stderr, "  %s: replay %s, timeline %s\n", (*p)->name, res.reason, why);
            continue;
        }
        double top = largest(points, n, 0);
        bool system = ((*p)->flags & LAB_USES_SYSTEM) != 0; /* glibc's footprint varies */
        CHECK((*p)->name, system || (exact ? top == (double)res.peak_footprint
                                           : top <= (double)res.peak_footprint));
        CHECK((*p)->name, largest(points, n, 1) == peak_live);
        CHECK((*p)->name, in_unit(points, n));
        if (!system &&
            (exact ? top != (double)res.peak_footprint : top > (double)res.peak_footprint))
            fprintf(stderr, "  %s: timeline %.0f, replay %zu\n", (*p)->name, top,
                    res.peak_footprint);
    }
    timeline_scratch_fini(&ts);
    replay_scratch_fini(&rs);
}

static void out_of_memory(void)
{
    static mini_t m;
    static timeline_point_t points[4];
    memset(&m, 0, sizeof m);
    m.t.name = "huge";
    m.t.ops = m.ops;
    m.t.lines = m.lines;
    op(&m, TRACE_ALLOC, 0, (size_t)1 << 40, 0);
    op(&m, TRACE_FREE, 0, 0, 0);
    timeline_scratch_t ts;
    REQUIRE("timeline scratch", timeline_scratch_init(&ts, 1, 4) == 0);
    char why[128] = "";
    int got = timeline_measure(&m.t, lab_policy_find("hkfit"), 16, 4, &ts, points, why, sizeof why);
    CHECK("out of memory fails", got == -1);
    CHECK("and says where", strstr(why, "op 1 (line 1): out of memory") != NULL);
    timeline_scratch_fini(&ts);
}

int main(void)
{
    static mini_t m;
    build(&m, false, 1);
    against_replay(&m, true);
    build(&m, true, 2);
    against_replay(&m, false);
    out_of_memory();
    return hk_test_summary();
}
