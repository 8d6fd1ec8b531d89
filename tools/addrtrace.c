/*
 * addrtrace.c -- address-named calls into an id trace (see addrtrace.h).
 *
 * Design:      The address map is open addressing with linear probing and deletion by
 *              backward shift (no tombstones, so a long run of mallocs and frees never
 *              degrades it), kept at most half full. Output arrays double as they fill.
 *              An allocation failure stops the build (failed) rather than writing a
 *              trace that silently lacks ops.
 * Complexity:  O(1) expected per call.
 */
#include "addrtrace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- Address map ---- */

static uint32_t slot_of(const addrmap_t *m, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & (m->capacity - 1);
}

/* Tables of 2 MiB and more are mapped on their own, in huge pages where the kernel
 * gives them (madvise): a live set of 10^6 blocks makes a 32 MiB table, whose random
 * probes otherwise miss the TLB at nearly every op and whose 4 KiB pages each cost a
 * fault or two (perl's recording: 40K faults in the converter). Both are zeroed. */
#define HUGE_BYTES ((size_t)2 << 20)

static bool table_mapped(uint32_t capacity)
{
    return (size_t)capacity * sizeof(addrmap_slot_t) >= HUGE_BYTES;
}

static addrmap_slot_t *table_alloc(uint32_t capacity)
{
    size_t bytes = (size_t)capacity * sizeof(addrmap_slot_t);
    if (!table_mapped(capacity))
        return calloc(capacity, sizeof(addrmap_slot_t));
    /* HUGE_BYTES more, so that a huge page boundary is inside; the rest is given back */
    unsigned char *p = mmap(NULL, bytes + HUGE_BYTES, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (HUGE_BYTES - (uintptr_t)p % HUGE_BYTES) % HUGE_BYTES;
    if (head)
        munmap(p, head);
    if (HUGE_BYTES - head)
        munmap(p + head + bytes, HUGE_BYTES - head);
    madvise(p + head, bytes, MADV_HUGEPAGE); /* a hint: 4 KiB pages work too */
    return (addrmap_slot_t *)(void *)(p + head);
}

static void table_free(addrmap_slot_t *slots, uint32_t capacity)
{
    if (slots && table_mapped(capacity))
        munmap(slots, (size_t)capacity * sizeof *slots);
    else
        free(slots);
}

static bool map_grow(addrmap_t *m)
{
    uint32_t old_cap = m->capacity, cap = old_cap ? old_cap * 2 : 1024;
    addrmap_slot_t *slots = cap > old_cap ? table_alloc(cap) : NULL, *old = m->slots;
    if (!slots)
        return false;
    m->slots = slots;
    m->capacity = cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i].key) {
            uint32_t s = slot_of(m, old[i].key);
            while (slots[s].key)
                s = (s + 1) & (cap - 1);
            slots[s] = old[i];
        }
    table_free(old, old_cap);
    return true;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t map_find(const addrmap_t *m, uint64_t key)
{
    uint32_t s = slot_of(m, key);
    while (m->slots[s].key && m->slots[s].key != key)
        s = (s + 1) & (m->capacity - 1);
    return s;
}

bool addrmap_get(const addrmap_t *m, uint64_t key, uint32_t *val)
{
    if (!m->capacity || !key)
        return false;
    uint32_t s = map_find(m, key);
    if (!m->slots[s].key)
        return false;
    *val = m->slots[s].val;
    return true;
}

/* pre: key not in the map, key != 0 */
bool addrmap_put(addrmap_t *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->capacity && !map_grow(m))
        return false;
    uint32_t s = map_find(m, key);
    m->slots[s] = (addrmap_slot_t){.key = key, .val = val};
    m->count++;
    return true;
}

void addrmap_prefetch(const addrmap_t *m, uint64_t key)
{
    if (m->capacity)
        __builtin_prefetch(&m->slots[slot_of(m, key)]);
}

/* Removes key (if there) and returns whether it was; *val gets its value, *size its
 * size field. */
