/*
 * fuzz_policy.c -- libFuzzer target: random operation sequences on every lab policy.
 *
 * Design:      each input (fuzz_ops.h records) is played on every policy of the registry
 *              in turn, each on a fresh heap capped at 64 MiB (so out of memory happens,
 *              deterministically). After every operation the heap's own checks run
 *              (lab_check: the memory source and the policy's check(); lab_walk_check: the
 *              walk contract W1-W6), and every live block keeps its contents and a usable
 *              size >= its request. Bad frees (an interior pointer, a double free) must be
 *              rejected with an error and leave a heap that still checks; the libc policy
 *              is spared them (the system allocator aborts on them, as it should).
 *              Any broken promise aborts, which libFuzzer reports as a crash.
 */
#include <string.h>

#include "dispatch.h"
#include "fuzz_ops.h"
#include "policy.h"

#define HEAP_LIMIT ((size_t)64 << 20)

typedef struct slot {
    uint8_t *p;    /* the payload (aligned allocations: inside base's block) */
    void    *base; /* what free and realloc take */
    size_t   n;    /* the request */
    unsigned gen;
} slot_t;

typedef struct run {
    lab_heap_t *h;
    slot_t      slots[FUZZ_SLOTS];
    unsigned    gen;
    size_t      op; /* index of the operation, for messages */
} run_t;

static void heap_verify(run_t *r)
{
    lab_report_t rep;
    memset(&rep, 0, sizeof rep);
    FUZZ_REQUIRE(lab_check(r->h, &rep) == 0, "%s: op %zu: check failed: %s", r->h->policy->name,
                 r->op, rep.first);
    memset(&rep, 0, sizeof rep);
    FUZZ_REQUIRE(lab_walk_check(r->h, &rep) <= 0, "%s: op %zu: walk check failed: %s",
                 r->h->policy->name, r->op, rep.first);
}

static void slot_set(run_t *r, unsigned i, void *base, uint8_t *p, size_t n)
{
    slot_t *s = &r->slots[i];
    s->base = base;
    s->p = p;
    s->n = n;
    s->gen = ++r->gen;
    fuzz_fill(p, n, i, s->gen);
}

static void slot_release(run_t *r, unsigned i)
{
    slot_t *s = &r->slots[i];
    if (s->base == NULL)
        return;
    fuzz_verify(s->p, s->n, s->n, i, s->gen, r->h->policy->name);
    FUZZ_REQUIRE(lab_free(r->h, s->base) == LAB_OK, "%s: op %zu: free of a live block failed",
                 r->h->policy->name, r->op);
    s->base = s->p = NULL;
}

static void do_realloc(run_t *r, unsigned i, size_t n)
{
    slot_t *s = &r->slots[i];
    if (s->base == NULL || s->p != s->base) { /* nothing to keep, or an aligned block */
        slot_release(r, i);
        uint8_t *q = lab_realloc(r->h, NULL, n);
        if (q != NULL)
            slot_set(r, i, q, q, n);
        return;
    }
    fuzz_verify(s->p, s->n, s->n, i, s->gen, r->h->policy->name);
    uint8_t *q = lab_realloc(r->h, s->base, n);
    if (q == NULL && n != 0) { /* out of memory: the block is intact */
        fuzz_verify(s->p, s->n, s->n, i, s->gen, r->h->policy->name);
        return;
    }
    if (n == 0) { /* freed */
        s->base = s->p = NULL;
        return;
    }
    fuzz_verify(q, s->n, n, i, s->gen, r->h->policy->name);
    slot_set(r, i, q, q, n);
}

static void do_bad_free(run_t *r, unsigned i, unsigned variant)
{
    slot_t *s = &r->slots[i];
    if (s->base == NULL || (r->h->policy->flags & LAB_USES_SYSTEM))
        return;
    if (variant == 0) {
        if (s->n <= r->h->cfg.align || s->p != s->base)
            return;
        FUZZ_REQUIRE(lab_free(r->h, s->p + r->h->cfg.align) != LAB_OK,
                     "%s: op %zu: free of an interior pointer accepted", r->h->policy->name,
                     r->op);
        fuzz_verify(s->p, s->n, s->n, i, s->gen, r->h->policy->name);
        return;
    }
    void *base = s->base;
    slot_release(r, i);
    FUZZ_REQUIRE(lab_free(r->h, base) != LAB_OK, "%s: op %zu: double free accepted",
                 r->h->policy->name, r->op);
}

static void play(run_t *r, const fuzz_op_t *op)
{
    slot_t *s = &r->slots[op->slot];
    switch (op->kind) {
    case FUZZ_MALLOC:
    case FUZZ_CALLOC: {
        slot_release(r, op->slot);
        uint8_t *p = op->kind == FUZZ_MALLOC ? lab_malloc(r->h, op->size)
                                             : lab_calloc(r->h, 1, op->size);
        if (p == NULL)
            return;
        for (size_t k = 0; op->kind == FUZZ_CALLOC && k < op->size; k = fuzz_next(k, op->size))
            FUZZ_REQUIRE(p[k] == 0, "%s: op %zu: calloc byte %zu not zero", r->h->policy->name,
                         r->op, k);
        slot_set(r, op->slot, p, p, op->size);
        return;
    }
    case FUZZ_ALIGNED: {
        slot_release(r, op->slot);
        void *base;
        uint8_t *p = lab_aligned_alloc(r->h, op->align, op->size, &base);
        if (p == NULL)
            return;
        FUZZ_REQUIRE(((uintptr_t)p & (op->align - 1)) == 0, "%s: op %zu: %zu-aligned block at %p",
                     r->h->policy->name, r->op, op->align, (void *)p);
        slot_set(r, op->slot, base, p, op->size);
        return;
    }
    case FUZZ_REALLOC:
        do_realloc(r, op->slot, op->size);
        return;
    case FUZZ_FREE:
        slot_release(r, op->slot);
        return;
    case FUZZ_BAD_FREE:
        do_bad_free(r, op->slot, op->variant);
        return;
    case FUZZ_USABLE:
        if (s->base != NULL)
            FUZZ_REQUIRE(lab_usable_size(r->h, s->base) >= s->n + (size_t)(s->p - (uint8_t *)s->base),
                         "%s: op %zu: usable size below the request", r->h->policy->name, r->op);
        return;
    case FUZZ_FREE_ALL:
        for (unsigned k = 0; k < FUZZ_SLOTS; k++)
            slot_release(r, k);
        return;
    }
}

static void play_policy(const lab_policy_t *policy, const uint8_t *data, size_t len)
{
    static lab_heap_t heap;
    static run_t r;
    memset(&r, 0, sizeof r);
    FUZZ_REQUIRE(lab_heap_open(&heap, policy, NULL, HEAP_LIMIT) == 0, "%s: cannot open a heap",
                 policy->name);
    r.h = &heap;
    for (r.op = 0; r.op < fuzz_op_count(len); r.op++) {
        fuzz_op_t op = fuzz_decode(data + 4 * r.op);
        play(&r, &op);
        heap_verify(&r);
    }
    for (unsigned k = 0; k < FUZZ_SLOTS; k++)
        slot_release(&r, k);
    heap_verify(&r);
    lab_heap_close(&heap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    for (const lab_policy_t *const *p = lab_policies; *p; p++)
        play_policy(*p, data, len);
    return 0;
}
