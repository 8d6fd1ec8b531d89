/*
 * ops.c -- the op loop: each op's call into the allocator, and the checks B1-B4 of
 *          play.h on what it returns.
 *
 * Design:      play_thread_ops is what is timed, and what callgrind collects
 *              (--toggle-collect=play_thread_ops): its calls are the allocator's entry
 *              points and, for the rare waits, thread starts and failures, functions
 *              named play_* in other files. heapkit counts the instructions of the calls
 *              that are not play_* as the allocator's, and the rest (the loop and the
 *              page writes inlined here) as the player's own.
 *              The checks stay cheap: one byte per 4 KiB page written on allocation and
 *              read before the free, which also makes every page of a block resident, as
 *              in a program that uses what it allocates. A realloc to size 0 is played
 *              as free: the trace formats define it so (TRACE-FORMAT.md), and allocators
 *              disagree on what realloc(p, 0) returns.
 * Complexity:  O(1 + size / 4096) per op.
 */
#include "play.h"

#include <stdlib.h>

/* Everything the loop runs is inlined into play_thread_ops, so that its calls are the
 * allocator's and the play_* functions only (callgrind.h splits the cost by callee). */
#define IN_LOOP static inline __attribute__((always_inline))

/* ---- Tags and the bytes they go in ---- */

/* Never 0, and different for each (id, op that made the block). */
IN_LOOP unsigned char tag_of(uint32_t id, uint32_t at)
{
    uint32_t h = (id + 1) * 0x9e3779b1u ^ (at + 1) * 0x85ebca77u;
    h ^= h >> 15;
    unsigned char tag = (unsigned char)(h >> 24);
    return tag ? tag : 0xa5;
}

IN_LOOP uint64_t size_of(const play_slot_t *s) { return s->size_tag & PLAY_SIZE_MASK; }
IN_LOOP unsigned char tag_in(const play_slot_t *s)
{
    return (unsigned char)(s->size_tag >> PLAY_TAG_SHIFT);
}

/* Writes the tag at offsets 0, 4096, ... below size, and at size - 1. */
IN_LOOP void write_tags(unsigned char *p, uint64_t size, unsigned char tag)
{
    for (uint64_t off = 0; off < size; off += PLAY_PAGE)
        p[off] = tag;
    if (size)
        p[size - 1] = tag;
}

/* The first written offset below `limit` of a block of `size` that does not hold `want`,
 * or UINT64_MAX. */
IN_LOOP uint64_t find_mismatch(const unsigned char *p, uint64_t size, uint64_t limit,
                               unsigned char want)
{
    for (uint64_t off = 0; off < size && off < limit; off += PLAY_PAGE)
        if (p[off] != want)
            return off;
    if (size && size - 1 < limit && p[size - 1] != want)
        return size - 1;
    return UINT64_MAX;
}

/* ---- Failures (cold: out of the loop) ---- */

static const char *kind_name(unsigned char kind)
{
    return kind == 'a' ? "malloc" : kind == 'c' ? "calloc" : kind == 'm' ? "aligned_alloc"
         : kind == 'r' ? "realloc" : "free";
}

static __attribute__((noinline, cold, noreturn)) void
play_fail_damaged(uint32_t at, uint32_t id, const play_slot_t *s, uint64_t off, const char *when)
{
    play_fail(at + 1, "contents of id %u damaged %s: byte %llu of %llu is 0x%02x, not 0x%02x "
              "(block %p): an overlapping block, or allocator data in a live block",
              id, when, (unsigned long long)off, (unsigned long long)size_of(s), s->p[off],
              tag_in(s), (void *)s->p);
}

static __attribute__((noinline, cold, noreturn)) void
play_fail_block(uint32_t at, const playfile_op_t *op, const void *p, uint64_t need,
                uint64_t zero_off)
{
    if (!p)
        play_fail(at + 1, "out of memory: %s(%llu) for id %u returned NULL", kind_name(op->kind),
                  (unsigned long long)op->size, op->id);
    if ((uintptr_t)p & (need - 1))
        play_fail(at + 1, "%s(%llu) for id %u returned %p, which is not %llu-byte aligned",
                  kind_name(op->kind), (unsigned long long)op->size, op->id, p,
                  (unsigned long long)need);
    play_fail(at + 1,
              "calloc(1, %llu) block of id %u is not zeroed: byte %llu is 0x%02x (block %p)",
              (unsigned long long)op->size, op->id, (unsigned long long)zero_off,
              ((const unsigned char *)p)[zero_off], p);
}

/* ---- Ops ---- */

