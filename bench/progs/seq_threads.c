/*
 * seq_threads.c -- threads created one after another, each leaving one small block alive
 * (issue 10: what address space does a thread leave behind?).
 *   seq_threads [threads=1000] [work_blocks=0] [work_size=20000]
 *
 * Each thread keeps a malloc(64) alive to the end and, with work_blocks > 0, first
 * allocates and frees that many blocks of work_size bytes. The figure that matters is
 * the peak address space (VmPeak, the last field of the result line), which a program
 * under RLIMIT_AS or strict overcommit pays for.
 */
#include "common.h"

#include <pthread.h>
#include <string.h>

static long work_blocks;
static size_t work_size = 20000;

static void *worker(void *unused)
{
    (void)unused;
    void *q[256];
    long n = work_blocks < 256 ? work_blocks : 256;
    for (long k = 0; k < n; k++)
        if ((q[k] = malloc(work_size)) != NULL)
            memset(q[k], 1, work_size);
    for (long k = 0; k < n; k++)
        free(q[k]);
    void *keep = malloc(64);
    if (keep)
        memset(keep, 2, 64);
    return keep;
}

int main(int argc, char **argv)
{
    long threads = bench_arg(argc, argv, 1, 1000);
    work_blocks = bench_arg(argc, argv, 2, 0);
    work_size = (size_t)bench_arg(argc, argv, 3, 20000);
    void **kept = calloc((size_t)threads, sizeof *kept);
    if (kept == NULL)
        return 1;
    double t0 = bench_now();
    for (long i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, &kept[i]) != 0)
            return 1;
    }
    double t = bench_now() - t0;
    bench_report("seq_threads", t, (unsigned long long)threads);
    for (long i = 0; i < threads; i++)
        free(kept[i]);
    free(kept);
    return 0;
}
