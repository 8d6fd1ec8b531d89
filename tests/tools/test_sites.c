/*
 * test_sites.c -- "who allocates what" (tools/sites.c): calls and bytes per call site, the
 *                 blocks live at the peak (a realloc takes its block over), the entry of
 *                 the calls without a site, the sorting; and S1-S2 on random traces.
 *
 * The traces are built in memory: sites.c reads the op array and the call-site arrays.
 */
#include "harness.h"
#include "sites.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OPS 4096

typedef struct mini {
    trace_t t;
    trace_op_t ops[MAX_OPS];
    uint32_t lines[MAX_OPS], site[MAX_OPS];
    char *names[8];
} mini_t;

static char site_names[8][32];

static void start(mini_t *m, uint32_t sites)
{
    memset(m, 0, sizeof *m);
    m->t.name = "mini";
    m->t.format = TRACE_FORMAT_HKT;
    m->t.ops = m->ops;
    m->t.lines = m->lines;
    m->t.callsite = m->site;
    m->t.num_callsites = sites;
    m->t.callsites = m->names;
    for (uint32_t i = 0; i < sites; i++) {
        snprintf(site_names[i], sizeof site_names[i], "f%u+0x10 (x)", i);
        m->names[i] = site_names[i];
    }
}

/* Appends an op; site is the call site's index + 1 (0: none). */
static void op(mini_t *m, char kind, uint32_t id, size_t size, uint32_t site)
{
    uint32_t k = m->t.num_ops++;
    m->ops[k] = (trace_op_t){size, id, (uint8_t)kind, 0};
    m->lines[k] = k + 1;
    m->site[k] = site;
    m->t.id_span = id + 1 > m->t.id_span ? id + 1 : m->t.id_span;
    m->t.num_ids = m->t.id_span;
}

static void test_counts_and_peak(void)
{
    static mini_t m;
    start(&m, 3);
    op(&m, 'a', 0, 100, 1); /* site 0 */
    op(&m, 'c', 1, 50, 2);  /* site 1 */
    op(&m, 'r', 0, 300, 2); /* site 1 takes block 0 over */
    op(&m, 'm', 2, 40, 0);  /* no site */
    op(&m, 'f', 1, 0, 0);   /* peak was after op 4: 300 + 50 + 40 = 390 */
    op(&m, 'a', 1, 20, 3);  /* site 2 */
    op(&m, 'r', 2, 0, 0);   /* realloc to 0 frees: no call */
    site_stat_t *s;
    size_t n = sites_count(&m.t, &s);
    REQUIRE("four entries", n == 4 && s);
    CHECK("site 0", s[0].site == 0 && s[0].calls == 1 && s[0].bytes == 100);
    CHECK("site 0 holds nothing at the peak", s[0].peak_blocks == 0 && s[0].peak_bytes == 0);
    CHECK("site 1", s[1].calls == 2 && s[1].bytes == 350);
    CHECK("site 1 at the peak", s[1].peak_blocks == 2 && s[1].peak_bytes == 350);
    CHECK("site 2 came after the peak", s[2].calls == 1 && s[2].peak_blocks == 0);
    CHECK("no site",
          s[3].site == SITES_NONE && s[3].calls == 1 && s[3].bytes == 40 && s[3].peak_bytes == 40);
    sites_sort(s, n, SITES_BY_BYTES);
    CHECK("by bytes", s[0].site == 1 && s[1].site == 0 && s[2].site == SITES_NONE);
    sites_sort(s, n, SITES_BY_PEAK_BYTES);
    CHECK("by peak bytes", s[0].site == 1 && s[1].site == SITES_NONE);
    CHECK("peak ties by calls", s[2].site == 0 && s[3].site == 2);
    free(s);
}

static void test_no_call_sites(void)
{
    static mini_t m;
    start(&m, 0);
    m.t.callsite = NULL;
    op(&m, 'a', 0, 10, 0);
    site_stat_t *s = (site_stat_t *)1;
    CHECK("nothing to count", sites_count(&m.t, &s) == 0 && s == NULL);
}

/* S1, S2 over a random trace: the entries add up to the trace's calls and peak. */
static void test_invariants_random(void)
{
    static mini_t m;
    bool live[64] = {false};
    uint64_t calls = 0;
    srand(7);
    start(&m, 5);
    while (m.t.num_ops < MAX_OPS) {
        uint32_t id = (uint32_t)rand() % 64, site = (uint32_t)rand() % 6;
        size_t size = (size_t)rand() % 5000;
        if (!live[id]) {
            op(&m, "acm"[rand() % 3], id, size, site);
            live[id] = true;
            calls++;
        } else if (rand() % 2) {
            op(&m, 'f', id, 0, 0);
            live[id] = false;
        } else {
            op(&m, 'r', id, size, site);
            live[id] = size > 0;
            calls += size > 0;
        }
    }
    site_stat_t *s;
    size_t n = sites_count(&m.t, &s);
    REQUIRE("counted", n == 6);
    uint64_t c = 0, peak = 0;
    for (size_t i = 0; i < n; i++)
        c += s[i].calls, peak += s[i].peak_bytes;
    CHECK("S1: the calls add up", c == calls);
    CHECK("S2: the live bytes at the peak add up", peak == trace_peak_live(&m.t, NULL));
    free(s);
}

int main(void)
{
    test_counts_and_peak();
    test_no_call_sites();
    test_invariants_random();
    return hk_test_summary();
}
