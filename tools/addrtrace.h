/*
 * addrtrace.h -- builds an id trace (trace.h) from calls named by address: what a
 *                recorder or a malloc log sees ("malloc returned 0x55..10", "free
 *                0x55..10") becomes ops on ids.
 *
 * Design:      A hash map from live address to id; ids of freed blocks are reused
 *              (last freed, first reused), so the trace needs about as many ids as the
 *              program had live blocks at its peak. Real logs are not perfect, and a
 *              trace must still load (trace.h promises a valid life cycle), so the
 *              builder repairs what it cannot replay and counts every repair:
 *                - a free of an address not live (freed before recording started, by a
 *                  bug, or inherited unseen) is dropped: unknown_frees;
 *                - an allocation at an address still live means its free was not seen:
 *                  the old block is freed first: implicit_frees;
 *                - a realloc of an address not live becomes an allocation: unknown_reallocs;
 *                - a realloc released but never completed (its thread went on) is a free:
 *                  unfinished_reallocs.
 *              A realloc that moved releases its old address early (at_release) and is
 *              completed later (at_realloc), because another thread may be handed the
 *              old address in between (rawlog.h explains the order).
 *              Threads are renumbered 0, 1, ... in order of first op; times become
 *              nanoseconds since the first op and never go backwards.
 */
#ifndef HK_TOOLS_ADDRTRACE_H
#define HK_TOOLS_ADDRTRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

/* A key and its value side by side: a program with 10^5-10^6 live blocks has a map far
 * larger than the caches, and each lookup is then one miss, not one per array. The
 * builder's live map keeps the block's size in the 4 bytes the alignment leaves, so a
 * free finds the size it takes off the live bytes in the slot it reads anyway, not in
 * a per-id table (one more miss per free: 80% of the op writer's samples on perl). */
typedef struct addrmap_slot {
    uint64_t key;  /* 0 = empty slot (no allocator returns address 0) */
    uint32_t val;
    uint32_t size; /* the live map: the block's size, AT_SIZE_BIG from 4 GiB - 1 up
                    * (the size is then in big_size[val]); other maps: 0 */
} addrmap_slot_t;

#define AT_SIZE_BIG UINT32_MAX

typedef struct addrmap {
    addrmap_slot_t *slots;
    uint32_t        capacity; /* power of two */
    uint32_t        count;
} addrmap_t;

/* The map on its own (a key is an address, never 0). put requires the key absent.
 * prefetch: asks the cache for key's slot, for a lookup a little later. */
bool addrmap_get(const addrmap_t *m, uint64_t key, uint32_t *val);
bool addrmap_put(addrmap_t *m, uint64_t key, uint32_t val);
void addrmap_prefetch(const addrmap_t *m, uint64_t key);
void addrmap_free(addrmap_t *m);

typedef struct at_thread {
    uint32_t trace_thread; /* its thread in the trace + 1; 0: no op yet */
    uint32_t pending;      /* id + 1 of the block its realloc released (at_release) */
    uint64_t pending_addr; /* that block's address */
    uint32_t pending_size; /* and its size as the live map had it (addrmap_slot_t) */
} at_thread_t;

typedef struct addrtrace {
    trace_t  *out;
    bool      emit;        /* false: only track the live set (a forked child's prefix) */
    trace_stream_t *stream; /* set: ops go there, not into out's arrays (at_set_stream) */
    addrmap_t live;        /* address -> id of every live block */
    /* per id (index < id_capacity), only when !emit (at_each_live needs them): */
    uint64_t *addr;        /* its address while live */
    uint64_t *size;
    uint8_t  *kind, *align_shift;
    uint32_t  id_capacity;
    uint64_t *big_size;    /* per id below big_capacity: a live block's size of AT_SIZE_BIG
                            * or more (only written for those; NULL until one comes) */
    uint32_t  big_capacity;
    uint32_t *free_ids;    /* reusable ids, a stack (always) */
    uint32_t  free_count, next_id;
    /* output */
    uint32_t  capacity;    /* ops the output arrays hold */
    at_thread_t *threads;  /* per raw thread number */
    uint32_t  thread_capacity;
    uint64_t  first_time, last_time;
    bool      has_time;
    bool      failed;      /* out of memory: the trace is incomplete */
    bool      any_callsite; /* an op with a call site was emitted */
    /* repairs */
    uint64_t  unknown_frees, implicit_frees, unknown_reallocs, unfinished_reallocs;
} addrtrace_t;

/* Starts building into *out (emptied first) when emit, else tracks the live set only. */
int  at_init(addrtrace_t *b, trace_t *out, bool emit);
void at_fini(addrtrace_t *b); /* the builder's own memory; *out stays */

/* Ops go to the stream (trace_stream_op: the trace thread, the time since the first op,
 * the call site + 1) as they are made instead of into *out's arrays, which stay NULL:
 * *out then holds the counts (num_ops, id_span, num_threads) and no op, for a caller that
 * needs the ops no longer once written (rawlive.h: memory then follows the live set, not
 * the length of the recording). Before any op. */
void at_set_stream(addrtrace_t *b, trace_stream_t *stream);

/* Room for about `ops` ops at once (a hint: the arrays grow as needed anyway). */
void at_reserve(addrtrace_t *b, uint64_t ops);

/* kind: TRACE_ALLOC, TRACE_CALLOC or TRACE_ALIGNED (align_shift then set). callsite: the
 * call-site index + 1, or 0. */
void at_alloc(addrtrace_t *b, uint8_t kind, uint64_t addr, uint64_t size, uint8_t align_shift,
              uint32_t thread, uint64_t time, uint32_t callsite);
void at_free(addrtrace_t *b, uint64_t addr, uint32_t thread, uint64_t time);
/* A moving realloc of `thread` released `old`: the address may be handed out again, even
 * reallocated by another thread, before this thread's at_realloc completes it. */
void at_release(addrtrace_t *b, uint64_t old, uint32_t thread, uint64_t time);
/* realloc(old) returned addr (== old when in place) with `size` bytes. */
void at_realloc(addrtrace_t *b, uint64_t old, uint64_t addr, uint64_t size, uint32_t thread,
                uint64_t time, uint32_t callsite);

/* Calls fn for every live block, in id order (a builder made with emit false: one that
 * emits keeps no per-id state beyond the address map). */
void at_each_live(const addrtrace_t *b,
                  void (*fn)(void *ctx, uint64_t addr, uint64_t size, uint8_t kind,
                             uint8_t align_shift),
                  void *ctx);

/* Completes *out: counts, threads, ids. Returns 0, or -1 when memory ran out on the way. */
int at_finish(addrtrace_t *b);

#endif
