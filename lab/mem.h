/*
 * mem.h -- the lab memory source: what the seeds assume a heap grows from.
 *
 * Design:      Two sources, both counted, so every policy's footprint is measured
 *              the same way:
 *                1. a contiguous region grown like sbrk (lab_mem_sbrk), one growth
 *                   call counted per call that moves the break up;
 *                2. a page mapper like mmap/munmap/mremap (lab_mem_map ...), whose
 *                   sizes are rounded up to LAB_PAGE_SIZE.
 *              footprint = break size + mapped bytes; peak_footprint is its
 *              high-water mark. A limit caps the footprint so tests can provoke
 *              out-of-memory deterministically.
 *              Warm reuse: a closed region is kept (zeroed) for the next lab_mem_init of
 *              the same size, and freed scratch blocks (a policy's state, a mapping
 *              table) for the next scratch allocations of their sizes, so repeated runs do
 *              not pay mmap calls and first-touch page faults that a long-running process's
 *              heap and allocator globals (glibc's included: its arena stays warm from one
 *              timing run to the next) would not pay either.
 * Layout:
 *
 *   base                      base+brk                         base+reserve
 *   |<------ region in use ------>|<------ reserved, not held ------>|
 *   page aligned (LAB_PAGE_SIZE)    never counted in the footprint
 *
 *   mappings: separate page-aligned ranges, each exactly as mapped; table sorted by address.
 *
 * Invariants:  M1 brk <= reserve and footprint == brk + mapped <= limit
 *              M2 peak_footprint >= footprint, never decreases
 *              M3 mappings are sorted, disjoint, page aligned, sizes multiples of LAB_PAGE_SIZE,
 *                 and their sizes sum to `mapped`
 *              lab_mem_check() verifies M1-M3.
 */
#ifndef LAB_MEM_H
#define LAB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_PAGE_SIZE ((size_t)4096)
#define LAB_DEFAULT_LIMIT ((size_t)4 << 30) /* 4 GiB of footprint, reserved lazily */

typedef struct lab_mapping {
    uintptr_t addr;
    size_t    size;
} lab_mapping_t;

typedef struct lab_mem {
    uint8_t *base;           /* start of the sbrk-like region (page aligned) */
    size_t   reserve;        /* bytes of address space reserved for the region */
    size_t   brk;            /* bytes of the region in use */
    size_t   brk_high;       /* highest break so far: the bytes of the region ever touched */
    size_t   limit;          /* cap on footprint (brk + mapped) */
    size_t   mapped;         /* bytes in live mappings */
    size_t   peak_footprint; /* high water of brk + mapped */
    size_t   grow_calls;     /* sbrk calls that grew the region */
    size_t   shrink_calls;   /* lab_mem_trim calls */
    size_t   map_calls;      /* lab_mem_map calls that succeeded */
    size_t   unmap_calls;    /* lab_mem_unmap calls that succeeded */
    size_t   remap_calls;    /* lab_mem_remap calls that succeeded */
    lab_mapping_t *maps;     /* live mappings, sorted by addr */
    size_t   map_count;
    size_t   map_capacity;
} lab_mem_t;

/* Reserves address space for a region capped at `limit` bytes of footprint (0 = default).
 * Returns 0 or an errno. */
int lab_mem_init(lab_mem_t *m, size_t limit);
/* Unmaps the region and every live mapping. */
void lab_mem_fini(lab_mem_t *m);

static inline size_t lab_mem_footprint(const lab_mem_t *m) { return m->brk + m->mapped; }

/* Grows the region by incr bytes (incr may be 0); returns the old break, or NULL when the
 * limit would be exceeded. Like sbrk, the new bytes are contiguous with the old ones. Inline:
 * it only moves counters, and policies that grow a block at the break call it per realloc. */
static inline void *lab_mem_sbrk(lab_mem_t *m, size_t incr)
{
    if (incr > m->reserve - m->brk || incr > m->limit - lab_mem_footprint(m))
        return NULL;
    void *old = m->base + m->brk;
    if (incr) {
        m->brk += incr;
        if (m->brk > m->brk_high)
            m->brk_high = m->brk;
        m->grow_calls++;
        if (lab_mem_footprint(m) > m->peak_footprint)
            m->peak_footprint = lab_mem_footprint(m);
    }
    return old;
}
/* Gives back the top `decr` bytes of the region (decr <= brk). */
void lab_mem_trim(lab_mem_t *m, size_t decr);
static inline uint8_t *lab_mem_lo(const lab_mem_t *m) { return m->base; }
static inline uint8_t *lab_mem_hi(const lab_mem_t *m) { return m->base + m->brk; }

/* Maps a fresh zeroed range of round_up(size, LAB_PAGE_SIZE) bytes; NULL on limit/failure. */
void *lab_mem_map(lab_mem_t *m, size_t size);
/* Unmaps a whole mapping made by lab_mem_map/remap; `size` must be what was asked for
 * (it is rounded the same way). Returns 0, or -1 if p/size is not a live mapping. */
int lab_mem_unmap(lab_mem_t *m, void *p, size_t size);
/* Resizes a whole mapping like mremap(MREMAP_MAYMOVE); returns the new address or NULL
 * (the old mapping is then untouched). */
void *lab_mem_remap(lab_mem_t *m, void *p, size_t old_size, size_t new_size);
/* The live mapping containing p, or NULL. */
const lab_mapping_t *lab_mem_find_mapping(const lab_mem_t *m, const void *p);

static inline size_t lab_mem_round_page(size_t n)
{
    return (n + LAB_PAGE_SIZE - 1) & ~(LAB_PAGE_SIZE - 1);
}
/* True when [p, p+n) lies inside one live mapping. */
bool lab_mem_in_mapping(const lab_mem_t *m, const void *p, size_t n);
/* True when [p, p+n) lies inside the region in use or inside one live mapping. Inline: the
 * dispatcher screens with it every pointer a free or realloc hands to a lab policy that
 * does not screen pointers itself (policy.h LAB_SCREENS_POINTERS). */
static inline bool lab_mem_contains(const lab_mem_t *m, const void *p, size_t n)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)m->base; /* wraps to a huge value below base */
    if (off <= m->brk && n <= m->brk - off)
        return true;
    return lab_mem_in_mapping(m, p, n);
}
/* Memory for the lab's own bookkeeping (policy state): mapped directly, never from the
 * system malloc (whose numbers the libc baseline reads) and never counted in a footprint.
 * Zeroed. NULL on failure. A few freed blocks are kept warm for the next calls of their sizes. */
void *lab_mem_scratch_alloc(size_t size);
void lab_mem_scratch_free(void *p, size_t size);

/* Verifies M1-M3; returns the number of violations. */
struct lab_report;
int lab_mem_check(const lab_mem_t *m, struct lab_report *r);

#endif
