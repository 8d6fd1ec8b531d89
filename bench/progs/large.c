/*
 * large.c -- large allocations: a malloc/free loop over sizes from 256 KiB to 8 MiB with
 * a few large blocks kept alive, each touched on every page's first byte it uses.
 *   large [steps=40000] [live=8]
 */
#include "common.h"

int main(int argc, char **argv)
{
    long steps = bench_arg(argc, argv, 1, 40000), live = bench_arg(argc, argv, 2, 8);
    bench_rng_t rng = {3};
    void *keep[64] = {0};
    size_t keep_size[64] = {0};
    if (live < 1 || live > 64)
        return 1;
    double t0 = bench_now();
    for (long i = 0; i < steps; i++) {
        size_t k = bench_next(&rng) % (size_t)live;
        if (keep[k] && !bench_check(keep[k], keep_size[k], (unsigned char)k))
            return fprintf(stderr, "large: corrupted block\n"), 1;
        free(keep[k]);
        keep_size[k] = ((size_t)256 << 10) << (bench_next(&rng) % 6);
        keep[k] = malloc(keep_size[k]);
        unsigned char *p = keep[k];
        for (size_t off = 0; off < keep_size[k]; off += 64 << 10)
            p[off] = (unsigned char)k; /* touch some pages, as a program filling a buffer would */
        bench_touch(p, keep_size[k], (unsigned char)k);
    }
    for (long k = 0; k < live; k++)
        free(keep[k]);
    bench_report("large", bench_now() - t0, (unsigned long long)steps);
    return 0;
}
