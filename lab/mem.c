/*
 * mem.c -- the lab memory source (see mem.h for the layout and invariants M1-M3).
 *
 * Design:      The only file of the lab that talks to the OS for heap memory. The
 *              region is one reservation made at init (MAP_NORESERVE, so untouched
 *              pages cost nothing); "growing" it only moves a counter, exactly as
 *              sbrk moves the break. Mappings are real mmap/munmap/mremap calls so a
 *              stray access to an unmapped chunk faults instead of passing silently.
 *              The mapping table is scratch memory (mmap'd, kept warm between heaps like
 *              the policy state): the lab never uses the system malloc for bookkeeping
 *              that could disturb the libc baseline's numbers.
 */
#include "mem.h"
#include "policy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* One closed region kept for reuse (see "Warm reuse" in mem.h). */
static struct {
    pthread_mutex_t lock;
    uint8_t        *base;
    size_t          reserve;
} warm = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static uint8_t *warm_take(size_t reserve)
{
    pthread_mutex_lock(&warm.lock);
    uint8_t *base = warm.base && warm.reserve == reserve ? warm.base : NULL;
    if (base)
        warm.base = NULL;
    pthread_mutex_unlock(&warm.lock);
    return base;
}

/* Keeps the region for the next heap, zeroed like fresh mmap memory; false if one is kept already. */
static bool warm_keep(uint8_t *base, size_t reserve, size_t touched)
{
    pthread_mutex_lock(&warm.lock);
    bool keep = warm.base == NULL;
    if (keep) {
        memset(base, 0, touched);
        warm.base = base;
        warm.reserve = reserve;
    }
    pthread_mutex_unlock(&warm.lock);
    return keep;
}

static void footprint_changed(lab_mem_t *m)
{
    size_t now = lab_mem_footprint(m);
    if (now > m->peak_footprint)
        m->peak_footprint = now;
}

