/*
 * test_stress.c -- multi-threaded stress test of the hk_* API (not a benchmark).
 *
 * Seeded (the seed is printed; --seed S repeats a run). Sizes are powers of two with a
 * long tail (16 bytes .. 16 MiB, geometric). Every block is written on allocation and
 * verified before it is freed. Blocks move between threads through a shared exchange
 * array (cross-thread frees), and each round's threads exit while some of their blocks
 * live on (abandoned segments); the next round frees them from other threads.
 *   --threads N  --rounds R  --iters I  --seed S
 */
#include "harness.h"

#include <heapkit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XCHG_SLOTS 1024
#define SURVIVORS  4096
#define LOCAL      256

static _Atomic(uintptr_t) xchg[XCHG_SLOTS];
static _Atomic(uintptr_t) survivors[SURVIVORS];
static _Atomic long corrupt_count, alloc_fail_count;
static unsigned long long g_seed;
static long g_iters = 20000;

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static size_t pick_size(uint64_t *s)
{
    uint64_t r = rnd(s);
    unsigned e = (unsigned)__builtin_ctzll(r | ((uint64_t)1 << 19)); /* P(e) = 2^-(e+1) */
    size_t base = (size_t)16 << e; /* >= 16: room for the size word and a pattern */
    return base + (size_t)(rnd(s) % base);
}

/* block: [size][pattern bytes ...] (blocks < 8 bytes never happen: min size 8) */
static unsigned char pat(size_t n, size_t i)
{
    return (unsigned char)((n * 7u) ^ (i * 13u) ^ (i >> 8));
}

static void write_block(unsigned char *p, size_t n)
{
    memcpy(p, &n, sizeof n);
    size_t step = n > 65536 ? 4096 : 1;
    for (size_t i = sizeof n; i < n; i += step)
        p[i] = pat(n, i);
    p[n - 1] = pat(n, n - 1);
}

static int check_block(const unsigned char *p)
{
    size_t n;
    memcpy(&n, p, sizeof n);
    if (n < 16 || n > ((size_t)32 << 20) || hk_usable_size(p) < n)
        return 0;
    size_t step = n > 65536 ? 4096 : 1;
    for (size_t i = sizeof n; i < n; i += step)
        if (p[i] != pat(n, i))
            return 0;
    return p[n - 1] == pat(n, n - 1);
}

static void release(uintptr_t b)
{
    if (b == 0)
        return;
    if (!check_block((const unsigned char *)b))
        atomic_fetch_add(&corrupt_count, 1);
    hk_free((void *)b);
}

static void *new_block(uint64_t *s)
{
    size_t n = pick_size(s);
    unsigned char *p = hk_malloc(n);
    if (p == NULL) {
        atomic_fetch_add(&alloc_fail_count, 1);
        return NULL;
    }
    write_block(p, n);
    return p;
}

static void *worker(void *arg)
{
    uint64_t s = g_seed * 0x9E3779B97F4A7C15ull + (uintptr_t)arg * 7919u + 1;
    uintptr_t local[LOCAL] = {0};
    for (long it = 0; it < g_iters; it++) {
        uint64_t r = rnd(&s);
        unsigned slot = (unsigned)(r % LOCAL);
        switch ((r >> 16) % 8) {
        case 0: /* hand a block to another thread */ {
            uintptr_t mine = local[slot];
            local[slot] = 0;
            if (mine == 0)
                mine = (uintptr_t)new_block(&s);
            uintptr_t got = atomic_exchange(&xchg[(r >> 24) % XCHG_SLOTS], mine);
            release(got);
            break;
        }
        case 1: /* realloc */
            if (local[slot] != 0) {
                unsigned char *p = (unsigned char *)local[slot];
                if (!check_block(p))
                    atomic_fetch_add(&corrupt_count, 1);
                size_t n = pick_size(&s);
                p = hk_realloc(p, n);
                if (p) {
                    write_block(p, n);
                    local[slot] = (uintptr_t)p;
                } else {
                    atomic_fetch_add(&alloc_fail_count, 1);
                }
            }
            break;
        default:
            release(local[slot]);
            local[slot] = (uintptr_t)new_block(&s);
            break;
        }
    }
    /* exit with some blocks still alive: they go to the survivors array */
    for (unsigned i = 0; i < LOCAL; i++) {
        if (local[i] != 0 && rnd(&s) % 2 == 0) {
            uintptr_t old = atomic_exchange(&survivors[rnd(&s) % SURVIVORS], local[i]);
            release(old);
        } else {
            release(local[i]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 8, rounds = 6;
    g_seed = (unsigned long long)time(NULL);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--iters") == 0)
            g_iters = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            g_seed = strtoull(argv[i + 1], NULL, 10);
    }
    printf("stress: seed %llu, %d threads, %d rounds, %ld iterations\n", g_seed, threads, rounds,
           g_iters);
    fflush(stdout);
    pthread_t tids[64];
    if (threads > 64)
        threads = 64;
    for (int r = 0; r < rounds; r++) {
        for (int t = 0; t < threads; t++)
            pthread_create(&tids[t], NULL, worker, (void *)(uintptr_t)(r * threads + t));
        for (int t = 0; t < threads; t++)
            pthread_join(tids[t], NULL);
        CHECK("heap check between rounds", hk_heap_check(NULL) == 0);
    }
    for (unsigned i = 0; i < XCHG_SLOTS; i++)
        release(atomic_exchange(&xchg[i], 0));
    for (unsigned i = 0; i < SURVIVORS; i++)
        release(atomic_exchange(&survivors[i], 0));
    CHECK("no corrupted block", atomic_load(&corrupt_count) == 0);
    CHECK("no failed allocation", atomic_load(&alloc_fail_count) == 0);
    hk_trim(0);
    hk_report_t rep = {0};
    int errs = hk_heap_check(&rep);
    if (errs)
        printf("heap check: %s at %p: %s\n", rep.invariant, rep.addr, rep.message);
    CHECK("heap check at the end", errs == 0);
    hk_stats_t st;
    hk_stats_get(&st);
    printf("stress: live blocks %zu, committed %zu KiB (peak %zu KiB), mapped %zu KiB\n",
           st.live_blocks, st.committed >> 10, st.peak_committed >> 10, st.mapped >> 10);
    CHECK("every block freed is accounted (live == 0)", st.live_blocks == 0);
    CHECK("trim returned memory (committed < 8 MiB)", st.committed < ((size_t)8 << 20));
    return hk_test_summary();
}
