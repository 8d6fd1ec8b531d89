/*
 * test_faults.c -- out of memory at every point where heapkit asks the OS for memory.
 *
 * Built only in the debug variant (HK_DEBUG=3: heap checks on slow paths; HK_OS_FAULTS=1:
 * src/os.h hki_os_fail_after). A fixed workload -- small, medium, large-class, huge and
 * over-aligned blocks, calloc, realloc growth across kinds and of huge blocks, a second
 * thread -- runs again and again; round k lets k memory requests succeed and refuses the
 * next one (transient) or all later ones (persistent). Every call must then either
 * succeed with a usable, aligned, intact block or return NULL with errno == ENOMEM
 * (posix_memalign: ENOMEM returned), never crash; the heap check must pass after every
 * round, and once the OS gives memory again every request must succeed.
 */
#include "harness.h"
#include "os.h"

#include <errno.h>
#include <heapkit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 64

typedef struct {
    unsigned char *p;
    size_t n;
} slot_t;

static int bad_null, bad_block;
static _Atomic long nulls; /* NULL results seen (the failures reached the caller) */

static unsigned char tag_of(size_t i)
{
    return (unsigned char)(0x40 + i);
}

/* A result of an allocation call: NULL must carry ENOMEM; a block is filled with a tag. */
static void take(slot_t *s, void *p, size_t n, size_t align, size_t i)
{
    if (p == NULL) {
        nulls++;
        if (errno != ENOMEM)
            bad_null++;
        s->p = NULL;
        return;
    }
    if ((uintptr_t)p % align != 0 || hk_usable_size(p) < n)
        bad_block++;
    memset(p, tag_of(i), n);
    s->p = p;
    s->n = n;
}

static void drop(slot_t *s, size_t i)
{
    if (s->p == NULL)
        return;
    for (size_t k = 0; k < s->n; k += 61)
        if (s->p[k] != tag_of(i)) {
            bad_block++;
            break;
        }
    hk_free(s->p);
    s->p = NULL;
}

static size_t size_for(size_t i)
{
    static const size_t sizes[] = {24, 200, 3000, 9000, 40000, 200000, 900000, 3u << 20};
    return sizes[i % 8] + i;
}

static void *workload(void *arg)
{
    (void)arg;
    slot_t s[SLOTS] = {{0}};
    for (size_t i = 0; i < SLOTS; i++) {
        size_t n = size_for(i);
        errno = 0;
        switch (i % 4) {
        case 0:
        case 1:
            take(&s[i], hk_malloc(n), n, 16, i);
            break;
        case 2: {
            errno = 0;
            unsigned char *p = hk_calloc(1, n);
            if (p != NULL)
                for (size_t k = 0; k < n; k += 127)
                    if (p[k] != 0)
                        bad_block++;
            take(&s[i], p, n, 16, i);
            break;
        }
        case 3: {
            void *p = NULL;
            size_t align = (size_t)4096 << (i % 9); /* up to 1 MiB */
            int err = hk_posix_memalign(&p, align, n);
            if (err != 0 && err != ENOMEM)
                bad_null++;
            errno = err ? ENOMEM : 0;
            take(&s[i], err ? NULL : p, n, align, i);
            break;
        }
        }
    }
    /* grow every other block (small -> medium -> large -> huge, and huge by mremap) */
    for (size_t i = 0; i < SLOTS; i += 2) {
        if (s[i].p == NULL)
            continue;
        size_t n = s[i].n * 3 + 5000;
        errno = 0;
        unsigned char *q = hk_realloc(s[i].p, n);
        if (q == NULL) {
            nulls++;
            if (errno != ENOMEM)
                bad_null++;
            continue; /* the old block must be intact: drop() verifies it */
        }
        memset(q + s[i].n, tag_of(i), n - s[i].n);
        s[i].p = q;
        s[i].n = n;
    }
    for (size_t i = 0; i < SLOTS; i++)
        drop(&s[i], i);
    return NULL;
}

static void run_round(void)
{
    workload(NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, workload, NULL) == 0)
        pthread_join(t, NULL);
}

static int heap_ok(void)
{
    hk_report_t r;
    int n = hk_heap_check(&r);
    if (n != 0)
        fprintf(stderr, "heap check: %s at %p: %s\n", r.invariant, r.addr, r.message);
    return n == 0;
}

int main(void)
{
    hki_os_fail_after(-1, 0);
    run_round();
    nulls = 0;
    CHECK("workload without faults: no NULL, blocks intact", bad_null == 0 && bad_block == 0);
    long refused_total = 0;
    int checks_ok = 1, recovered = 1;
    for (int transient = 1; transient >= 0; transient--) {
        for (long k = 0; k < 40; k++) {
            hk_trim(0); /* the huge cache empty: the round's big blocks ask the OS again */
            hki_os_fail_after(k, transient);
            run_round();
            refused_total += hki_os_fail_after(-1, 0);
            checks_ok &= heap_ok();
            /* memory is back: everything must succeed again */
            int before = bad_null;
            slot_t s = {0};
            errno = 0;
            take(&s, hk_malloc((size_t)5 << 20), (size_t)5 << 20, 16, 1);
            if (s.p == NULL)
                recovered = 0;
            drop(&s, 1);
            bad_null = before;
        }
    }
    printf("faults: %ld memory requests refused over 80 rounds, %ld calls returned NULL\n",
           refused_total, (long)nulls);
    CHECK("memory requests were refused (the injection works)", refused_total >= 40);
    CHECK("some refusals reached the caller as NULL", nulls > 0);
    CHECK("every NULL came with ENOMEM", bad_null == 0);
    CHECK("every block aligned, usable and intact (also across failed realloc)", bad_block == 0);
    CHECK("heap check passes after every round", checks_ok);
    CHECK("allocation works again once the OS gives memory", recovered);
    hk_trim(0);
    CHECK("heap check passes after trim", heap_ok());
    return hk_test_summary();
}
