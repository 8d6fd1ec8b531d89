/*
 * corrupt.c -- hk_heap_check sees a corrupted process-wide state: the abandoned list
 * (O1..O4, src/ownership.c), the segment registry (R1, src/segment.c), the huge cache
 * (H1..H3) and its far blocks (F1, src/huge.c); a page's report_at (P5, types.h), the
 * heap's owned-segment table (S4, types.h) and its spans (S2, S3, P8, types.h).
 *
 * Two threads each leave a block behind and exit together: their heaps wait as orphans
 * for an heir (E1, E2, src/heap.c), then are dissolved as a purge delay later would, so
 * two segments sit on the abandoned list; a freed huge block sits in the huge cache. The check passes; then one
 * field at a time is corrupted, the check must name the invariant, and the field is put
 * back (the check passes again at the end). Linked with libheapkit.a only: it includes
 * the library's internal headers (-Isrc) to reach the segment headers and the registry.
 * Run with a long HEAPKIT_PURGE_DELAY so that nothing is adopted or expires meanwhile.
 */
#include <pthread.h>
#include <string.h>

#include "robust.h"
#include "heap.h"
#include "ownership.h"

#define THREADS 2

static pthread_barrier_t all_allocated;
static void *left[THREADS];

static void *leave_a_block(void *arg)
{
    long i = (long)arg;
    left[i] = malloc(48);
    pthread_barrier_wait(&all_allocated); /* both hold a segment before either exits */
    return NULL;
}

/* The invariant the check reports first, or "" if it passes. */
static const char *check_reports(void)
{
    hk_report_t r;
    memset(&r, 0, sizeof r);
    return hk_heap_check(&r) == 0 ? "" : r.invariant;
}

static void expect(const char *what, const char *inv)
{
    const char *got = check_reports();
    if (strcmp(got, inv) != 0)
        fprintf(stderr, "%s: the check reported '%s', expected '%s'\n", what, got, inv);
    CHECK(what, strcmp(got, inv) == 0);
}

