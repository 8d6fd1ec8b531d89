/*
 * false_sharing.c -- cache-scratch after Hoard's benchmark: the main thread allocates one
 * small object per worker (adjacent in memory with a naive allocator); each worker frees
 * it, then repeatedly allocates its own small objects and writes them hard. An allocator
 * that hands two threads objects in one cache line makes the writes ping-pong between cores.
 *   false_sharing [threads=2] [iterations=2000] [writes=5000] [size=8]
 */
#include "common.h"

#include <pthread.h>

typedef struct worker {
    char *handed;
    long  iterations, writes;
    size_t size;
} worker_t;

static void *scratch(void *arg)
{
    worker_t *w = arg;
    free(w->handed);
    for (long i = 0; i < w->iterations; i++) {
        volatile char *p = malloc(w->size);
        for (long j = 0; j < w->writes; j++) {
            p[0] = (char)j;
            p[w->size - 1] = (char)(p[0] + 1);
        }
        free((void *)p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = bench_arg(argc, argv, 1, 2), iterations = bench_arg(argc, argv, 2, 2000);
    long writes = bench_arg(argc, argv, 3, 5000);
    size_t size = (size_t)bench_arg(argc, argv, 4, 8);
    pthread_t tid[64];
    worker_t w[64];
    if (threads < 1 || threads > 64 || size < 1)
        return 1;
    for (long i = 0; i < threads; i++)
        w[i] = (worker_t){malloc(size), iterations, writes, size};
    double t0 = bench_now();
    for (long i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, scratch, &w[i]);
    for (long i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    bench_report("false-sharing", bench_now() - t0, (unsigned long long)(threads * iterations));
    return 0;
}
