/*
 * fuzz_hk.c -- libFuzzer target: random operation sequences on the hk_* API, with
 *              hk_heap_check after every one.
 *
 * Design:      the library's sources are built into this binary (the hk_ prefix lets them
 *              live beside ASan's malloc): with UBSan and coverage, not ASan, and with
 *              HK_TRACK_ASAN=1, so ASan knows heapkit's blocks and catches the harness's
 *              own reads and writes outside a live block (the sanitize build's way,
 *              src/src.mk). Bad calls (interior pointer, double free, a stack address,
 *              realloc and usable size of a freed block) run with HEAPKIT_ON_ERROR=warn:
 *              each must be reported and rejected, never crash, and leave a heap that
 *              passes hk_heap_check. Contents (fuzz_ops.h), alignment and usable size are
 *              checked as the blocks come and go.
 */
#include <errno.h>
#include <heapkit.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_ops.h"
#include "internal.h"

typedef struct slot {
    uint8_t *p;
    size_t   n;
    unsigned gen;
} slot_t;

static slot_t slots[FUZZ_SLOTS];
static unsigned generation;
static size_t op_index;

static void heap_verify(void)
{
    hk_report_t rep;
    memset(&rep, 0, sizeof rep);
    FUZZ_REQUIRE(hk_heap_check(&rep) == 0, "op %zu: hk_heap_check: %s at %p: %s", op_index,
                 rep.invariant ? rep.invariant : "?", rep.addr, rep.message ? rep.message : "");
}

static void slot_set(unsigned i, uint8_t *p, size_t n)
{
    FUZZ_REQUIRE(((uintptr_t)p & 15) == 0, "op %zu: block %p not 16-aligned", op_index, (void *)p);
    FUZZ_REQUIRE(hk_usable_size(p) >= n, "op %zu: usable size below the request", op_index);
    slots[i].p = p;
    slots[i].n = n;
    slots[i].gen = ++generation;
    fuzz_fill(p, n, i, generation);
}

static void slot_release(unsigned i)
{
    slot_t *s = &slots[i];
    if (s->p == NULL)
        return;
    fuzz_verify(s->p, s->n, s->n, i, s->gen, "free");
    hk_free(s->p);
    s->p = NULL;
}

static void do_realloc(unsigned i, size_t n)
{
    slot_t *s = &slots[i];
    if (s->p != NULL)
        fuzz_verify(s->p, s->n, s->n, i, s->gen, "before realloc");
    uint8_t *q = hk_realloc(s->p, n);
    if (q == NULL && (n == 0 && s->p != NULL)) { /* realloc(p, 0) freed p */
        s->p = NULL;
        return;
    }
    if (q == NULL) { /* out of memory: p is intact */
        if (s->p != NULL)
            fuzz_verify(s->p, s->n, s->n, i, s->gen, "failed realloc");
        return;
    }
    if (s->p != NULL)
        fuzz_verify(q, s->n, n, i, s->gen, "realloc");
    slot_set(i, q, n);
}

/* A bad call of each kind; heapkit reports it (HEAPKIT_ON_ERROR=warn) and ignores it. */
static void do_bad(unsigned i, unsigned variant)
{
    slot_t *s = &slots[i];
    int local = 0;
    if (s->p == NULL) {
        hk_free(&local); /* not heapkit's */
        return;
    }
    if (variant == 0) {
        if (hk_usable_size(s->p) > 16) /* else p + 16 is the next block: a valid free */
            hk_free(s->p + 16);
        fuzz_verify(s->p, s->n, s->n, i, s->gen, "after a rejected interior free");
        return;
    }
    uint8_t *p = s->p;
    slot_release(i);
    hk_free(p);
    errno = 0;
    FUZZ_REQUIRE(hk_realloc(p, 64) == NULL && errno == EINVAL,
                 "op %zu: realloc of a freed block accepted", op_index);
    FUZZ_REQUIRE(hk_usable_size(p) == 0, "op %zu: usable size of a freed block", op_index);
    FUZZ_REQUIRE(!hk_is_owned(p), "op %zu: a freed block is owned", op_index);
}

/* Huge blocks (> HK_LARGE_MAX) only in the first slots, as many as the huge cache holds:
 * one more would be unmapped on free (see LLVMFuzzerInitialize: memory is kept). */
static size_t op_size(const fuzz_op_t *op)
{
    if (op->slot >= HK_HUGE_CACHE_COUNT && op->size > HK_LARGE_MAX)
        return HK_LARGE_MAX;
    return op->size;
}

static void play(const fuzz_op_t *in)
{
    fuzz_op_t sized = *in, *op = &sized;
    sized.size = op_size(in);
    slot_t *s = &slots[op->slot];
    uint8_t *p;
    switch (op->kind) {
    case FUZZ_MALLOC:
    case FUZZ_CALLOC:
        slot_release(op->slot);
        p = op->kind == FUZZ_MALLOC ? hk_malloc(op->size) : hk_calloc(1, op->size);
        if (p == NULL)
            return;
        for (size_t k = 0; op->kind == FUZZ_CALLOC && k < op->size; k = fuzz_next(k, op->size))
            FUZZ_REQUIRE(p[k] == 0, "op %zu: calloc byte %zu not zero", op_index, k);
        slot_set(op->slot, p, op->size);
        return;
    case FUZZ_ALIGNED:
        slot_release(op->slot);
        p = hk_aligned_alloc(op->align, op->size);
        if (p == NULL)
            return;
        FUZZ_REQUIRE(((uintptr_t)p & (op->align - 1)) == 0, "op %zu: %zu-aligned block at %p",
                     op_index, op->align, (void *)p);
        slot_set(op->slot, p, op->size);
        return;
    case FUZZ_REALLOC:
        do_realloc(op->slot, op->size);
        return;
    case FUZZ_FREE:
        slot_release(op->slot);
        return;
    case FUZZ_BAD_FREE:
        do_bad(op->slot, op->variant);
        return;
    case FUZZ_USABLE:
        if (s->p != NULL)
            FUZZ_REQUIRE(hk_is_owned(s->p) && hk_usable_size(s->p) >= s->n,
                         "op %zu: a live block not owned or too small", op_index);
        return;
    case FUZZ_FREE_ALL:
        for (unsigned k = 0; k < FUZZ_SLOTS; k++)
            slot_release(k);
        return;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* HEAPKIT_ON_ERROR=warn, set the way options.c sets it: the environment was read by
     * the library's constructor, before this runs */
    hki_options[HK_OPT_ON_ERROR] = HK_ON_ERROR_WARN;
    /* Memory is never returned (no purge, no hk_trim, freed huge blocks all cached): every
     * segment mapped again lands at a new address (os/posix.c maps each one below the
     * last), and ASan's shadow of each new range stays resident, so a fuzzing run that
     * returns memory grows by ~20 MB per input until libFuzzer's RSS limit stops it. */
    hki_options[HK_OPT_PURGE_DELAY] = -1;
    hki_options[HK_OPT_HUGE_CACHE] = 1 << 20; /* MiB: the most the option allows */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    for (op_index = 0; op_index < fuzz_op_count(len); op_index++) {
        fuzz_op_t op = fuzz_decode(data + 4 * op_index);
        play(&op);
        heap_verify();
    }
    for (unsigned k = 0; k < FUZZ_SLOTS; k++)
        slot_release(k);
    heap_verify();
    return 0;
}
