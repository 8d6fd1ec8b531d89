/*
 * common.h -- shared bits of the allocator benchmarks: a seeded PRNG, a monotonic clock,
 * peak RSS and address space, and the one result line every benchmark prints.
 *
 * Every benchmark calls only malloc/free/realloc/calloc, so the allocator under test is
 * chosen from outside with LD_PRELOAD (scripts/bench.py). The result line is
 *     result <name> <seconds> <peak_rss_kib> <operations> <peak_address_space_kib>
 * and is the only thing the runner parses.
 */
#ifndef HK_BENCH_COMMON_H
#define HK_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_rng {
    uint64_t s;
} bench_rng_t;

static inline uint64_t bench_next(bench_rng_t *r)
{
    /* splitmix64: tiny, good enough, and identical everywhere */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Sizes the way programs ask: mostly small, a geometric tail up to `max`. */
static inline size_t bench_size(bench_rng_t *r, size_t max)
{
    uint64_t x = bench_next(r);
    unsigned shift = 4 + (unsigned)(x % 100 < 70 ? x % 4 : x % 4 + 1 + (x >> 8) % 8);
    size_t n = ((size_t)1 << shift) + (size_t)((x >> 20) % ((size_t)1 << shift));
    return n > max ? max : n;
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A peak of this process image from /proc/self/status: VmHWM (RSS) or VmPeak (address
 * space). Not getrusage's ru_maxrss: Linux keeps that across execve, so a child of a big
 * parent would report the parent's peak. VmHWM starts anew. */
static inline long bench_status_kib(const char *field)
{
    char line[256], name[32];
    long kib = -1, v;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%31[^:]: %ld kB", name, &v) == 2 && strcmp(name, field) == 0) {
            kib = v;
            break;
        }
    if (f)
        fclose(f);
    return kib;
}

static inline long bench_peak_rss_kib(void)
{
    return bench_status_kib("VmHWM");
}

static inline void bench_report(const char *name, double seconds, unsigned long long ops)
{
    printf("result %s %.6f %ld %llu %ld\n", name, seconds, bench_peak_rss_kib(), ops,
           bench_status_kib("VmPeak"));
}

/* Touches a block the way a program would: first and last byte, so it is really used. */
static inline void bench_touch(void *p, size_t n, unsigned char v)
{
    unsigned char *c = p;
    c[0] = v;
    c[n - 1] = v;
}

static inline int bench_check(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    return c[0] == v && c[n - 1] == v;
}

static inline long bench_arg(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

#endif
