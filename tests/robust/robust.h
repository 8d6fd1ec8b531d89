/*
 * robust.h -- helpers shared by the tests/robust programs.
 *
 * Each program is built twice: with -DRB_STATIC, linked with libheapkit.a (the standard
 * names come from the archive), and without, run with LD_PRELOAD=libheapkit.so. The
 * rb_* wrappers reach the heapkit introspection API either way, so a program can prove
 * that heapkit (not glibc) is the allocator in use.
 */
#ifndef HK_ROBUST_H
#define HK_ROBUST_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "heapkit.h"

#ifdef RB_STATIC
static inline int rb_is_owned(const void *p)
{
    return hk_is_owned(p);
}
static inline int rb_stats_get(hk_stats_t *s)
{
    hk_stats_get(s);
    return 1;
}
#else
/* -1 when heapkit is not loaded (the program is not running under LD_PRELOAD). */
static inline int rb_is_owned(const void *p)
{
    static int (*fn)(const void *);
    if (!fn)
        *(void **)&fn = dlsym(RTLD_DEFAULT, "hk_is_owned");
    return fn ? fn(p) : -1;
}
static inline int rb_stats_get(hk_stats_t *s)
{
    static void (*fn)(hk_stats_t *);
    if (!fn)
        *(void **)&fn = dlsym(RTLD_DEFAULT, "hk_stats_get");
    if (!fn)
        return 0;
    fn(s);
    return 1;
}
#endif

/* Resident set size in bytes (/proc/self/statm, second field). */
static inline size_t rb_rss(void)
{
    char buf[128];
    size_t total = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f) && sscanf(buf, "%zu %zu", &total, &rss) == 2)
        rss *= (size_t)sysconf(_SC_PAGESIZE);
    fclose(f);
    return rss;
}

/* Virtual size in bytes (/proc/self/statm, first field). */
static inline size_t rb_vsize(void)
{
    char buf[128];
    size_t total = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f) && sscanf(buf, "%zu", &total) == 1)
        total *= (size_t)sysconf(_SC_PAGESIZE);
    fclose(f);
    return total;
}

/* A block that can check itself: a header {size, seed} and a byte pattern after it. */
typedef struct rb_block_s {
    size_t size;
    unsigned seed;
} rb_block_t;

static inline unsigned char rb_pat(unsigned seed, size_t i)
{
    return (unsigned char)((seed * 2654435761u) >> 24 ^ (unsigned)i * 31u);
}

/* The next byte after i that carries the pattern: every byte of a small block; the first
 * and last 2 KiB and one byte per 512 of a bigger one (big blocks stay cheap to check). */
static inline size_t rb_next(size_t i, size_t size)
{
    if (size <= 8192 || i + 1 < 2048 || i + 1 >= size - 2048)
        return i + 1;
    size_t n = (i + 512) & ~(size_t)511;
    return n < size - 2048 ? n : size - 2048;
}

static inline void rb_fill(void *p, size_t size, unsigned seed)
{
    unsigned char *b = p;
    size_t start = 0;
    if (size >= sizeof(rb_block_t)) {
        rb_block_t h = {size, seed};
        memcpy(b, &h, sizeof h);
        start = sizeof h;
    }
    for (size_t i = start; i < size; i = rb_next(i, size))
        b[i] = rb_pat(seed, i);
}

/* 1 when p still holds what rb_fill(p, size, seed) wrote. */
static inline int rb_verify(const void *p, size_t size, unsigned seed)
{
    const unsigned char *b = p;
    size_t start = 0;
    if (size >= sizeof(rb_block_t)) {
        rb_block_t h;
        memcpy(&h, b, sizeof h);
        if (h.size != size || h.seed != seed)
            return 0;
        start = sizeof h;
    }
    for (size_t i = start; i < size; i = rb_next(i, size))
        if (b[i] != rb_pat(seed, i))
            return 0;
    return 1;
}

/* xorshift32 */
static inline unsigned rb_rand(unsigned *s)
{
    unsigned x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#endif
