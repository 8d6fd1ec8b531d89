/*
 * fastpath.c -- the fast path alone: N malloc/free pairs of one small size, for callgrind.
 * scripts/bench.py runs it at two N and divides the instruction difference by the pair
 * difference, which cancels start-up costs and leaves instructions per pair.
 *   fastpath [pairs=1000000] [size=32]
 */
#include "common.h"

int main(int argc, char **argv)
{
    long pairs = bench_arg(argc, argv, 1, 1000000);
    size_t size = (size_t)bench_arg(argc, argv, 2, 32);
    void *volatile sink;
    for (long i = 0; i < pairs; i++) {
        void *p = malloc(size);
        sink = p;
        free(sink);
    }
    return 0;
}
