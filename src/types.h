/*
 * types.h -- every data structure of libheapkit, with its layout and invariants.
 *
 * Glossary (one word, one meaning):
 *   OS page   the kernel's page (4 KiB); only os/posix.c and purging care about it.
 *   segment   a 4 MiB region aligned to 4 MiB, obtained from the OS; starts with its header
 *             (hk_segment_t); owned by one heap (thread). A huge segment holds one huge block
 *             and may be larger than 4 MiB.
 *   slot      the i-th 1/page_count of a segment; a page occupies one slot, a span a run.
 *   page      a run of blocks of ONE size class inside a slot (hk_page_t describes it; the
 *             descriptor lives in the segment header, never inside the page).
 *   span      a page of the span kind: ONE block (72 KiB .. 1 MiB) on a run of adjacent
 *             64 KiB slots of a span segment; its descriptor is its first slot's.
 *   block     what malloc returns. Blocks carry no header.
 *   class     a size class 1..112 (class 0 = none): 16..256 in steps of 16, then eight
 *             classes per power of two up to 1 MiB (rounding waste <= 1/8 of the request).
 *   heap      per-thread state: page queues per class, its segments, counters.
 *
 * Variants (config.h): HK_DEBUG 0..3, HK_STATS, HK_SECURE (libheapkit-secure.so: the
 * canary, fill and quarantine of secure.c, whose top comment draws a secure block).
 *
 * ---- Segment layout (normal kinds) ------------------------------------------------------
 *
 *   seg = addr & ~(4 MiB - 1)
 *   seg ->  +---------------------------------------------+  0
 *           | hk_segment_t: owner heap, kind, masks,       |
 *           | pages[0..page_count-1] (descriptors)         |
 *           | ... unused (never touched)                   |
 *           +---------------------------------------------+  HK_SEG_HDR_SIZE (64 KiB)
 *           | slot 0 area (small, span: none, slot 0 is    |
 *           |   the header; medium: shortened slot 0)      |
 *           +---------------------------------------------+  1 << page_shift
 *           | slot 1 area  [block][block][block]...[bump] |
 *           +---------------------------------------------+
 *           | ...                                          |
 *           +---------------------------------------------+  4 MiB
 *
 *   The secure build (segment.h "guard pages") makes the header's last 4 KiB and the
 *   segment's last 4 KiB PROT_NONE; hki_slot_end stops the last slot's area before the
 *   latter.
 *
 *   kind    page_shift  slots  block sizes      blocks per page
 *   small   16 (64K)    64     16 .. 8 KiB      >= 8 (slot 0 unusable)
 *   medium  17 (128K)   32     10 KiB .. 64 KiB >= 1 (slot 0: 64K)
 *   span    16 (64K)    64     72 KiB .. 1 MiB  1, on a run of ceil(size / 64K) slots
 *
 * ---- Span segment layout ----------------------------------------------------------------
 *
 *   seg ->  +-------------+--------+--------+--------+--------+--------+-----+---------+
 *           | header      | span A          | free   | span B (3 slots)         | ... | free    |
 *           | slot 0      | slot 1 | slot 2 | slot 3 | slot 4 | slot 5 | 6   |     63  |
 *           +-------------+--------+--------+--------+--------+--------+-----+---------+
 *   pages[1]: span A, class_idx = A's class, run_slots = 2, start = seg + 64K, one block
 *             of block_size = its class size <= run_slots * 64K (the rest of the run is
 *             never touched by heapkit); pages[2]: an interior slot, all zero but for
 *             free-slot leftovers (class_idx 0, start_limit 0, run_slots 0), so free() of an
 *             address inside A beyond A's first slot fails the block-start check (free.c
 *             reports it against A: hki_span_of); pages[3]: a free slot.
 *   free_mask has a bit per free slot, so a freed span's slots merge with their free
 *   neighbours by themselves; a new span takes a free hole of exactly k slots if a
 *   segment has one, else k slots of a larger hole, committed ones (purge_mask) first
 *   (segment.c hki_segment_span_alloc; hole_lengths summarizes the holes). A span block
 *   is 64 KiB-aligned; realloc grows or shrinks it in place over the slots after its run. *
 *   Every page area starts at a multiple of 64 KiB, so a class whose block size is a
 *   multiple of A (A <= 64 KiB) yields A-aligned blocks: that is how aligned allocation
 *   works without interior pointers.
 *
 * ---- Huge segment layout ----------------------------------------------------------------
 *
 *   seg ->  +------------------------------+  4 MiB aligned
 *           | hk_segment_t with pages[1]   |
 *   p   ->  +------------------------------+  seg + 256 rounded up to the alignment (< 4 MiB;
 *           |                              |  an alignment >= 4 MiB puts p at seg + 4 MiB:
 *           |                              |  huge.c "far blocks")
 *           | block (usable = end - p)     |
 *           +------------------------------+  seg + map_size
 *   The secure build: p is 2 OS pages after seg at least, the page before p and the
 *   mapping's last page are guard pages, and the block ends before the latter (huge.c).
 *   pages[0] describes the block as a page of capacity 1 (start = p), page_shift = 63 so
 *   the page lookup of free() always lands on pages[0]. heap = &hki_heap_huge (a marker
 *   that no thread owns), so free() takes its "not mine" path, which routes to huge.c.
 *
 * ---- Block layout -----------------------------------------------------------------------
 *
 *   live block:   | user data ... (block_size bytes)           |   first word set to 0 on
 *                                                                   allocation
 *   free block:   | next ^ key | stale user data ...            |   next = following free
 *                                                                   block or NULL
 *   key is a random odd secret (one per process). A free block's first word therefore
 *   decodes to NULL or to an address inside its own page; any other value marks a block
 *   that is not on a free list. Odd key: the zero word of a live block decodes to an odd,
 *   hence invalid, address.
 *
 * ---- Page invariants (checked by page_check() in heapcheck.c) --------------------------
 *
 *   P1  every block on free, local_free and thread_free lies in [start, start+capacity*bs),
 *       is a multiple of block_size from start, and the lists are acyclic and disjoint.
 *   P2  used + |free| + |local_free| == capacity, and |thread_free| <= used (a block
 *       freed by another thread stays counted in used until the owner collects it);
 *       |free| <= stat_fed (the difference is the allocations not yet counted).
 *   P3  capacity <= reserved, reserved * block_size <= area size, div_magic ==
 *       hki_block_magic(block_size), start_limit == capacity * hki_block_step(block_size)
 *       (segment.h; the carved part, capacity * block_size, is derived from it).
 *   P4  block_size == hki_class_size[class_idx], class_idx != 0 for a page in use.
 *   P5  a page in use is on exactly one list: queue[class_idx] (in_full = 0, report_at =
 *       0, or HK_REPORT_NEVER for heap->current[c] when there is a purge delay) or the
 *       heap's full list (in_full = 1, report_at = hki_full_report_at(capacity));
 *       the first page of queue[c] is heap->current[c].
 *   P6  heap->direct[i] == heap->current[class of size 16*i] (or the empty page).
 *   P7  (secure build) canary_end == hki_page_canary_end(block_size): block_size - 7, or
 *       0 (every free goes to secure.c) if the blocks have no canary or the quarantine or
 *       zeroing on free is on.
 *   P8  a page has run_slots != 0 iff its class is a span class (>= HK_SPAN_CLASS_MIN);
 *       a span has run_slots == hki_span_slots(block_size), reserved == 1, area_size ==
 *       the bytes of its run (hki_slot_end of its last slot - start), and is on the heap's
 *       span list (heap->spans, in_full = 0, report_at = 0; span_count its length), or
 *       is the only page of queue[class_idx] (then heap->current[c], as P5 says): a span
 *       whose block its owner freed is kept so while its class has no current page, and
 *       joins the span list when malloc hands its block out again and then wants another
 *       (heap.c find_span_once), or is retired as kept pages are.
 *
 * ---- Segment invariants (checked by segment_check()) ----------------------------------
 *
 *   S1  the segment is in the registry; its owner is the heap that lists it (or NULL when
 *       it is on the abandoned list).
 *   S2  used_pages == number of slots with class_idx != 0 (the pages). A page covers its
 *       slot, a span the run_slots slots from its slot (within valid_mask, never another
 *       page's); the slots in use (valid & ~free_mask) are exactly the covered ones, and
 *       a covered slot that is not a page's own (a span's interior slot) has class_idx 0,
 *       run_slots 0 and start_limit 0. (Small and medium: used_pages == popcount(in use).)
 *   S3  purge_mask is a subset of free_mask; a slot in free_mask has start_limit == 0,
 *       class_idx 0 and run_slots 0. marked_mask is a subset of purge_mask: the slots
 *       where a freed span's block starts, whose first word still holds its free link,
 *       NULL ^ key (its freed mark; key: the slot descriptor's), which the span that
 *       takes the slot again checks (a write after free; segment.c slots_take), and
 *       which makes a second free of the block a reported double free (free.c).
 *       hole_lengths (span segments; 0 otherwise) has bit L set iff free_mask holds a
 *       maximal run of exactly L free slots.
 *   S4  heap->free_seg is HK_SEG_NONE or one of the heap's segments; so is each entry
 *       of heap->own_seg[], at the index hki_own_slot gives its address (free() trusts
 *       both to be mapped and the heap's own without a registry or owner lookup).
 *   S5  heap->warm_bytes == the area of the slots in purge_mask over the heap's segments
 *       (free slots still committed: what HEAPKIT_EXIT_KEEP counts, heap.c "orphans").
 *
 * ---- Concurrency ------------------------------------------------------------------------
 *
 *   The owner thread alone touches its heap and every page field except thread_free
 *   (any thread pushes with CAS) and start_limit (read by any freeing thread, relaxed atomic).
 *   seg->heap is an atomic pointer: it changes only on abandonment (owner -> NULL) and
 *   adoption (NULL -> adopter); both happen under the abandoned-list lock, so NULL means
 *   "on the abandoned list" (a freeing thread claims such a segment: free.c).
 *   Descriptors of slots never taken are all zero (a fresh mapping): a valid free slot.
 */
