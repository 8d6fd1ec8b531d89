/*
 * stats.c -- statistics: per-class counters, committed/mapped bytes, the exit report.
 *
 * Design:      the fast paths count nothing (types.h hk_class_stats_t). Live blocks: each
 *              page remembers the `used` value it last reported, and the slow paths (page
 *              runs dry, page retired or leaves the full list, trim, thread exit, a stats
 *              call by the owner) add the change to the heap's live count per class.
 *              Allocations: blocks leave a page's `free` list only by malloc's pop, so a
 *              page counts the blocks it puts there (carving, collecting) and the
 *              allocations are what is no longer there: counted when malloc's slow path
 *              finds the page's list empty (no walk), when the page is retired, at thread
 *              exit and for the report (walks of `free`). Frees = allocations - live.
 *              All owner-only stores, no atomic RMW. A free by another thread is counted
 *              once the owner collects it. Totals = sum over live heaps + the merged
 *              counters of exited threads (dead_stats); other threads' heaps lag by what
 *              their current pages did since (their allocation counts lag further than
 *              their live counts, so their frees may read low). Byte counters
 *              (mapped, committed) change only on slow paths and use atomics.
 *              Handoffs (types.h hk_handoff_stats_t): remote frees (counted by the
 *              owner when it collects them), segments claimed and adopted; owner-only
 *              stores too, merged at thread exit (dead_handoff). They show whether blocks
 *              stay with the thread that uses them (larson: only the claims).
 *              Definitions: mapped = address space from the OS; committed = segment
 *              headers + slots in use or awaiting purge + huge mappings (an upper bound
 *              of the resident memory we are responsible for).
 * Concurrency: summing reads other threads' counters with relaxed loads: a snapshot
 *              that may be slightly behind, never torn.
 */
#include "config.h"
#include "heap.h"

static hk_class_stats_t dead_stats;
static hk_handoff_stats_t dead_handoff;

void hki_stats_merge(hk_heap_t *heap)
{
    for (unsigned c = 0; c < HK_CLASS_COUNT; c++) {
        hki_count(dead_stats.live[c], hk_relaxed_load(&heap->stats.live[c]));
        hki_count(dead_stats.alloc[c], hk_relaxed_load(&heap->stats.alloc[c]));
        hk_relaxed_store(&heap->stats.live[c], 0);
        hk_relaxed_store(&heap->stats.alloc[c], 0);
    }
    hki_count(dead_handoff.remote_frees, hk_relaxed_load(&heap->handoff.remote_frees));
    hki_count(dead_handoff.claimed, hk_relaxed_load(&heap->handoff.claimed));
    hki_count(dead_handoff.adopted, hk_relaxed_load(&heap->handoff.adopted));
    hk_relaxed_store(&heap->handoff.remote_frees, 0);
    hk_relaxed_store(&heap->handoff.claimed, 0);
    hk_relaxed_store(&heap->handoff.adopted, 0);
}

typedef struct totals_s {
    size_t live[HK_CLASS_COUNT];
    size_t alloc[HK_CLASS_COUNT];
    size_t heaps;
    size_t remote_frees, claimed, adopted;
} totals_t;

static void add_heap(hk_heap_t *heap, void *arg)
{
    totals_t *t = arg;
    for (unsigned c = 0; c < HK_CLASS_COUNT; c++) {
        t->live[c] += hk_relaxed_load(&heap->stats.live[c]);
        t->alloc[c] += hk_relaxed_load(&heap->stats.alloc[c]);
    }
    if (atomic_load_explicit(&heap->in_use, memory_order_relaxed))
        t->heaps++;
    t->remote_frees += hk_relaxed_load(&heap->handoff.remote_frees);
    t->claimed += hk_relaxed_load(&heap->handoff.claimed);
    t->adopted += hk_relaxed_load(&heap->handoff.adopted);
}

/* allocs: also count the caller's allocations exactly (walks its pages' free lists) */
static void totals_get(totals_t *t, bool allocs)
{
    *t = (totals_t){{0}, {0}, 0, 0, 0, 0};
    hki_heap_stat_flush(hki_tls_heap, allocs); /* the caller's own heap is exact */
    hki_heaps_foreach(add_heap, t); /* under the pool lock: merges cannot race */
    for (unsigned c = 0; c < HK_CLASS_COUNT; c++) {
        t->live[c] += hk_relaxed_load(&dead_stats.live[c]);
        t->alloc[c] += hk_relaxed_load(&dead_stats.alloc[c]);
    }
    t->remote_frees += hk_relaxed_load(&dead_handoff.remote_frees);
    t->claimed += hk_relaxed_load(&dead_handoff.claimed);
    t->adopted += hk_relaxed_load(&dead_handoff.adopted);
}

void hk_stats_get(hk_stats_t *out)
{
    totals_t t;
    totals_get(&t, false);
    *out = (hk_stats_t){0};
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        size_t live = t.live[c] <= SIZE_MAX / 2 ? t.live[c] : 0;
        out->live_blocks += live;
        out->allocated += live * hki_class_size[c];
    }
    hki_huge_stats(&out->huge_blocks, &out->huge_bytes);
    out->live_blocks += out->huge_blocks;
    out->allocated += out->huge_bytes;
    hki_stat_bytes(&out->mapped, &out->committed, &out->peak_committed);
    out->remote_frees = t.remote_frees;
    out->segments_claimed = t.claimed;
    out->segments_adopted = t.adopted;
}

static void print_bytes(const char *label, size_t v)
{
    if (v >= ((size_t)10 << 20))
        hki_printf("  %-16s %zu MiB (%zu bytes)\n", label, v >> 20, v);
    else if (v >= ((size_t)10 << 10))
        hki_printf("  %-16s %zu KiB (%zu bytes)\n", label, v >> 10, v);
    else
        hki_printf("  %-16s %zu bytes\n", label, v);
}

void hk_stats_print(void)
{
    totals_t t;
    totals_get(&t, true);
    hk_stats_t s;
    hk_stats_get(&s);
    hki_printf("heapkit: statistics\n");
    hki_printf("  %5s %9s %14s %14s %12s %14s\n", "class", "size", "allocs", "frees", "live",
               "live bytes");
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        size_t live = t.live[c] <= SIZE_MAX / 2 ? t.live[c] : 0;
        if (t.alloc[c] == 0 && live == 0)
            continue;
        size_t frees = t.alloc[c] >= live ? t.alloc[c] - live : 0;
        hki_printf("  %5u %9u %14zu %14zu %12zu %14zu\n", c, (unsigned)hki_class_size[c],
                   t.alloc[c], frees, live, live * hki_class_size[c]);
    }
    hki_printf("  huge: %zu live blocks, %zu bytes mapped\n", s.huge_blocks, s.huge_bytes);
    print_bytes("allocated:", s.allocated);
    print_bytes("committed:", s.committed);
    print_bytes("peak committed:", s.peak_committed);
    print_bytes("mapped:", s.mapped);
    hki_printf("  threads: %zu live heaps, %zu abandoned segments\n", t.heaps,
               hki_abandoned_count());
    hki_printf("  handoffs: %zu remote frees, %zu segments claimed by a free, %zu adopted\n",
               t.remote_frees, t.claimed, t.adopted);
}

__attribute__((destructor)) static void heapkit_exit_stats(void)
{
    if (hki_is_initialized() && hki_option(HK_OPT_STATS))
        hk_stats_print();
}
