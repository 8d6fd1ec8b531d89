/*
 * realloc_grow.c -- buffers grown step by step with realloc, as string builders and
 * vectors do, interleaved with small short-lived allocations that get in the way.
 *   realloc_grow [rounds=60] [buffers=500] [final_size=65536]
 */
#include "common.h"

#include <string.h>

int main(int argc, char **argv)
{
    long rounds = bench_arg(argc, argv, 1, 60), buffers = bench_arg(argc, argv, 2, 500);
    size_t final = (size_t)bench_arg(argc, argv, 3, 65536);
    bench_rng_t rng = {7};
    unsigned long long ops = 0;
    void *buf[1024] = {0}, *small[1024] = {0};
    size_t len[1024];
    if (buffers < 1 || buffers > 1024)
        return 1;
    double t0 = bench_now();
    for (long r = 0; r < rounds; r++) {
        for (long b = 0; b < buffers; b++)
            len[b] = 0;
        for (int growing = 1; growing;) {
            growing = 0;
            for (long b = 0; b < buffers; b++) {
                if (len[b] >= final)
                    continue;
                size_t grow = 16 + bench_next(&rng) % (len[b] / 4 + 64);
                size_t n = len[b] + grow > final ? final : len[b] + grow;
                unsigned char *p = realloc(buf[b], n);
                if (!p || (len[b] && p[len[b] - 1] != (unsigned char)b))
                    return fprintf(stderr, "realloc_grow: lost data\n"), 1;
                memset(p + len[b], (unsigned char)b, n - len[b]);
                buf[b] = p;
                len[b] = n;
                free(small[b]);
                small[b] = malloc(8 + bench_next(&rng) % 120);
                ops += 2;
                growing = 1;
            }
        }
        for (long b = 0; b < buffers; b++) {
            free(buf[b]);
            buf[b] = NULL;
        }
    }
    for (long b = 0; b < buffers; b++)
        free(small[b]);
    bench_report("realloc", bench_now() - t0, ops);
    return 0;
}
