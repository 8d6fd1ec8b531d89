/*
 * ownership.h -- which heap owns a segment, and the handoffs between heaps (ownership.c):
 * abandon, claim, adopt, expire; the process-wide checker.
 *
 * Layer:       above segment.h and huge.h, below heap.h. It moves segments between a
 *              heap's segment lists and the abandoned list; what a heap does with the
 *              pages of a segment it took (collect, queue) is heap.c's business.
 */
#ifndef HK_OWNERSHIP_H
#define HK_OWNERSHIP_H

#include "config.h"
#include "huge.h"
#include "lock.h"
#include "segment.h"

/* Why a heap takes a segment; picks the handoff counter (types.h hk_handoff_stats_t). */
typedef enum {
    HK_ADOPT_BY_FREE,   /* claimed by a free into it (counted as claimed) */
    HK_ADOPT_BY_MALLOC, /* taken by a heap needing a page or trimming (counted as adopted) */
    HK_ADOPT_TAKE_BACK  /* a forced trim taking back segments it just emptied, or a heap
                         * merging its own segments into the orphan its thread takes
                         * over (heap.c heap_merge); not counted */
} hk_adopt_why_t;

/* T1: the owner gives seg up (seg is in none of its lists). */
void hki_abandoned_push(hk_segment_t *seg);
/* T3: takes the oldest segment off the abandoned list for heap (sets seg->heap under the
 * lock) if it was abandoned at or before before_ms (UINT64_MAX: any). */
hk_segment_t *hki_abandoned_pop(hk_heap_t *heap, uint64_t before_ms);
/* T3: takes, of the HK_ADOPT_SCAN oldest abandoned segments of `kind` with a free slot,
 * the oldest empty one (nobody will claim it by a free), else the oldest with one page
 * in use or passed over `patience` times by such calls (its blocks' threads had their
 * chances to claim it), for heap; counts one more pass on each it skips; NULL if there
 * is none. */
hk_segment_t *hki_abandoned_pop_kind(hk_heap_t *heap, unsigned kind, unsigned patience);
/* T4: unmaps the empty abandoned segments abandoned at or before before_ms (oldest
 * first; stops after passing HK_ADOPT_SCAN that hold live blocks). */
void hki_abandoned_expire(uint64_t before_ms);
/* T2: takes this abandoned segment for heap; false if another heap adopted it first. */
bool hki_abandoned_claim(hk_segment_t *seg, hk_heap_t *heap);
size_t hki_abandoned_count(void);
extern hk_lock_t hki_abandoned_lock;

/* A second empty segment the heap does not keep (hki_segment_page_free returned it):
 * released without a purge delay, else abandoned still committed (T1). */
void hki_segment_give_up(hk_segment_t *seg);
/* Links seg, just taken off the abandoned list (T2/T3) or off the lists of another heap
 * the caller owns (heap.c heap_merge), into heap's segment lists and
 * counts; the caller then takes over its pages (heap.c hki_heap_adopt). */
void hki_segment_take(hk_heap_t *heap, hk_segment_t *seg, hk_adopt_why_t why);
/* A heap dissolved (heap.c: an orphan nobody took, or thread exit without a purge
 * delay), once every page is collected and the empty ones retired: the heap's
 * empty segments go to the abandoned list committed (unless the purge delay is 0), the
 * others' free slots are purged and they are abandoned too (T1); the heap owns nothing
 * afterwards. */
void hki_heap_abandon_segments(hk_heap_t *heap);
/* The heap's empty segments go to the abandoned list still committed, where a heap about
 * to map a fresh segment takes them (T1; nothing without a purge delay). */
void hki_heap_abandon_empty(hk_heap_t *heap);

/* The process-wide checker: O1..O4 (ownership.c) on the abandoned list, R1 on the
 * registry (segment.c), H1..H3 on the huge cache (huge.c). Returns the violations. */
int hki_ownership_check(hki_check_fail_fn *fail, void *arg);

#endif
