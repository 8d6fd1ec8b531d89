/*
 * liveset.h -- the payload intervals of live blocks, ordered by address.
 *
 * Design:      The replay checker must prove that no payload handed out overlaps another
 *              live one, with up to ~10^5 live blocks, so a linear scan is out. Live
 *              intervals are disjoint, so a new interval overlaps something exactly when
 *              it overlaps its predecessor or its successor by start address; an ordered
 *              set answers that in O(log n). The set is a treap whose nodes are indexed
 *              by trace id (an id has at most one live block), so all its memory is
 *              allocated once, up front, and nothing is allocated while a heap is open.
 * Invariants:  L1 in-order traversal gives strictly increasing starts
 *              L2 every interval is non-empty and ends at or before the next one starts
 *              L3 every node's priority is >= its children's (heap order)
 * Complexity:  insert and remove O(log n) expected; priorities are a hash of the id.
 */
#ifndef HK_TOOLS_LIVESET_H
#define HK_TOOLS_LIVESET_H

#include <stddef.h>
#include <stdint.h>

#define LIVESET_NONE UINT32_MAX

typedef struct liveset_node {
    uintptr_t start; /* first byte of the payload */
    uintptr_t end;   /* one past the last byte */
    uint32_t  left, right, priority;
} liveset_node_t;

typedef struct liveset {
    liveset_node_t *nodes;    /* indexed by id, `capacity` of them */
    uint32_t        capacity; /* ids must be < capacity */
    uint32_t        root;
    size_t          count;    /* live intervals */
} liveset_t;

/* Allocates room for ids 0 .. capacity-1. Returns 0, or -1 when out of memory. */
int  liveset_init(liveset_t *s, uint32_t capacity);
void liveset_fini(liveset_t *s);
/* Empties the set (O(1)). */
void liveset_clear(liveset_t *s);

/* Adds [start, end) as the interval of `id` (not currently in the set; end > start).
 * Returns LIVESET_NONE on success; if the interval overlaps a live one, the set is left
 * unchanged and the id owning an overlapped interval is returned. */
uint32_t liveset_insert(liveset_t *s, uint32_t id, uintptr_t start, uintptr_t end);
/* Removes the interval of `id`, which must be in the set. */
void liveset_remove(liveset_t *s, uint32_t id);

#endif
