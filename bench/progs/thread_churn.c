/*
 * thread_churn.c -- threads that come and go while allocating, hand blocks to each other
 * and exit with blocks still live (issue 10's pattern).
 *   thread_churn [threads=4] [lifetimes=64] [ops=40000] [max_size=16384]
 *
 * `threads` workers run at all times: when the oldest ends, a new one starts, until
 * `lifetimes` workers have run. Each keeps a working set of 512 blocks of mixed sizes;
 * an operation replaces one of its own blocks (free + malloc) or swaps one with a slot of
 * a shared exchange of 4096 blocks and frees what it got (a block another thread, often
 * one that has exited, allocated). A worker leaves at exit half its working set in the
 * exchange (live, freed later by others) and frees the rest. Every block carries its size
 * and a tag that is checked before it is freed.
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define WORKING 512
#define EXCHANGE 4096

typedef struct block {
    size_t size;
    unsigned char tag;
} block_t;

static block_t *_Atomic exchange[EXCHANGE];
static long ops_per_worker = 40000;
static size_t max_size = 16384;
static _Atomic int corrupted;

static block_t *new_block(bench_rng_t *r)
{
    size_t n = bench_size(r, max_size);
    if (n < sizeof(block_t) + 1)
        n = sizeof(block_t) + 1;
    block_t *b = malloc(n);
    if (b == NULL)
        return NULL;
    b->size = n;
    b->tag = (unsigned char)(n * 31);
    ((unsigned char *)b)[n - 1] = b->tag;
    return b;
}

static void drop_block(block_t *b)
{
    if (b == NULL)
        return;
    if (((unsigned char *)b)[b->size - 1] != b->tag || b->tag != (unsigned char)(b->size * 31))
        atomic_store(&corrupted, 1);
    free(b);
}

static void *worker(void *arg)
{
    bench_rng_t r = {(uint64_t)(uintptr_t)arg * 7919 + 1};
    block_t *mine[WORKING] = {0};
    for (long i = 0; i < ops_per_worker; i++) {
        uint64_t x = bench_next(&r);
        size_t k = (size_t)(x >> 8) % WORKING;
        if (x % 4 == 0) { /* hand one over, free what comes back */
            size_t e = (size_t)(x >> 24) % EXCHANGE;
            drop_block(atomic_exchange(&exchange[e], mine[k]));
            mine[k] = NULL;
        } else {
            drop_block(mine[k]);
            mine[k] = new_block(&r);
        }
        if (mine[k] == NULL && x % 4 != 0)
            return NULL;
    }
    for (size_t k = 0; k < WORKING; k++) {
        if (k % 2 == 0) {
            size_t e = (size_t)bench_next(&r) % EXCHANGE;
            drop_block(atomic_exchange(&exchange[e], mine[k]));
        } else {
            drop_block(mine[k]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = bench_arg(argc, argv, 1, 4), lifetimes = bench_arg(argc, argv, 2, 64);
    ops_per_worker = bench_arg(argc, argv, 3, 40000);
    max_size = (size_t)bench_arg(argc, argv, 4, 16384);
    if (threads < 1 || threads > 64 || lifetimes < threads)
        return fprintf(stderr, "thread_churn: bad arguments\n"), 2;
    pthread_t running[64];
    double t0 = bench_now();
    long started = 0;
    for (; started < threads; started++)
        if (pthread_create(&running[started], NULL, worker, (void *)(uintptr_t)started) != 0)
            return 1;
    for (long ended = 0; ended < lifetimes; ended++) {
        pthread_join(running[ended % threads], NULL);
        if (started < lifetimes) {
            if (pthread_create(&running[ended % threads], NULL, worker,
                               (void *)(uintptr_t)started) != 0)
                return 1;
            started++;
        }
    }
    for (size_t e = 0; e < EXCHANGE; e++)
        drop_block(atomic_exchange(&exchange[e], NULL));
    if (atomic_load(&corrupted))
        return fprintf(stderr, "thread_churn: corrupted block\n"), 1;
    bench_report("thread_churn", bench_now() - t0,
                 (unsigned long long)lifetimes * (unsigned long long)ops_per_worker);
    return 0;
}