#ifndef HK_TYPES_H
#define HK_TYPES_H

#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hk_block_s {
    uintptr_t next_enc; /* (next free block) ^ page key */
} hk_block_t;

typedef struct hk_heap_s hk_heap_t;

typedef struct hk_page_s {
    /* cache line 1: everything malloc's and free's fast paths touch */
    hk_block_t *free;       /* blocks ready for malloc */
    hk_block_t *local_free; /* blocks freed by the owner, merged into free when it runs out */
    uint32_t used_rel;      /* used - report_at (mod 2^32), where used = blocks handed out
                             * and not yet returned to the owner: free's fast path counts
                             * it down and reports at 0 (segment.h hki_page_used) */
    uint32_t capacity;      /* blocks carved so far */
    uintptr_t key;          /* free-list encoding key (hki_key) */
    uintptr_t start;        /* address of block 0 */
    uint64_t div_magic;     /* floor(2^64 / block_size) + 1 (segment.h hki_block_magic) */
    uint64_t start_limit;   /* capacity * step, where step = div_magic * block_size mod
                             * 2^64: an offset from start is a carved block start iff
                             * offset * div_magic < start_limit (hki_block_is_start);
                             * 0: nothing carved. Other threads' frees read it:
                             * segment.h hki_page_start_limit */
    uint8_t class_idx;      /* 0: slot not in use */
    uint8_t in_full;        /* on the heap's full list */
    uint8_t slot;           /* index in the segment */
    uint8_t run_slots;      /* a span: the slots of its run (2..16, P8); else 0 */
    uint32_t report_at;     /* free's fast path calls its slow path when `used` drops to
                             * this: 0, or on the full list an eighth below capacity (P5);
                             * changed only by hki_page_set_report_at */
    /* cache line 2: slow paths, and the other threads' frees */
    size_t block_size;
    uint32_t reserved;      /* blocks that fit in the area */
    uint32_t stat_fed;      /* blocks put on `free` since allocations were last counted,
                             * plus |free| then (stats.c: allocations = stat_fed - |free|) */
    size_t area_size;       /* bytes from start to the end of the slot */
    struct hk_page_s *next, *prev; /* queue links */
    uint64_t expire_ms;     /* free slot: purge deadline; empty page: retire deadline */
    _Atomic uintptr_t thread_free; /* blocks freed by other threads (encoded list) */
    uint32_t stat_used;     /* `used` when last added to the heap's statistics */
#if HK_SECURE
    uint32_t canary_end;    /* free's fast path takes a block whose canary says less (P7) */
#else
    uint32_t pad3_;
#endif
} __attribute__((aligned(64))) hk_page_t;