static bool map_take(addrmap_t *m, uint64_t key, uint32_t *val, uint32_t *size)
{
    if (!m->capacity || !key)
        return false;
    uint32_t s = map_find(m, key), mask = m->capacity - 1;
    if (!m->slots[s].key)
        return false;
    *val = m->slots[s].val;
    *size = m->slots[s].size;
    m->count--;
    /* backward shift: an entry later in the probe run moves into the hole unless its
     * home slot lies cyclically in (hole, j], where it is still reachable */
    uint32_t hole = s;
    for (uint32_t j = (s + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        uint32_t home = slot_of(m, m->slots[j].key);
        bool reachable = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (reachable)
            continue;
        m->slots[hole] = m->slots[j];
        hole = j;
    }
    m->slots[hole].key = 0;
    return true;
}

void addrmap_free(addrmap_t *m)
{
    table_free(m->slots, m->capacity);
    memset(m, 0, sizeof *m);
}

/* ---- Ids ---- */

static bool grow(void **array, size_t elem, size_t count)
{
    void *p = realloc(*array, count * elem);
    if (!p)
        return false;
    *array = p;
    return true;
}

static bool new_id(addrtrace_t *b, uint32_t *id)
{
    if (b->free_count) {
        *id = b->free_ids[--b->free_count];
        return true;
    }
    if (b->next_id == b->id_capacity) {
        uint32_t cap = b->id_capacity ? b->id_capacity * 2 : 4096;
        bool per_id = !b->emit; /* what at_each_live reads: written for nothing else */
        if (cap < b->id_capacity ||
            (per_id && (!grow((void **)&b->addr, sizeof *b->addr, cap) ||
                        !grow((void **)&b->size, sizeof *b->size, cap) ||
                        !grow((void **)&b->kind, sizeof *b->kind, cap) ||
                        !grow((void **)&b->align_shift, sizeof *b->align_shift, cap))) ||
            !grow((void **)&b->free_ids, sizeof *b->free_ids, cap))
            return false;
        b->id_capacity = cap;
    }
    *id = b->next_id++;
    return true;
}

/* A size of AT_SIZE_BIG or more kept for id in big_size (grown to hold it). */
static bool keep_big(addrtrace_t *b, uint32_t id, uint64_t size)
{
    if (id >= b->big_capacity) {
        uint32_t cap = b->big_capacity ? b->big_capacity : 64;
        while (cap <= id && cap < UINT32_MAX / 2)
            cap *= 2;
        if (cap <= id || !grow((void **)&b->big_size, sizeof *b->big_size, cap))
            return false;
        b->big_capacity = cap;
    }
    b->big_size[id] = size;
    return true;
}

/* A block's size as the live map keeps it: below AT_SIZE_BIG in the slot, else in
 * big_size. Returns false when out of memory. */
static inline bool size_field(addrtrace_t *b, uint32_t id, uint64_t size, uint32_t *field)
{
    *field = size < AT_SIZE_BIG ? (uint32_t)size : AT_SIZE_BIG;
    return size < AT_SIZE_BIG || keep_big(b, id, size);
}

/* The size of id that a slot's size field stands for (size_field's inverse). */
static inline uint64_t field_size(const addrtrace_t *b, uint32_t id, uint32_t field)
{
    return field < AT_SIZE_BIG ? field : b->big_size[id];
}

static void release_id(addrtrace_t *b, uint32_t id)
{
    b->free_ids[b->free_count++] = id; /* free_ids has room for every id */
    if (!b->emit)
        b->addr[id] = 0;
}

/* ---- Output ---- */

/* The state of raw thread `raw`, grown as threads appear; NULL when out of memory. */
static at_thread_t *raw_thread(addrtrace_t *b, uint32_t raw)
{
    if (raw >= b->thread_capacity) {
        uint32_t cap = b->thread_capacity ? b->thread_capacity : 64;
        while (cap <= raw && cap < (UINT32_MAX >> 1))
            cap *= 2;
        if (cap <= raw || !grow((void **)&b->threads, sizeof *b->threads, cap)) {
            b->failed = true;
            return NULL;
        }
        memset(b->threads + b->thread_capacity, 0,
               (cap - b->thread_capacity) * sizeof *b->threads);
        b->thread_capacity = cap;
    }
    return &b->threads[raw];
}

static inline uint32_t trace_thread(addrtrace_t *b, uint32_t raw)
{
    /* per op: a known thread without the call that grows the table */
    at_thread_t *th = raw < b->thread_capacity ? &b->threads[raw] : raw_thread(b, raw);
    if (!th)
        return 0;
    if (!th->trace_thread)
        th->trace_thread = ++b->out->num_threads;
    return th->trace_thread - 1;
}

static bool grow_output(addrtrace_t *b, uint32_t cap)
{
    trace_t *t = b->out;
    if (cap <= b->capacity || !grow((void **)&t->ops, sizeof *t->ops, cap) ||
        !grow((void **)&t->thread, sizeof *t->thread, cap) ||
        !grow((void **)&t->time, sizeof *t->time, cap) ||
        !grow((void **)&t->callsite, sizeof *t->callsite, cap) ||
        !grow((void **)&t->lines, sizeof *t->lines, cap))
        return false;
    b->capacity = cap;
    return true;
}

void at_set_stream(addrtrace_t *b, trace_stream_t *stream) { b->stream = stream; }

void at_reserve(addrtrace_t *b, uint64_t ops)
{
    if (b->emit && !b->stream && ops > b->capacity && ops < UINT32_MAX)
        grow_output(b, (uint32_t)ops); /* a hint: failing here only means growing later */
}

/* The time of the next op since the first, never below the one before (threads stamp
 * their calls a little out of seq order). */
static inline uint64_t op_time(addrtrace_t *b, uint64_t time)
{
    if (!b->has_time) {
        b->first_time = b->last_time = time;
        b->has_time = true;
    }
    if (time < b->last_time)
        time = b->last_time;
    b->last_time = time;
    return time - b->first_time;
}

static inline void emit_to_stream(addrtrace_t *b, uint8_t kind, uint32_t id, uint64_t size,
                                  uint8_t align_shift, uint32_t thread, uint64_t time,
                                  uint32_t callsite, uint64_t freed)
{
    trace_t *t = b->out;
    if (t->num_ops == UINT32_MAX) { /* what a trace counts */
        b->failed = true;
        return;
    }
    t->num_ops++;
    trace_op_t op = {.size = (size_t)size, .id = id, .kind = kind, .align_shift = align_shift};
    b->any_callsite |= callsite != 0;
    if (id >= t->id_span)
        t->id_span = id + 1;
    trace_stream_op(b->stream, &op, trace_thread(b, thread), op_time(b, time), callsite,
                    freed);
}

/* freed: for a free or a realloc, the size id had until this op (the stream's peak
 * count, trace.h), else 0. */
static void emit(addrtrace_t *b, uint8_t kind, uint32_t id, uint64_t size, uint8_t align_shift,
                 uint32_t thread, uint64_t time, uint32_t callsite, uint64_t freed)
{
    trace_t *t = b->out;
    if (!b->emit || b->failed)
        return;
    if (b->stream) { /* written as it comes: nothing stored (at_set_stream) */
        emit_to_stream(b, kind, id, size, align_shift, thread, time, callsite, freed);
        return;
    }
    if (t->num_ops == b->capacity &&
        !grow_output(b, b->capacity ? b->capacity * 2 : 65536)) {
        b->failed = true;
        return;
    }
    uint32_t i = t->num_ops++;
    t->ops[i] = (trace_op_t){.size = (size_t)size, .id = id, .kind = kind,
                             .align_shift = align_shift};
    t->thread[i] = trace_thread(b, thread);
    t->time[i] = op_time(b, time);
    t->callsite[i] = callsite;
    t->lines[i] = i + 1; /* no file yet: messages name the op number */
    b->any_callsite |= callsite != 0;
    if (id >= t->id_span)
        t->id_span = id + 1;
}

/* ---- Calls ---- */

int at_init(addrtrace_t *b, trace_t *out, bool emit_ops)
{
    memset(b, 0, sizeof *b);
    memset(out, 0, sizeof *out);
    out->format = TRACE_FORMAT_HKT;
    b->out = out;
    b->emit = emit_ops;
    return 0;
}

void at_fini(addrtrace_t *b)
{
    addrmap_free(&b->live);
    free(b->addr);
    free(b->size);
    free(b->kind);
    free(b->align_shift);
    free(b->big_size);
    free(b->free_ids);
    free(b->threads);
    memset(b, 0, sizeof *b);
}

/* field: the block's size field (addrmap_slot_t). */
static void free_id(addrtrace_t *b, uint32_t id, uint32_t field, uint32_t thread,
                    uint64_t time)
{
    emit(b, TRACE_FREE, id, 0, 0, thread, time, 0, field_size(b, id, field));
    release_id(b, id);
}

/* What at_each_live reports of a live block (a live-set builder only). */
static void keep_block(addrtrace_t *b, uint32_t id, uint64_t size, uint8_t kind,
                       uint8_t align_shift)
{
    if (b->emit)
        return;
    b->size[id] = size;
    b->kind[id] = kind;
    b->align_shift[id] = align_shift;
}

/* Makes addr live as id with this size, freeing whatever the log still had there. One
 * probe: a stale entry takes the new id in place (its probe run stays as it was), and an
 * absent key goes into the empty slot that ended the search (found again only when the
 * map grew). */
static void bind(addrtrace_t *b, uint64_t addr, uint32_t id, uint64_t size, uint32_t thread,
                 uint64_t time)
{
    addrmap_t *m = &b->live;
    uint32_t field;
    if (!size_field(b, id, size, &field)) {
        b->failed = true;
        return;
    }
    if (!b->emit)
        b->addr[id] = addr;
    uint32_t s = m->capacity ? map_find(m, addr) : 0;
    if (m->capacity && m->slots[s].key) {
        uint32_t stale = m->slots[s].val, stale_field = m->slots[s].size;
        m->slots[s].val = id;
        m->slots[s].size = field;
        b->implicit_frees++;
        free_id(b, stale, stale_field, thread, time);
        return;
    }
    if ((m->count + 1) * 2 > m->capacity) {
        if (!map_grow(m)) {
            b->failed = true;
            return;
        }
        s = map_find(m, addr);
    }
    m->slots[s] = (addrmap_slot_t){.key = addr, .val = id, .size = field};
    m->count++;
}

/* A thread's realloc released its block and the thread went on without completing it
 * (R4 broken: the call never returned, say): the block is gone, as a free. */
static inline void settle(addrtrace_t *b, uint32_t thread, uint64_t time)
{
    at_thread_t *th = thread < b->thread_capacity ? &b->threads[thread] : NULL;
    if (!th || !th->pending)
        return;
    uint32_t id = th->pending - 1;
    th->pending = 0;
    b->unfinished_reallocs++;
    free_id(b, id, th->pending_size, thread, time);
}

void at_alloc(addrtrace_t *b, uint8_t kind, uint64_t addr, uint64_t size, uint8_t align_shift,
              uint32_t thread, uint64_t time, uint32_t callsite)
{
    uint32_t id;
    if (b->failed || !addr)
        return;
    settle(b, thread, time);
    if (!new_id(b, &id)) {
        b->failed = true;
        return;
    }
    bind(b, addr, id, size, thread, time);
    uint8_t shift = kind == TRACE_ALIGNED ? align_shift : 0;
    keep_block(b, id, size, kind, shift);
    emit(b, kind, id, size, shift, thread, time, callsite, 0);
}

void at_free(addrtrace_t *b, uint64_t addr, uint32_t thread, uint64_t time)
{
    uint32_t id, field;
    if (b->failed)
        return;
    settle(b, thread, time);
    if (!map_take(&b->live, addr, &id, &field)) {
        b->unknown_frees++;
        return;
    }
    free_id(b, id, field, thread, time);
}

/* Keyed by thread, not by address: another thread may be handed `old` and realloc it too
 * before this realloc completes, but a thread has one realloc in flight at most (R4). */
void at_release(addrtrace_t *b, uint64_t old, uint32_t thread, uint64_t time)
{
    uint32_t id;
    if (b->failed)
        return;
    settle(b, thread, time);
    at_thread_t *th = raw_thread(b, thread);
    if (th && map_take(&b->live, old, &id, &th->pending_size)) {
        th->pending = id + 1;
        th->pending_addr = old;
    }
}

void at_realloc(addrtrace_t *b, uint64_t old, uint64_t addr, uint64_t size, uint32_t thread,
                uint64_t time, uint32_t callsite)
{
    uint32_t id, field = 0;
    if (b->failed || !addr)
        return;
    at_thread_t *th = thread < b->thread_capacity ? &b->threads[thread] : NULL;
    bool found = false;
    if (th && th->pending && th->pending_addr == old) {
        id = th->pending - 1;
        field = th->pending_size;
        th->pending = 0;
        found = true;
    }
    settle(b, thread, time); /* a pending realloc of another block: broken, freed */
    if (size == 0) { /* the trace's "r id 0" would free: say what happened instead */
        if (found)
            free_id(b, id, field, thread, time);
        else
            at_free(b, old, thread, time);
        at_alloc(b, TRACE_ALLOC, addr, 0, 0, thread, time, callsite);
        return;
    }
    if (!found)
        found = map_take(&b->live, old, &id, &field);
    if (!found) {
        b->unknown_reallocs++;
        at_alloc(b, TRACE_ALLOC, addr, size, 0, thread, time, callsite);
        return;
    }
    uint64_t had = field_size(b, id, field); /* before bind writes id's new size */
    bind(b, addr, id, size, thread, time);
    keep_block(b, id, size, TRACE_ALLOC, 0); /* what realloc returns is a plain block */
    emit(b, TRACE_REALLOC, id, size, 0, thread, time, callsite, had);
}

void at_each_live(const addrtrace_t *b,
                  void (*fn)(void *ctx, uint64_t addr, uint64_t size, uint8_t kind,
                             uint8_t align_shift),
                  void *ctx)
{
    for (uint32_t id = 0; !b->emit && id < b->next_id; id++)
        if (b->addr[id])
            fn(ctx, b->addr[id], b->size[id], b->kind[id], b->align_shift[id]);
}

int at_finish(addrtrace_t *b)
{
    trace_t *t = b->out;
    t->num_ids = t->id_span;
    if (t->num_threads == 0)
        t->num_threads = 1;
    if (t->num_threads == 1) { /* trace.h: NULL when every op is on thread 0 */
        free(t->thread);
        t->thread = NULL;
    }
    if (!b->any_callsite) {
        free(t->callsite);
        t->callsite = NULL;
    }
    return b->failed ? -1 : 0;
}