int lab_mem_init(lab_mem_t *m, size_t limit)
{
    memset(m, 0, sizeof *m);
    m->limit = limit ? limit : LAB_DEFAULT_LIMIT;
    m->reserve = lab_mem_round_page(m->limit);
    m->base = warm_take(m->reserve);
    if (m->base)
        return 0;
    void *p = mmap(NULL, m->reserve, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno ? errno : ENOMEM;
    m->base = p;
    return 0;
}

void lab_mem_fini(lab_mem_t *m)
{
    if (m->base && !warm_keep(m->base, m->reserve, m->brk_high))
        munmap(m->base, m->reserve);
    for (size_t i = 0; i < m->map_count; i++)
        munmap((void *)m->maps[i].addr, m->maps[i].size);
    lab_mem_scratch_free(m->maps, m->map_capacity * sizeof *m->maps);
    memset(m, 0, sizeof *m);
}

void lab_mem_trim(lab_mem_t *m, size_t decr)
{
    if (decr > m->brk)
        decr = m->brk;
    m->brk -= decr;
    m->shrink_calls++;
}

/* Index of the first mapping with addr > p (binary search). */
static size_t map_upper_bound(const lab_mem_t *m, uintptr_t p)
{
    size_t lo = 0, hi = m->map_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->maps[mid].addr <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int map_table_reserve(lab_mem_t *m)
{
    if (m->map_count < m->map_capacity)
        return 0;
    size_t cap = m->map_capacity ? m->map_capacity * 2 : 256;
    lab_mapping_t *t = lab_mem_scratch_alloc(cap * sizeof *t);
    if (!t)
        return -1;
    if (m->maps) {
        memcpy(t, m->maps, m->map_count * sizeof *t);
        lab_mem_scratch_free(m->maps, m->map_capacity * sizeof *t);
    }
    m->maps = t;
    m->map_capacity = cap;
    return 0;
}

static void map_table_insert(lab_mem_t *m, uintptr_t addr, size_t size)
{
    size_t i = map_upper_bound(m, addr);
    memmove(&m->maps[i + 1], &m->maps[i], (m->map_count - i) * sizeof *m->maps);
    m->maps[i] = (lab_mapping_t){addr, size};
    m->map_count++;
}

static void map_table_remove(lab_mem_t *m, size_t i)
{
    memmove(&m->maps[i], &m->maps[i + 1], (m->map_count - i - 1) * sizeof *m->maps);
    m->map_count--;
}

/* Index of the live mapping that starts exactly at p with rounded size `size`, or SIZE_MAX. */
static size_t map_find_exact(const lab_mem_t *m, const void *p, size_t size)
{
    size_t i = map_upper_bound(m, (uintptr_t)p);
    if (i == 0 || m->maps[i - 1].addr != (uintptr_t)p || m->maps[i - 1].size != size)
        return SIZE_MAX;
    return i - 1;
}

void *lab_mem_map(lab_mem_t *m, size_t size)
{
    size_t rounded = lab_mem_round_page(size);
    if (size == 0 || rounded < size || rounded > m->limit - lab_mem_footprint(m))
        return NULL;
    if (map_table_reserve(m) != 0)
        return NULL;
    void *p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    map_table_insert(m, (uintptr_t)p, rounded);
    m->mapped += rounded;
    m->map_calls++;
    footprint_changed(m);
    return p;
}

int lab_mem_unmap(lab_mem_t *m, void *p, size_t size)
{
    size_t rounded = lab_mem_round_page(size);
    size_t i = map_find_exact(m, p, rounded);
    if (i == SIZE_MAX)
        return -1;
    munmap(p, rounded);
    map_table_remove(m, i);
    m->mapped -= rounded;
    m->unmap_calls++;
    return 0;
}

void *lab_mem_remap(lab_mem_t *m, void *p, size_t old_size, size_t new_size)
{
    size_t old_rounded = lab_mem_round_page(old_size);
    size_t new_rounded = lab_mem_round_page(new_size);
    size_t i = map_find_exact(m, p, old_rounded);
    if (i == SIZE_MAX || new_size == 0 || new_rounded < new_size)
        return NULL;
    if (new_rounded > old_rounded &&
        new_rounded - old_rounded > m->limit - lab_mem_footprint(m))
        return NULL;
    void *q = mremap(p, old_rounded, new_rounded, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
    map_table_remove(m, i);
    map_table_insert(m, (uintptr_t)q, new_rounded);
    m->mapped = m->mapped - old_rounded + new_rounded;
    m->remap_calls++;
    footprint_changed(m);
    return q;
}

const lab_mapping_t *lab_mem_find_mapping(const lab_mem_t *m, const void *p)
{
    size_t i = map_upper_bound(m, (uintptr_t)p);
    if (i == 0)
        return NULL;
    const lab_mapping_t *map = &m->maps[i - 1];
    return (uintptr_t)p - map->addr < map->size ? map : NULL;
}

bool lab_mem_in_mapping(const lab_mem_t *m, const void *p, size_t n)
{
    const lab_mapping_t *map = lab_mem_find_mapping(m, p);
    return map && n <= map->size - ((uintptr_t)p - map->addr);
}

/* Freed scratch blocks kept for reuse (see "Warm reuse" in mem.h): a policy's state and the
 * mapping table of a heap, so a few slots. */
#define WARM_SCRATCH 4
static struct {
    pthread_mutex_t lock;
    void           *block[WARM_SCRATCH];
    size_t          size[WARM_SCRATCH];
} warm_scratch = {PTHREAD_MUTEX_INITIALIZER, {NULL}, {0}};

void *lab_mem_scratch_alloc(size_t size)
{
    size_t rounded = lab_mem_round_page(size ? size : 1);
    void *p = NULL;
    pthread_mutex_lock(&warm_scratch.lock);
    for (int i = 0; i < WARM_SCRATCH && !p; i++)
        if (warm_scratch.block[i] && warm_scratch.size[i] == rounded) {
            p = warm_scratch.block[i]; /* zeroed when it was kept */
            warm_scratch.block[i] = NULL;
        }
    pthread_mutex_unlock(&warm_scratch.lock);
    if (p)
        return p;
    p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void lab_mem_scratch_free(void *p, size_t size)
{
    if (!p)
        return;
    size_t rounded = lab_mem_round_page(size ? size : 1);
    bool kept = false;
    pthread_mutex_lock(&warm_scratch.lock);
    for (int i = 0; i < WARM_SCRATCH; i++)
        if (warm_scratch.block[i] == p) { /* kept twice, two heaps would share it */
            fprintf(stderr, "lab_mem_scratch_free: %p freed twice\n", p);
            abort();
        }
    for (int i = 0; i < WARM_SCRATCH && !kept; i++)
        if (!warm_scratch.block[i]) {
            memset(p, 0, rounded);
            warm_scratch.block[i] = p;
            warm_scratch.size[i] = rounded;
            kept = true;
        }
    pthread_mutex_unlock(&warm_scratch.lock);
    if (!kept)
        munmap(p, rounded);
}

int lab_mem_check(const lab_mem_t *m, struct lab_report *r)
{
    int before = r->count;
    size_t sum = 0;
    LAB_EXPECT(r, m->brk <= m->reserve, "M1: break %zu beyond reserve %zu", m->brk, m->reserve);
    LAB_EXPECT(r, lab_mem_footprint(m) <= m->limit, "M1: footprint %zu over limit %zu",
               lab_mem_footprint(m), m->limit);
    LAB_EXPECT(r, m->peak_footprint >= lab_mem_footprint(m), "M2: peak %zu below footprint %zu",
               m->peak_footprint, lab_mem_footprint(m));
    for (size_t i = 0; i < m->map_count; i++) {
        const lab_mapping_t *map = &m->maps[i];
        LAB_EXPECT(r, map->addr % LAB_PAGE_SIZE == 0 && map->size % LAB_PAGE_SIZE == 0,
                   "M3: mapping %#zx+%zu not page aligned", (size_t)map->addr, map->size);
        LAB_EXPECT(r, i == 0 || m->maps[i - 1].addr + m->maps[i - 1].size <= map->addr,
                   "M3: mapping %#zx overlaps or is out of order", (size_t)map->addr);
        sum += map->size;
    }
    LAB_EXPECT(r, sum == m->mapped, "M3: mappings sum to %zu, mapped says %zu", sum, m->mapped);
    return r->count - before;
}