enum { HK_KIND_SMALL = 0, HK_KIND_MEDIUM = 1, HK_KIND_SPAN = 2, HK_KIND_HUGE = 3 };
#define HK_KIND_COUNT 3 /* kinds with pages (not huge) */

typedef struct hk_segment_s {
    hk_heap_t *_Atomic heap; /* owner; NULL while abandoned; &hki_heap_huge for huge */
    uint8_t kind;
    uint8_t page_shift;
    uint8_t page_count;
    uint8_t passed_over;     /* abandoned: times a heap about to map a fresh one skipped it */
    uint32_t used_pages;
    uint64_t valid_mask;     /* slots that can hold a page */
    uint64_t free_mask;      /* slots not in use */
    uint64_t purge_mask;     /* free slots still committed (awaiting purge) */
    uint64_t marked_mask;    /* span segments: free slots where a freed block starts (S3) */
    uint64_t hole_lengths;   /* span segments: bit L = a hole of exactly L free slots (S3) */
    size_t map_size;         /* bytes mapped at the segment base */
    uint64_t cached_ms;      /* huge: when it entered the cache; else: when abandoned */
    struct hk_segment_s *next, *prev; /* heap's list per kind / abandoned list / huge cache */
    hk_page_t pages[];       /* page_count descriptors (1 for huge) */
} hk_segment_t;