int main(void)
{
    void *mine = malloc(48); /* main's own small segment: it adopts none of the others */
    pthread_t t[THREADS];
    pthread_barrier_init(&all_allocated, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, leave_a_block, (void *)i);
    for (long i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    hk_heap_t *orphan = atomic_load(&hki_segment_of(left[0])->heap);
    if (orphan == NULL || orphan->orphan_ms == 0) {
        fprintf(stderr, "setup: expected the exited thread's heap to wait as an orphan\n");
        CHECK("setup", 0);
        return hk_test_summary();
    }
    expect("orphans intact", "");
    /* E1: an orphan marked in use */
    atomic_store(&orphan->in_use, 1);
    expect("orphan in use", "E1");
    atomic_store(&orphan->in_use, 0);
    /* E2: an orphan whose count of committed free slots changed */
    orphan->warm_bytes += 4096;
    expect("orphan warm bytes", "E2");
    orphan->warm_bytes -= 4096;
    hki_orphans_dissolve(UINT64_MAX); /* what the purge delay would do */
    hk_segment_t *a = hki_segment_of(left[0]), *b = hki_segment_of(left[1]);
    if (a == b || atomic_load(&a->heap) != NULL || atomic_load(&b->heap) != NULL) {
        fprintf(stderr, "setup: expected two abandoned segments\n");
        CHECK("setup", 0);
        return hk_test_summary();
    }
    hk_segment_t *newer = a->prev == b ? b : a, *older = newer == a ? b : a;
    void *huge = malloc(8 << 20);
    free(huge); /* into the huge cache */
    hk_segment_t *h = hki_segment_of(huge);
    expect("intact", "");

    /* O1: an abandoned segment with an owner */
    atomic_store(&older->heap, &hki_heap_huge);
    expect("abandoned segment with an owner", "O1");
    atomic_store(&older->heap, NULL);

    /* O2: a broken back link */
    hk_segment_t *saved = older->prev;
    older->prev = older;
    expect("broken abandoned link", "O2");
    older->prev = saved;

    /* O3: the older segment stamped younger than the newer one */
    uint64_t ms = older->cached_ms;
    older->cached_ms = newer->cached_ms + 1000;
    expect("abandoned order", "O3");
    older->cached_ms = ms;

    /* O4: a page count that differs from the masks */
    older->used_pages++;
    expect("abandoned used_pages", "O4");
    older->used_pages--;

    /* R1: a registry bit for a segment nobody mapped */
    hk_segment_t *ghost = (hk_segment_t *)(uintptr_t)0x7e0000000000;
    if (!hki_os_is_mapped(ghost)) {
        hki_registry_set(ghost, true);
        expect("registry bit of an unmapped segment", "R1");
        hki_registry_set(ghost, false);
    }

    /* H2: a cached huge block that is still carved (a free would not report) */
    hk_relaxed_store(&h->pages[0].start_limit, hki_block_step(HK_MIN_ALIGN));
    expect("cached huge block carved", "H2");
    hk_relaxed_store(&h->pages[0].start_limit, 0);

    /* H1: the cache's byte count differs from its segments */
    h->map_size += hki_os_page_size();
    expect("huge cache bytes", "H1");
    h->map_size -= hki_os_page_size();

    /* F1: a far block (aligned to 8 MiB) whose header no longer names it */
    void *far = aligned_alloc((size_t)8 << 20, 100);
    hk_segment_t *fh = (hk_segment_t *)((uintptr_t)far - HK_SEG_SIZE); /* huge.c layout */
    expect("far block intact", "");
    fh->pages[0].start += 64;
    expect("far block header", "F1");
    fh->pages[0].start -= 64;
    free(far);

    /* P5: the current page of main's class reports to free's slow path after all */
    hk_page_t *cur = hki_page_of(hki_segment_of(mine), mine);
    uint32_t at = cur->report_at;
    cur->report_at = at == 0 ? HK_REPORT_NEVER : 0;
    expect("report_at of the current page", "P5");
    cur->report_at = at;

    /* P3: the block-start bound admits one block more than is carved (a free of the
     * uncarved block after the last would pass free's test) */
    uint64_t lim = hk_relaxed_load(&cur->start_limit);
    hk_relaxed_store(&cur->start_limit, lim + hki_block_step(cur->block_size));
    expect("start_limit beyond the carved blocks", "P3");
    hk_relaxed_store(&cur->start_limit, lim);

    /* S4: own_seg names a segment of another heap (an orphan's), or one of main's own at
     * a slot that is not its address's */
    hk_heap_t *me = hki_tls_heap;
    hk_segment_t *theirs = hki_segment_of(left[0]), *ours = hki_segment_of(mine);
    hk_segment_t **slot = hki_own_slot(me, theirs), *was = *slot;
    *slot = theirs;
    expect("own_seg names another heap's segment", "S4");
    *slot = was;
    hk_segment_t **wrong = &me->own_seg[(hki_own_slot(me, ours) - me->own_seg + 1) %
                                        HK_OWN_SEG_COUNT];
    was = *wrong;
    *wrong = ours;
    expect("own_seg entry at a wrong slot", "S4");
    *wrong = was;

    /* S2, S3, P8: the span bookkeeping (types.h "Span segment layout") of a span of main's
     * heap, beside a freed one whose slots wait committed with their freed mark */
    char *sp = malloc((size_t)200 << 10), *kept = malloc((size_t)200 << 10);
    char *gone = malloc((size_t)200 << 10);
    hk_segment_t *ss = hki_segment_of(sp);
    hk_page_t *span = hki_page_of(ss, sp), *inner = &ss->pages[span->slot + 1];
    free(kept); /* kept as its class's current page (P8) */
    free(gone); /* its run back to the segment, with the freed mark (S3) */
    hk_page_t *mark = hki_page_of(hki_segment_of(gone), gone);
    expect("spans intact", "");
    inner->class_idx = span->class_idx; /* an interior slot that looks like a page */
    expect("span interior slot with a class", "S2");
    inner->class_idx = 0;
    span->run_slots++; /* a run one slot longer than its block needs */
    expect("span run longer than its block", "P8");
    span->run_slots--;
    uint64_t last = (uint64_t)1 << (span->slot + span->run_slots - 1);
    ss->free_mask |= last; /* the run's last slot marked free */
    expect("span slot marked free", "S2");
    ss->free_mask &= ~last;
    uint64_t holes = ss->hole_lengths;
    ss->hole_lengths ^= (uint64_t)1 << 2; /* the free holes' summary (segment.c) */
    expect("span segment's hole lengths", "S3");
    ss->hole_lengths = holes;
    me->span_count++;
    expect("span count", "P8");
    me->span_count--;
    if (mark->class_idx == 0 && ((hki_segment_of(gone)->marked_mask >> mark->slot) & 1u)) {
        ((hk_block_t *)gone)->next_enc ^= 1; /* a write after free into the freed span */
        expect("freed span written after free", "S3");
        ((hk_block_t *)gone)->next_enc ^= 1;
    } else {
        fprintf(stderr, "setup: expected the freed span's slot to keep its freed mark\n");
        CHECK("setup", 0);
    }
    hk_segment_t *gs = hki_segment_of(gone);
    uint64_t purge = gs->purge_mask;
    gs->purge_mask &= ~((uint64_t)1 << mark->slot); /* the mark on a slot taken as purged */
    expect("freed span's mark on a purged slot", "S3");
    gs->purge_mask = purge;
    free(sp);

    expect("restored", "");
    free(left[0]);
    free(left[1]);
    free(mine);
    return hk_test_summary();
}
