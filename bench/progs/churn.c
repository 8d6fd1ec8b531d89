/*
 * churn.c -- single-thread churn of mixed sizes: a working set of live blocks where each
 * step frees a random one and allocates a new one of a random size.
 *   churn [steps=20000000] [live=20000] [min max]
 * Sizes are log-distributed up to 4 KiB, or, with min and max, uniform in [min, max)
 * and then one byte written per 4 KiB, as a program fills its buffers (bench churn-mid:
 * 64..512 KiB, where size classes are wide and pages hold few blocks).
 */
#include "common.h"

int main(int argc, char **argv)
{
    long steps = bench_arg(argc, argv, 1, 20000000), live = bench_arg(argc, argv, 2, 20000);
    size_t lo = (size_t)bench_arg(argc, argv, 3, 0), hi = (size_t)bench_arg(argc, argv, 4, 0);
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
        size[k] = hi > lo && lo > 0 ? lo + (size_t)(bench_next(&rng) >> 16) % (hi - lo)
                                    : bench_size(&rng, 4096);
        slot[k] = malloc(size[k]);
        bench_touch(slot[k], size[k], (unsigned char)k);
        for (size_t off = 4096; hi > 0 && off < size[k]; off += 4096) /* a buffer is filled */
            ((unsigned char *)slot[k])[off] = (unsigned char)k;
    }
    for (long k = 0; k < live; k++)
        free(slot[k]);
    bench_report("churn", bench_now() - t0, (unsigned long long)steps);
    free(slot);
    free(size);
    return 0;
}
