/*
 * churn.c -- single-thread churn of mixed sizes: a working set of live blocks where each
 * step frees a random one and allocates a new one of a random size.
 *   churn [steps=20000000] [live=20000]
 */
#include "common.h"

int main(int argc, char **argv)
{
    long steps = bench_arg(argc, argv, 1, 20000000), live = bench_arg(argc, argv, 2, 20000);
    bench_rng_t rng = {42};
    void **slot = calloc((size_t)live, sizeof *slot);
    size_t *size = calloc((size_t)live, sizeof *size);
    if (!slot || !size)
        return 1;
    double t0 = bench_now();
    for (long i = 0; i < steps; i++) {
        size_t k = bench_next(&rng) % (size_t)live;
        if (slot[k]) {
            if (!bench_check(slot[k], size[k], (unsigned char)k))
                return fprintf(stderr, "churn: corrupted block\n"), 1;
            free(slot[k]);
        }
        size[k] = bench_size(&rng, 4096);
        slot[k] = malloc(size[k]);
        bench_touch(slot[k], size[k], (unsigned char)k);
    }
    for (long k = 0; k < live; k++)
        free(slot[k]);
    bench_report("churn", bench_now() - t0, (unsigned long long)steps);
    free(slot);
    free(size);
    return 0;
}