#define HK_SEG_PAGES_MAX 64
#define HK_HUGE_HDR_SIZE 256

_Static_assert(sizeof(hk_segment_t) + HK_SEG_PAGES_MAX * sizeof(hk_page_t) <= HK_SEG_HDR_SIZE,
               "segment header must fit in HK_SEG_HDR_SIZE");
_Static_assert(sizeof(hk_segment_t) + sizeof(hk_page_t) <= HK_HUGE_HDR_SIZE,
               "huge header must fit in HK_HUGE_HDR_SIZE");
_Static_assert((HK_SEG_SIZE >> HK_SMALL_PAGE_SHIFT) <= HK_SEG_PAGES_MAX, "too many slots");
_Static_assert(sizeof(hk_page_t) == 128 && offsetof(hk_page_t, block_size) == 64,
               "page descriptors: two cache lines, the fast-path fields in the first");
_Static_assert(offsetof(hk_segment_t, pages) % 64 == 0, "descriptors are line-aligned");

/* never equal to a segment base (those are 4 MiB aligned) */
#define HK_SEG_NONE ((hk_segment_t *)(uintptr_t)1)

typedef struct hk_page_queue_s {
    hk_page_t *first, *last;
} hk_page_queue_t;

/* A statistics counter: written only by its owner thread with plain (relaxed) load+store,
 * read by anyone with a relaxed load. */
typedef _Atomic size_t hk_counter_t;

/* Per class, kept off the fast paths (stats.c):
 *   live   a page remembers the `used` value it last reported (stat_used) and the slow
 *          paths add the difference (hki_page_stat_flush). Modular: one heap's count may
 *          wrap below zero (an adopted page reports frees of blocks that the exited owner
 *          counted), the total over all heaps never does.
 *   alloc  blocks leave `free` only by malloc's pop, so a page counts the blocks it puts
 *          on `free` (carving, collecting: stat_fed) and the allocations since the last
 *          count are stat_fed - |free| (hki_page_alloc_flush: free for the page malloc's
 *          slow path finds empty, a walk of `free` otherwise).
 *   frees = alloc - live (derived when reported). */
