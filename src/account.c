/*
 * account.c -- the mapped and committed byte counters (their definitions: stats.c).
 *
 * Design:      every layer that maps or commits memory (segments, huge blocks, the heap
 *              pool) reports the change here; stats.c reads the totals. Kept apart from
 *              stats.c, which walks the heaps, so that the lower layers do not call up.
 * Concurrency: relaxed atomics (slow paths only); the peak is raised with a CAS loop.
 */
#include "config.h"
#include "support.h"

static _Atomic size_t stat_mapped, stat_committed, stat_peak;

void hki_stat_mapped(ptrdiff_t delta)
{
    atomic_fetch_add_explicit(&stat_mapped, (size_t)delta, memory_order_relaxed);
}

void hki_stat_committed(ptrdiff_t delta)
{
    size_t now = atomic_fetch_add_explicit(&stat_committed, (size_t)delta, memory_order_relaxed) +
                 (size_t)delta;
    if (delta > 0) {
        size_t peak = atomic_load_explicit(&stat_peak, memory_order_relaxed);
        while (now > peak && !atomic_compare_exchange_weak_explicit(
                                 &stat_peak, &peak, now, memory_order_relaxed, memory_order_relaxed)) {
        }
    }
}

void hki_stat_bytes(size_t *mapped, size_t *committed, size_t *peak_committed)
{
    *committed = atomic_load_explicit(&stat_committed, memory_order_relaxed);
    *peak_committed = atomic_load_explicit(&stat_peak, memory_order_relaxed);
    *mapped = atomic_load_explicit(&stat_mapped, memory_order_relaxed);
}