/* B4: what the block of an op must be aligned to. */
IN_LOOP uint64_t alignment_of(const playfile_op_t *op, uint64_t size)
{
    if (op->kind == 'm')
        return (uint64_t)1 << op->align_shift;
    if (size >= 16)
        return 16;
    uint64_t a = 1;
    while (a * 2 <= size)
        a *= 2;
    return a;
}

/* Checks a block just returned for op `at` (B2, B4, NULL), then tags it into slot s. */
IN_LOOP void admit(uint32_t at, const playfile_op_t *op, play_slot_t *s, unsigned char *p,
                   uint64_t size, bool zeroed)
{
    uint64_t need = alignment_of(op, size);
    if ((!p && size) || ((uintptr_t)p & (need - 1)))
        play_fail_block(at, op, p, need, 0);
    if (zeroed) {
        uint64_t off = find_mismatch(p, size, UINT64_MAX, 0);
        if (off != UINT64_MAX)
            play_fail_block(at, op, p, need, off);
    }
    unsigned char tag = tag_of(op->id, at);
    write_tags(p, size, tag);
    s->p = p;
    s->size_tag = size | (uint64_t)tag << PLAY_TAG_SHIFT;
}

/* B1 before a block goes away. */
IN_LOOP void verify(uint32_t at, uint32_t id, const play_slot_t *s, const char *when)
{
    uint64_t off = find_mismatch(s->p, size_of(s), UINT64_MAX, tag_in(s));
    if (off != UINT64_MAX)
        play_fail_damaged(at, id, s, off, when);
}

IN_LOOP void realloc_op(uint32_t at, const playfile_op_t *op, play_slot_t *s)
{
    verify(at, op->id, s, "before its realloc");
    if (op->size == 0) {
        free(s->p);
        s->p = NULL;
        s->size_tag = 0;
        return;
    }
    unsigned char *q = realloc(s->p, op->size);
    uint64_t need = alignment_of(op, op->size);
    if (!q || ((uintptr_t)q & (need - 1)))
        play_fail_block(at, op, q, need, 0);
    play_slot_t moved = {q, s->size_tag}; /* B3: the old tags, where both sizes cover */
    uint64_t kept = size_of(s) < op->size ? size_of(s) : op->size;
    uint64_t off = find_mismatch(q, size_of(s), kept, tag_in(s));
    if (off != UINT64_MAX)
        play_fail_damaged(at, op->id, &moved, off, "by realloc (the common prefix)");
    admit(at, op, s, q, op->size, false);
}

IN_LOOP void do_op(play_t *pl, uint32_t at)
{
    const playfile_op_t *op = &pl->ops[at];
    play_slot_t *s = &pl->slots[op->id];
    switch (op->kind) {
    case 'a':
        admit(at, op, s, malloc(op->size), op->size, false);
        break;
    case 'c':
        admit(at, op, s, calloc(1, op->size), op->size, true);
        break;
    case 'm':
        admit(at, op, s, aligned_alloc((size_t)1 << op->align_shift, op->size), op->size, false);
        break;
    case 'r':
        realloc_op(at, op, s);
        break;
    default: /* 'f' (playfile_check allowed nothing else) */
        verify(at, op->id, s, "before its free");
        free(s->p);
        s->p = NULL;
        s->size_tag = 0;
        break;
    }
}

/* ---- The loop ---- */

void play_thread_ops(play_t *pl, play_thread_t *th)
{
    const uint32_t *order = pl->order;
    bool is_main = th->index == 0;
    for (uint32_t k = 0; k < th->count; k++) {
        uint32_t at = order ? order[th->start + k] : th->start + k;
        th->current = at + 1;
        if (!order) {
            do_op(pl, at);
            continue;
        }
        if (is_main && pl->spawn_due < at)
            play_spawn_due(pl, at);
        if (k == 0 && at > 0)
            play_wait_op(pl, at - 1); /* plan.c W2: this thread's start */
        if (pl->wait[at] != PLAY_NONE)
            play_wait_op(pl, pl->wait[at]); /* W1 */
        do_op(pl, at);
        if (atomic_load_explicit(&pl->done[at], memory_order_relaxed) != DONE_UNWATCHED)
            play_signal_op(pl, at);
    }
    th->current = 0;
}

void play_verify_survivors(play_t *pl)
{
    for (uint32_t id = 0; id < pl->hdr->num_ids; id++)
        if (pl->slots[id].size_tag)
            verify(PLAY_NONE, id, &pl->slots[id], "at the end"); /* op 0: none */
}
