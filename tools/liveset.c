/*
 * liveset.c -- ordered set of live payload intervals (a treap keyed by start address).
 *
 * Design:      see liveset.h. Split and merge are the only two structural operations;
 *              insert and remove are written with them, which keeps the code short and
 *              the invariants L1-L3 obvious. Recursion depth is the treap depth,
 *              O(log n) expected.
 * References:  Seidel & Aragon, "Randomized search trees", Algorithmica 1996.
 */
#include "liveset.h"

#include <stdlib.h>

#define NIL LIVESET_NONE

/* A well-mixed priority from the id, so sequential ids give a balanced treap. */
static uint32_t priority_of(uint32_t id)
{
    uint64_t x = (uint64_t)id + 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return (uint32_t)(x >> 32);
}

/* Splits tree t into *lo (starts < key) and *hi (starts >= key). */
static void split(liveset_node_t *n, uint32_t t, uintptr_t key, uint32_t *lo, uint32_t *hi)
{
    if (t == NIL) {
        *lo = *hi = NIL;
    } else if (n[t].start < key) {
        split(n, n[t].right, key, &n[t].right, hi);
        *lo = t;
    } else {
        split(n, n[t].left, key, lo, &n[t].left);
        *hi = t;
    }
}

/* Joins two trees where every start in a is below every start in b. */
static uint32_t merge(liveset_node_t *n, uint32_t a, uint32_t b)
{
    if (a == NIL)
        return b;
    if (b == NIL)
        return a;
    if (n[a].priority > n[b].priority) {
        n[a].right = merge(n, n[a].right, b);
        return a;
    }
    n[b].left = merge(n, a, n[b].left);
    return b;
}

static uint32_t leftmost(const liveset_node_t *n, uint32_t t)
{
    if (t != NIL)
        while (n[t].left != NIL)
            t = n[t].left;
    return t;
}

static uint32_t rightmost(const liveset_node_t *n, uint32_t t)
{
    if (t != NIL)
        while (n[t].right != NIL)
            t = n[t].right;
    return t;
}

int liveset_init(liveset_t *s, uint32_t capacity)
{
    s->nodes = malloc((capacity ? capacity : 1) * sizeof *s->nodes);
    s->capacity = capacity;
    liveset_clear(s);
    return s->nodes ? 0 : -1;
}

void liveset_fini(liveset_t *s)
{
    free(s->nodes);
    s->nodes = NULL;
    s->capacity = 0;
}

void liveset_clear(liveset_t *s)
{
    s->root = NIL;
    s->count = 0;
}

uint32_t liveset_insert(liveset_t *s, uint32_t id, uintptr_t start, uintptr_t end)
{
    liveset_node_t *n = s->nodes;
    uint32_t lo, hi;
    split(n, s->root, start, &lo, &hi);
    uint32_t before = rightmost(n, lo), after = leftmost(n, hi);
    uint32_t clash = NIL;
    if (before != NIL && n[before].end > start)
        clash = before;
    else if (after != NIL && n[after].start < end)
        clash = after;
    if (clash != NIL) {
        s->root = merge(n, lo, hi);
        return clash;
    }
    n[id] = (liveset_node_t){
        .start = start, .end = end, .left = NIL, .right = NIL, .priority = priority_of(id)};
    s->root = merge(n, merge(n, lo, id), hi);
    s->count++;
    return NIL;
}

void liveset_remove(liveset_t *s, uint32_t id)
{
    liveset_node_t *n = s->nodes;
    uint32_t lo, mid, hi;
    split(n, s->root, n[id].start, &lo, &mid);
    split(n, mid, n[id].start + 1, &mid, &hi);
    /* mid is exactly node id: starts are unique (L1) */
    s->root = merge(n, lo, hi);
    s->count--;
}
