/*
 * test_addrtrace.c -- the address -> id builder (tools/addrtrace.h): the interleavings a
 * multithreaded recording produces, the repairs, and that what it builds is a trace that
 * loads (trace_load validates the id life cycle).
 */
#include "addrtrace.h"
#include "harness.h"
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes the built trace and loads it back: the life cycle must validate. */
static int reloads(trace_t *t)
{
    char path[] = "/tmp/heapkit-test-addrtrace.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    close(fd);
    trace_t back;
    int ok = trace_write(t, path, TRACE_FORMAT_HKT, 0, NULL) == 0 && trace_load(path, &back) == 0;
    if (ok)
        trace_free(&back);
    unlink(path);
    return ok;
}

/* Thread 0's realloc of p releases it; thread 1 is handed p, reallocs it too, and completes
 * first; then thread 0's realloc completes. Each realloc must stay with its own block. */
static void two_reallocs_of_one_address(void)
{
    addrtrace_t b;
    trace_t t;
    at_init(&b, &t, true);
    const uint64_t p = 0x1000, q = 0x2000, r = 0x3000;
    at_alloc(&b, TRACE_ALLOC, p, 10, 0, 0, 1, 0); /* id 0 */
    at_release(&b, p, 0, 2);                      /* thread 0: realloc(p) begins */
    at_alloc(&b, TRACE_ALLOC, p, 20, 0, 1, 3, 0); /* thread 1 gets p: id 1 */
    at_release(&b, p, 1, 4);                      /* thread 1: realloc(p) begins */
    at_realloc(&b, p, q, 40, 1, 5, 0);            /* ... and ends at q */
    at_realloc(&b, p, r, 30, 0, 6, 0);            /* thread 0's ends at r */
    at_free(&b, r, 0, 7);
    at_free(&b, q, 1, 8);
    CHECK("builds", at_finish(&b) == 0);
    CHECK("no repair", b.unknown_frees + b.implicit_frees + b.unknown_reallocs +
                           b.unfinished_reallocs == 0);
    CHECK("six ops", t.num_ops == 6);
    CHECK("thread 1's realloc is of its own block",
          t.ops[2].kind == TRACE_REALLOC && t.ops[2].id == t.ops[1].id && t.ops[2].size == 40);
    CHECK("thread 0's realloc is of the first block",
          t.ops[3].kind == TRACE_REALLOC && t.ops[3].id == t.ops[0].id && t.ops[3].size == 30);
    CHECK("two threads", t.num_threads == 2);
    CHECK("it loads", reloads(&t));
    at_fini(&b);
    trace_free(&t);
}

/* The repairs, each counted, and the trace still loads. */
static void repairs(void)
{
    addrtrace_t b;
    trace_t t;
    at_init(&b, &t, true);
    at_free(&b, 0x500, 0, 1);                           /* never allocated */
    at_alloc(&b, TRACE_ALLOC, 0x600, 8, 0, 0, 2, 0);
    at_alloc(&b, TRACE_CALLOC, 0x600, 16, 0, 0, 3, 0);  /* over a live block */
    at_realloc(&b, 0x700, 0x800, 24, 0, 4, 0);          /* of an unknown block */
    at_release(&b, 0x600, 0, 5);                        /* a realloc that never completes */
    at_alloc(&b, TRACE_ALIGNED, 0x900, 32, 6, 0, 6, 0); /* ... as its thread goes on */
    at_realloc(&b, 0x800, 0xa00, 0, 0, 7, 0);           /* realloc to 0 that returned a block */
    CHECK("builds", at_finish(&b) == 0);
    CHECK("unknown free", b.unknown_frees == 1);
    CHECK("implicit free", b.implicit_frees == 1);
    CHECK("unknown realloc", b.unknown_reallocs == 1);
    CHECK("unfinished realloc", b.unfinished_reallocs == 1);
    int aligned = 0;
    for (uint32_t i = 0; i < t.num_ops; i++)
        aligned += t.ops[i].kind == TRACE_ALIGNED && t.ops[i].align_shift == 6;
    CHECK("aligned op keeps its alignment", aligned == 1);
    CHECK("it loads", reloads(&t));
    at_fini(&b);
    trace_free(&t);
}

/* Many blocks over few addresses, freed and reused: ids are reused, the map keeps up. */
static void churn(void)
{
    addrtrace_t b;
    trace_t t;
    at_init(&b, &t, true);
    uint64_t live[64] = {0};
    unsigned seed = 7;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 16) % 64;
        if (live[k]) {
            at_free(&b, live[k], 0, (uint64_t)i);
            live[k] = 0;
        } else {
            live[k] = 0x10000 + 16 * (uint64_t)((seed >> 8) % 4096) * 64 + 16 * k;
            at_alloc(&b, TRACE_ALLOC, live[k], k + 1, 0, 0, (uint64_t)i, 0);
        }
    }
    CHECK("builds", at_finish(&b) == 0);
    CHECK("no repair", b.unknown_frees + b.implicit_frees == 0);
    CHECK("ids reused: no more than the live blocks", t.num_ids <= 64);
    CHECK("it loads", reloads(&t));
    at_fini(&b);
    trace_free(&t);
}

int main(void)
{
    two_reallocs_of_one_address();
    repairs();
    churn();
    return hk_test_summary();
}
