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

/* Calls where the size a free or a realloc takes off comes from each place the builder
 * keeps it: the live map's slot, a thread's pending realloc, a stale block under a new
 * allocation, a realloc never completed; with sizes of 4 GiB and more (big_size). */
static void peak_calls(addrtrace_t *b)
{
    const uint64_t big = (uint64_t)5 << 30, bigger = (uint64_t)6 << 30;
    at_alloc(b, TRACE_ALLOC, 0x100, 100, 0, 0, 1, 0);
    at_alloc(b, TRACE_ALLOC, 0x200, big, 0, 0, 2, 0);
    at_release(b, 0x200, 0, 3);                      /* realloc(big) moves ... */
    at_realloc(b, 0x200, 0x300, bigger, 0, 4, 0);    /* ... and grows */
    at_alloc(b, TRACE_CALLOC, 0x100, 7, 0, 0, 5, 0); /* over 0x100: implicit free */
    at_alloc(b, TRACE_ALLOC, 0x400, UINT32_MAX, 0, 1, 6, 0);
    at_release(b, 0x400, 1, 7);                      /* never completed: a free */
    at_alloc(b, TRACE_ALLOC, 0x500, 50, 0, 1, 8, 0);
    at_realloc(b, 0x500, 0x500, 60, 1, 9, 0);        /* in place, from the map */
    at_realloc(b, 0x300, 0x600, 0, 0, 10, 0);        /* to 0: freed, then a new block */
    at_alloc(b, TRACE_ALLOC, 0x700, big, 0, 0, 11, 0); /* the id of the big block again */
    at_free(b, 0x700, 0, 12);
    at_free(b, 0x500, 1, 13);
    at_free(b, 0x100, 0, 14);
}

/* The stream's peak (counted op by op from the sizes the builder hands it) is the peak of
 * the same ops kept in arrays, and the header of the file it writes says it. */
static void stream_peak(void)
{
    addrtrace_t b;
    trace_t kept, streamed, back;
    at_init(&b, &kept, true);
    peak_calls(&b);
    CHECK("kept: builds", at_finish(&b) == 0);
    at_fini(&b);
    uint64_t want = trace_peak_live(&kept, NULL), peak = 0;
    CHECK("the peak: 6 GiB, the calloc's 7 bytes and 4 GiB - 1 live at once",
          want == ((uint64_t)6 << 30) + 7 + UINT32_MAX);

    char path[] = "/tmp/heapkit-test-addrtrace.XXXXXX";
    int fd = mkstemp(path);
    CHECK("temp file", fd >= 0);
    close(fd);
    trace_stream_t *s = trace_stream_open(0);
    CHECK("stream", s != NULL);
    at_init(&b, &streamed, true);
    at_set_stream(&b, s);
    peak_calls(&b);
    CHECK("streamed: builds", at_finish(&b) == 0);
    CHECK("same op count", streamed.num_ops == kept.num_ops);
    CHECK("written", trace_stream_close(s, &streamed, path, &peak) == 0);
    CHECK("the stream's peak", peak == want);
    CHECK("reloads", trace_load(path, &back) == 0);
    CHECK("the file's peak", trace_peak_live(&back, NULL) == want);
    trace_free(&back);
    unlink(path);
    at_fini(&b);
    trace_free(&streamed);
    trace_free(&kept);
}

int main(void)
{
    two_reallocs_of_one_address();
    repairs();
    churn();
    stream_peak();
    return hk_test_summary();
}
