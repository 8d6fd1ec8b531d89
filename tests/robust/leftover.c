/*
 * leftover.c -- threads that come and go, each leaving one small block behind.
 *
 * 2000 threads run one after another; each keeps a malloc(100) alive and allocates and
 * frees 64 blocks of 20000 bytes. Their small segments hold live blocks when they exit,
 * so a new thread may not find an empty one to reuse: it must still reuse them (they
 * hold one page in use, or were abandoned a while ago) rather than map a fresh 4 MiB
 * segment each time. Before the rule allowed that, 2000 threads mapped 7.2 GB (RSS
 * 269 MB); the bound below is 64 MiB mapped, 16 MiB committed.
 */
#include <pthread.h>

#include "robust.h"

#define THREADS 2000

static void *keep[THREADS];

static void *worker(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    keep[i] = malloc(100);
    void *q[64];
    for (int k = 0; k < 64; k++) {
        q[k] = malloc(20000);
        if (q[k])
            memset(q[k], 1, 20000);
    }
    for (int k = 0; k < 64; k++)
        free(q[k]);
    return NULL;
}

int main(void)
{
    alarm(50);
    void *probe = malloc(32);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);
    int started = 0;
    for (size_t i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)i) == 0) {
            pthread_join(t, NULL);
            started++;
        }
    }
    CHECK("threads ran", started == THREADS);
    hk_stats_t s;
    CHECK("stats", rb_stats_get(&s));
    printf("leftover: %d threads: mapped %zu KiB, committed %zu KiB\n", started,
           s.mapped >> 10, s.committed >> 10);
    CHECK("mapped stays bounded (< 64 MiB)", s.mapped < ((size_t)64 << 20));
    CHECK("committed stays bounded (< 16 MiB)", s.committed < ((size_t)16 << 20));
    int lost = 0;
    for (size_t i = 0; i < THREADS; i++) {
        if (keep[i] == NULL || rb_is_owned(keep[i]) != 1)
            lost++;
        free(keep[i]);
    }
    CHECK("every leftover block is still heapkit's and can be freed", lost == 0);
    return hk_test_summary();
}