typedef struct hk_class_stats_s {
    hk_counter_t live[HK_CLASS_COUNT];
    hk_counter_t alloc[HK_CLASS_COUNT];
} hk_class_stats_t;

/* Ownership handoffs, owner-only counters off the fast paths:
 *   remote_frees  blocks other threads freed into this heap's pages (their thread_free
 *                 pushes), counted when this heap collects them (page.c), so free's
 *                 remote path costs nothing more; blocks never collected are not counted
 *   claimed       abandoned segments it took by freeing into them (free.c), and the
 *                 segments of an exited thread's heap it took over by freeing into one
 *                 (heap.c "orphans")
 *   adopted       abandoned segments its slow path or a trim took (heap.c; not the ones a
 *                 forced trim takes back right after emptying them), and the segments of
 *                 an exited thread's heap it took over at its first malloc */
typedef struct hk_handoff_stats_s {
    hk_counter_t remote_frees;
    hk_counter_t claimed;
    hk_counter_t adopted;
} hk_handoff_stats_t;

#if HK_SECURE
/* The secure build's quarantine (secure.c, invariants Q1-Q2 there): a FIFO ring of the
 * thread's last freed blocks, still counted live by their pages. */
#define HK_QUARANTINE_COUNT 1024
typedef struct hk_quarantine_s {
    void *ring[HK_QUARANTINE_COUNT];
    uint32_t head, count; /* oldest entry, entries */
    size_t bytes;         /* their block sizes */
} hk_quarantine_t;
#endif

/*
 * Heap: one per thread. direct[] and current[] are caches of the queue heads, so the
 * malloc fast path is: page = direct[(n+15)/16]; pop page->free.
 */
struct hk_heap_s {
    /* A segment this heap owns, known to be in the registry (HK_SEG_NONE: none): free()
     * skips the registry lookup for it. The owner sets it when it frees into one of its
     * segments and clears it before the segment leaves the heap (released or abandoned),
     * so it never names an unmapped segment. */
    hk_segment_t *free_seg;
    hk_page_t *direct[HK_DIRECT_COUNT];
    hk_page_t *current[HK_CLASS_COUNT];
    hk_page_queue_t queue[HK_CLASS_COUNT];
    hk_page_queue_t full;
    size_t full_count;
    hk_page_queue_t spans;             /* live spans (P8), newest first */
    size_t span_count;
    size_t spans_since_sweep;          /* span mallocs since the list was last swept */
    size_t fresh_since_sweep;
    hk_segment_t *segs[HK_KIND_COUNT]; /* per kind: segments with a free slot */
    hk_segment_t *segs_full;           /* segments without a free slot (any kind) */
    size_t seg_count;
    size_t empty_segs;                 /* segments with used_pages == 0 */
    size_t purge_pending;              /* free slots awaiting purge + empty kept pages */
    size_t warm_bytes;                 /* area of those free slots (S5) */
    size_t orphan_warm;                /* warm_bytes while an orphan (heap.c E2) */
    uint64_t next_purge_ms;
    uint64_t next_kept_ms;             /* next look for empty current pages to retire */
    size_t slow_count;
    uint64_t orphan_ms;   /* its thread exited, it waits for an heir: since when (0: not) */
    hk_heap_t *orphan_next; /* orphans being dissolved together (heap.c) */
    hk_heap_t *pool_next; /* all heaps ever created (never unlinked) */
    _Atomic int in_use;
    /* Segments this heap owns, known to be in the registry, by their address's low bits
     * (HK_SEG_NONE: none; S4): free()'s second chance when a block is not in free_seg.
     * A program whose frees alternate between segments (redis: 41% of its frees) paid
     * the registry and owner lookups for each; filled and cleared as free_seg is. */
    hk_segment_t *own_seg[HK_OWN_SEG_COUNT];
    hk_class_stats_t stats;
    hk_handoff_stats_t handoff;
#if HK_SECURE
    hk_quarantine_t quarantine; /* last, so the default build's fields keep their offsets */
#endif
};

#endif
