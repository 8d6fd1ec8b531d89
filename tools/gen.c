/*
 * gen.c -- `heapkit gen`: seeded synthetic traces in the CS:APP malloc-lab format.
 *
 * Design:      A pattern is a small program that drives a trace builder (tb_*). The
 *              builder hands out fresh ids, keeps the live set, enforces the op
 *              budget and, at the end, frees whatever is still live in a random
 *              order, so every trace is balanced ("-bal"): each id is allocated
 *              exactly once, realloc'd only while live, and freed exactly once.
 *              The whole trace is built in memory first because the header must
 *              state num_ids and num_ops before the first op.
 * Budget:      "committed" ops = ops emitted + ops still owed (one free per live id).
 *              An alloc commits 2, a realloc 1, a free 0, so a pattern may allocate
 *              only while committed + 2 <= --ops. The trace therefore has exactly
 *              --ops ops, or --ops - 1 when the last op would have to be a lone alloc.
 * Determinism: splitmix64 plus integer-only size draws (no floating point, no libm),
 *              so a (pattern, seed, options) triple gives the same bytes everywhere.
 * Header:      sugg_heapsize = peak of the requested bytes live at one time (a lower
 *              bound on any heap), num_ids, num_ops, weight = 1.
 * Complexity:  O(ops) time and memory.
 */
#include "gen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Limits and defaults ---- */

#define GEN_MAX_SIZE         ((uint32_t)1 << 20) /* no request above 1 MiB */
#define GEN_MAX_OPS          ((size_t)20000000)  /* keeps the in-memory trace < ~300 MB */
#define GEN_DEFAULT_OPS      ((size_t)10000)
#define GEN_DEFAULT_MAX_LIVE ((size_t)1000)
#define GEN_NO_ID            UINT32_MAX

typedef struct gen_opts {
    const char *pattern;
    uint64_t    seed;
    size_t      ops;
    size_t      max_live;
    const char *out; /* NULL = stdout */
} gen_opts_t;

/* ---- PRNG: splitmix64 (one 64-bit word of state, good enough and tiny) ---- */

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. Modulo bias is below 2^-32 for the ranges used here. */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(rng_t *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* True with probability pct/100. */
static int rng_chance(rng_t *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

static unsigned bit_length(uint32_t x)
{
    unsigned n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

/* Roughly log-uniform in [lo, hi] (1 <= lo <= hi): a uniform octave, then a uniform
 * value inside it. Integer-only, so identical on every machine. */
static uint32_t rng_logsize(rng_t *r, uint32_t lo, uint32_t hi)
{
    unsigned k = rng_range(r, bit_length(lo), bit_length(hi)); /* octave [2^(k-1), 2^k) */
    uint32_t a = (uint32_t)1 << (k - 1);
    uint32_t b = (k >= 32) ? UINT32_MAX : ((uint32_t)1 << k) - 1;
    if (a < lo)
        a = lo;
    if (b > hi)
        b = hi;
    return rng_range(r, a, b);
}

/* ---- Trace builder ---- */

typedef struct op {
    char     kind; /* 'a', 'r' or 'f' */
    uint32_t id;
    uint32_t size;
} op_t;

typedef struct tb {
    rng_t     rng;
    size_t    budget;    /* --ops */
    op_t     *ops;       /* budget entries */
    size_t    nops;
    uint32_t  next_id;   /* ids handed out so far */
    uint32_t *live;      /* live ids, unordered */
    uint32_t *pos;       /* pos[id] = index in live[], or GEN_NO_ID */
    uint32_t *size;      /* size[id] = current request size */
    size_t    nlive;
    uint64_t  live_bytes, peak_bytes;
} tb_t;

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "heapkit gen: out of memory\n");
        exit(1);
    }
    return p;
}

static void tb_init(tb_t *tb, const gen_opts_t *o)
{
    memset(tb, 0, sizeof *tb);
    tb->rng.s = o->seed;
    tb->budget = o->ops;
    size_t max_ids = o->ops / 2 + 1; /* every id costs at least an alloc and a free */
    tb->ops = xcalloc(o->ops, sizeof *tb->ops);
    tb->live = xcalloc(max_ids, sizeof *tb->live);
    tb->pos = xcalloc(max_ids, sizeof *tb->pos);
    tb->size = xcalloc(max_ids, sizeof *tb->size);
}

static void tb_fini(tb_t *tb)
{
    free(tb->ops);
    free(tb->live);
    free(tb->pos);
    free(tb->size);
}

static uint32_t clamp_size(uint32_t n)
{
    return n == 0 ? 1 : n > GEN_MAX_SIZE ? GEN_MAX_SIZE : n;
}

static void tb_emit(tb_t *tb, char kind, uint32_t id, uint32_t size)
{
    tb->ops[tb->nops++] = (op_t){.kind = kind, .id = id, .size = size};
}

static void tb_set_size(tb_t *tb, uint32_t id, uint32_t size)
{
    tb->live_bytes += size;
    tb->live_bytes -= tb->size[id];
    tb->size[id] = size;
    if (tb->live_bytes > tb->peak_bytes)
        tb->peak_bytes = tb->live_bytes;
}

/* Room for one more alloc (and the free it owes)? */
static int tb_room(const tb_t *tb)
{
    return tb->nops + tb->nlive + 2 <= tb->budget;
}

static int tb_is_live(const tb_t *tb, uint32_t id)
{
    return id < tb->next_id && tb->pos[id] != GEN_NO_ID;
}

/* Allocates a fresh id of `size` bytes; GEN_NO_ID when the budget is spent. */
static uint32_t tb_alloc(tb_t *tb, uint32_t size)
{
    if (!tb_room(tb))
        return GEN_NO_ID;
    uint32_t id = tb->next_id++;
    size = clamp_size(size);
    tb->pos[id] = (uint32_t)tb->nlive;
    tb->live[tb->nlive++] = id;
    tb->size[id] = 0;
    tb_set_size(tb, id, size);
    tb_emit(tb, 'a', id, size);
    return id;
}

static void tb_free(tb_t *tb, uint32_t id)
{
    if (!tb_is_live(tb, id))
        return; /* so patterns may pass GEN_NO_ID from an alloc the budget refused */
    uint32_t i = tb->pos[id];
    uint32_t last = tb->live[--tb->nlive];
    tb->live[i] = last;
    tb->pos[last] = i;
    tb->pos[id] = GEN_NO_ID;
    tb_set_size(tb, id, 0);
    tb_emit(tb, 'f', id, 0);
}

/* Resizes live `id`; returns 0, or -1 when the budget has no room for it. */
static int tb_realloc(tb_t *tb, uint32_t id, uint32_t size)
{
    if (!tb_is_live(tb, id) || tb->nops + tb->nlive + 1 > tb->budget)
        return -1;
    size = clamp_size(size);
    tb_set_size(tb, id, size);
    tb_emit(tb, 'r', id, size);
    return 0;
}

static uint32_t tb_random_live(tb_t *tb)
{
    return tb->live[rng_below(&tb->rng, (uint32_t)tb->nlive)];
}

/* Frees everything still live, in random order. */
static void tb_drain(tb_t *tb)
{
    while (tb->nlive)
        tb_free(tb, tb_random_live(tb));
}

/* ---- Pools: pattern-private sets of ids (swap-remove, random pick) ---- */

typedef struct pool {
    uint32_t *ids;
    size_t    n;
} pool_t;

static pool_t pool_new(const tb_t *tb)
{
    return (pool_t){.ids = xcalloc(tb->budget / 2 + 1, sizeof(uint32_t)), .n = 0};
}

static void pool_add(pool_t *p, uint32_t id)
{
    if (id != GEN_NO_ID)
        p->ids[p->n++] = id;
}

/* Removes and returns a random member (the pool must not be empty). */
static uint32_t pool_take(pool_t *p, rng_t *r)
{
    uint32_t i = rng_below(r, (uint32_t)p->n);
    uint32_t id = p->ids[i];
    p->ids[i] = p->ids[--p->n];
    return id;
}

static void pool_free_all(pool_t *p, tb_t *tb)
{
    while (p->n)
        tb_free(tb, pool_take(p, &tb->rng));
}

/* ---- Size mixes ---- */

/* Mostly small, some medium, a few large; 1 in 10 requests repeats a popular size, as
 * real programs allocate the same struct over and over. */
static uint32_t mixed_size(rng_t *r, const uint32_t popular[8])
{
    unsigned pick = rng_below(r, 100);
    if (pick < 10)
        return popular[rng_below(r, 8)];
    if (pick < 75)
        return rng_logsize(r, 1, 512);
    if (pick < 96)
        return rng_logsize(r, 513, 8192);
    return rng_logsize(r, 8193, 131072);
}

static void pick_popular(rng_t *r, uint32_t popular[8])
{
    for (int i = 0; i < 8; i++)
        popular[i] = rng_logsize(r, 8, 256);
}

/* ---- Patterns ---- */

/* random: mixed sizes; the live set swells and shrinks in waves (the alloc bias flips
 * now and then), and the victim of each free is any live block, so lifetimes vary. */
static void pat_random(tb_t *tb, const gen_opts_t *o)
{
    uint32_t popular[8];
    pick_popular(&tb->rng, popular);
    unsigned grow_pct = 65;
    while (tb_room(tb)) {
        if (rng_below(&tb->rng, 400) == 0)
            grow_pct = 100 - grow_pct;
        int must_free = tb->nlive >= o->max_live;
        if (tb->nlive && (must_free || !rng_chance(&tb->rng, grow_pct)))
            tb_free(tb, tb_random_live(tb));
        else
            tb_alloc(tb, mixed_size(&tb->rng, popular));
    }
}

/* adversary: each round allocates a row of equal blocks, frees every other one (holes
 * pinned apart by the survivors), then asks for blocks slightly too big for the holes.
 * The next round's size is larger still, so no old hole ever fits: first fit walks
 * past all of them, and a heap without size classes fragments. The oldest pins go
 * when --max-live is exceeded; sizes wrap around at 16 KiB. */
static void pat_adversary(tb_t *tb, const gen_opts_t *o)
{
    pool_t row = pool_new(tb), big = pool_new(tb), prev_big = pool_new(tb);
    uint32_t *pins = xcalloc(tb->budget / 2 + 1, sizeof *pins);
    size_t pin_head = 0, pin_tail = 0;
    uint32_t s = 16;
    while (tb_room(tb)) {
        uint32_t pairs = rng_range(&tb->rng, 32, 96);
        row.n = 0;
        for (uint32_t i = 0; i < 2 * pairs; i++)
            pool_add(&row, tb_alloc(tb, s));
        for (size_t i = 0; i < row.n; i++) { /* in address order: hole, pin, hole, pin */
            if (i % 2 == 0)
                tb_free(tb, row.ids[i]);
            else
                pins[pin_tail++] = row.ids[i];
        }
        uint32_t too_big = s + s / 8 + rng_range(&tb->rng, 8, 24);
        big.n = 0;
        for (uint32_t i = 0; i < pairs; i++)
            pool_add(&big, tb_alloc(tb, too_big));
        /* Last round's big blocks become holes too, every other one, pinned by the rest. */
        for (size_t i = 0; i < prev_big.n; i++) {
            if (i % 2 == 0)
                tb_free(tb, prev_big.ids[i]);
            else
                pins[pin_tail++] = prev_big.ids[i];
        }
        memcpy(prev_big.ids, big.ids, big.n * sizeof *big.ids);
        prev_big.n = big.n;
        while (pin_tail - pin_head > o->max_live)
            tb_free(tb, pins[pin_head++]);
        s = s + s / 4 + rng_range(&tb->rng, 8, 24);
        if (s > 16384)
            s = rng_range(&tb->rng, 16, 32);
    }
    free(row.ids);
    free(big.ids);
    free(prev_big.ids);
    free(pins);
}

/* coalesce: a run of adjacent blocks closed by a small pin, the run freed in random
 * order (so merges happen with the block before, after, and both), then one request
 * just under the run's total, which fits only if the run was merged into one block.
 * Big blocks live a while; the oldest pins go when --max-live is exceeded, which lets
 * neighbouring runs merge into still larger free areas. */
static void pat_coalesce(tb_t *tb, const gen_opts_t *o)
{
    pool_t run = pool_new(tb), held = pool_new(tb);
    uint32_t *pins = xcalloc(tb->budget / 2 + 1, sizeof *pins);
    size_t pin_head = 0, pin_tail = 0;
    while (tb_room(tb)) {
        uint32_t len = rng_range(&tb->rng, 4, 24), total = 0, largest = 0;
        run.n = 0;
        for (uint32_t i = 0; i < len; i++) {
            uint32_t n = rng_logsize(&tb->rng, 16, 512);
            uint32_t id = tb_alloc(tb, n);
            if (id == GEN_NO_ID)
                break;
            pool_add(&run, id);
            total += n;
            largest = n > largest ? n : largest;
        }
        uint32_t pin = tb_alloc(tb, rng_range(&tb->rng, 16, 64));
        if (pin != GEN_NO_ID)
            pins[pin_tail++] = pin;
        pool_free_all(&run, tb); /* pool_take picks at random: a shuffled free order */
        uint32_t want = total - rng_below(&tb->rng, total / 8 + 1);
        pool_add(&held, tb_alloc(tb, want > largest ? want : largest + 1));
        while (held.n > 8 || (held.n && rng_chance(&tb->rng, 30)))
            tb_free(tb, pool_take(&held, &tb->rng));
        while (pin_tail - pin_head > o->max_live / 4 + 1)
            tb_free(tb, pins[pin_head++]);
    }
    free(run.ids);
    free(held.ids);
    free(pins);
}

/* realloc: a few buffers grow step by step towards a target (small additive steps, or
 * x1.5 now and then, like a vector), interleaved with small short-lived allocations
 * that land next to the buffers and get in the way of in-place growth. */
#define GEN_BUFFERS 6
static void pat_realloc(tb_t *tb, const gen_opts_t *o)
{
    uint32_t buf[GEN_BUFFERS], target[GEN_BUFFERS];
    for (int i = 0; i < GEN_BUFFERS; i++)
        buf[i] = GEN_NO_ID;
    pool_t smalls = pool_new(tb);
    while (tb_room(tb)) {
        unsigned b = rng_below(&tb->rng, GEN_BUFFERS);
        if (buf[b] == GEN_NO_ID) {
            buf[b] = tb_alloc(tb, rng_range(&tb->rng, 16, 128));
            target[b] = rng_logsize(&tb->rng, 4096, 262144);
        } else if (tb->size[buf[b]] >= target[b]) {
            tb_free(tb, buf[b]);
            buf[b] = GEN_NO_ID;
        } else {
            uint32_t n = tb->size[buf[b]];
            n = rng_chance(&tb->rng, 20) ? n + n / 2 : n + rng_range(&tb->rng, 16, 256);
            tb_realloc(tb, buf[b], n);
        }
        if (rng_chance(&tb->rng, 50))
            pool_add(&smalls, tb_alloc(tb, rng_range(&tb->rng, 16, 128)));
        if (smalls.n && (smalls.n >= o->max_live || rng_chance(&tb->rng, 45)))
            tb_free(tb, pool_take(&smalls, &tb->rng));
    }
    free(smalls.ids);
}

/* phased: a program that loops over three phases. parse: many small blocks that live
 * until the end of the iteration (a tenth survive it, like a symbol table); compute:
 * medium temporaries with short lives; output: a few large buffers, each freed soon
 * after. The phase boundaries change the size mix abruptly. */
static void phase_parse(tb_t *tb, pool_t *parsed)
{
    uint32_t n = rng_range(&tb->rng, 200, 600);
    for (uint32_t i = 0; i < n && tb_room(tb); i++) {
        int str = rng_chance(&tb->rng, 15);
        pool_add(parsed, tb_alloc(tb, str ? rng_range(&tb->rng, 65, 300)
                                          : rng_logsize(&tb->rng, 8, 64)));
        if (parsed->n && rng_chance(&tb->rng, 10)) /* a token dropped right away */
            tb_free(tb, pool_take(parsed, &tb->rng));
    }
}

static void phase_compute(tb_t *tb, pool_t *temps, pool_t *results)
{
    uint32_t n = rng_range(&tb->rng, 300, 1000), keep = rng_range(&tb->rng, 4, 16);
    for (uint32_t i = 0; i < n && tb_room(tb); i++) {
        pool_add(temps, tb_alloc(tb, rng_logsize(&tb->rng, 128, 2048)));
        if (temps->n > keep) {
            uint32_t id = pool_take(temps, &tb->rng);
            if (rng_chance(&tb->rng, 5))
                pool_add(results, id); /* promoted: lives until output is done */
            else
                tb_free(tb, id);
        }
    }
    pool_free_all(temps, tb);
}

static void phase_output(tb_t *tb, pool_t *results)
{
    uint32_t n = rng_range(&tb->rng, 5, 20), prev = GEN_NO_ID;
    for (uint32_t i = 0; i < n && tb_room(tb); i++) {
        uint32_t id = tb_alloc(tb, rng_logsize(&tb->rng, 4096, 65536));
        /* a record header, freed with the results at the end of the iteration */
        pool_add(results, tb_alloc(tb, rng_range(&tb->rng, 16, 48)));
        tb_free(tb, prev);
        prev = id;
    }
    tb_free(tb, prev);
}

static void pat_phased(tb_t *tb, const gen_opts_t *o)
{
    pool_t parsed = pool_new(tb), temps = pool_new(tb), results = pool_new(tb),
           kept = pool_new(tb);
    while (tb_room(tb)) {
        phase_parse(tb, &parsed);
        phase_compute(tb, &temps, &results);
        phase_output(tb, &results);
        pool_free_all(&results, tb);
        while (parsed.n) {
            uint32_t id = pool_take(&parsed, &tb->rng);
            if (kept.n < o->max_live && rng_chance(&tb->rng, 10))
                pool_add(&kept, id);
            else
                tb_free(tb, id);
        }
    }
    free(parsed.ids);
    free(temps.ids);
    free(results.ids);
    free(kept.ids);
}

/* steady: fill to --max-live live blocks of mixed sizes, then replace a random live
 * block per step (free + alloc), holding the live count at --max-live. */
static void pat_steady(tb_t *tb, const gen_opts_t *o)
{
    uint32_t popular[8];
    pick_popular(&tb->rng, popular);
    while (tb->nlive < o->max_live && tb_room(tb))
        tb_alloc(tb, mixed_size(&tb->rng, popular));
    while (tb->nlive && tb_room(tb)) {
        tb_free(tb, tb_random_live(tb));
        tb_alloc(tb, mixed_size(&tb->rng, popular));
    }
}

typedef struct pattern {
    const char *name;
    const char *description;
    void (*run)(tb_t *tb, const gen_opts_t *o);
} pattern_t;

static const pattern_t patterns[] = {
    {"random", "mixed sizes (small/medium/large, popular sizes), random lifetimes in waves",
     pat_random},
    {"adversary", "fragmentation adversary: holes between pins, then requests a bit too big",
     pat_adversary},
    {"coalesce", "runs of adjacent blocks freed in random order, then one request needing them merged",
     pat_coalesce},
    {"realloc", "buffers grown by realloc step by step, interleaved with small blocks",
     pat_realloc},
    {"phased", "parse (small, long-lived) / compute (medium, short) / output (large) phases",
     pat_phased},
    {"steady", "fill to --max-live blocks of mixed sizes, then free+alloc at that level",
     pat_steady},
};
#define PATTERN_COUNT (sizeof patterns / sizeof patterns[0])

static const pattern_t *pattern_find(const char *name)
{
    for (size_t i = 0; i < PATTERN_COUNT; i++)
        if (strcmp(patterns[i].name, name) == 0)
            return &patterns[i];
    return NULL;
}

/* ---- Output ---- */

static int write_trace(const tb_t *tb, FILE *f)
{
    /* Readers of this format scan the header with %d: keep the hint within an int. */
    uint64_t hint = tb->peak_bytes > INT32_MAX ? INT32_MAX : tb->peak_bytes;
    fprintf(f, "%" PRIu64 "\n%" PRIu32 "\n%zu\n1\n", hint, tb->next_id, tb->nops);
    for (size_t i = 0; i < tb->nops; i++) {
        const op_t *op = &tb->ops[i];
        if (op->kind == 'f')
            fprintf(f, "f %" PRIu32 "\n", op->id);
        else
            fprintf(f, "%c %" PRIu32 " %" PRIu32 "\n", op->kind, op->id, op->size);
    }
    return ferror(f) ? -1 : 0;
}

static int emit(const tb_t *tb, const char *path)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "heapkit gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int err = write_trace(tb, f);
    if (path ? fclose(f) != 0 : fflush(f) != 0)
        err = -1;
    if (err) {
        fprintf(stderr, "heapkit gen: %s: write failed: %s\n", path ? path : "stdout",
                strerror(errno));
        return 1;
    }
    return 0;
}

/* ---- Command line ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: heapkit gen --pattern NAME [--seed N] [--ops N] [--max-live N] [-o FILE]\n"
               "       heapkit gen --list\n"
               "  --pattern NAME  one of the patterns shown by --list\n"
               "  --seed N        PRNG seed (default 1); same seed, same bytes\n"
               "  --ops N         operations in the trace, max %zu (default %zu; steady:\n"
               "                  at least 4 x max-live); the trace has N or N-1 ops\n"
               "  --max-live N    cap (steady: target) on live blocks (default %zu)\n"
               "  -o FILE         write there instead of stdout\n",
            GEN_MAX_OPS, GEN_DEFAULT_OPS, GEN_DEFAULT_MAX_LIVE);
}

static void list_patterns(void)
{
    for (size_t i = 0; i < PATTERN_COUNT; i++)
        printf("%-10s %s\n", patterns[i].name, patterns[i].description);
}

/* Parses a decimal in [lo, hi]; returns 0 or -1. */
static int parse_num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Fetches the value of option argv[*i] ("--opt VALUE" or "--opt=VALUE"), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "heapkit gen: %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

static void bad_number(const char *name, const char *v, uint64_t lo, uint64_t hi)
{
    fprintf(stderr, "heapkit gen: %s: bad value '%s' (want %" PRIu64 "..%" PRIu64 ")\n", name,
            v, lo, hi);
    exit(2);
}

/* Fills *o from argv; returns -1 after --list/--help (already handled), exits 2 on
 * bad usage. ops/max_live stay 0 when not given. */
static int parse_args(int argc, char **argv, gen_opts_t *o)
{
    uint64_t v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (strcmp(a, "--list") == 0) {
            list_patterns();
            return -1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if ((val = opt_value(argc, argv, &i, "--pattern"))) {
            o->pattern = val;
        } else if ((val = opt_value(argc, argv, &i, "--seed"))) {
            if (parse_num(val, 0, UINT64_MAX, &v))
                bad_number("--seed", val, 0, UINT64_MAX);
            o->seed = v;
        } else if ((val = opt_value(argc, argv, &i, "--ops"))) {
            if (parse_num(val, 2, GEN_MAX_OPS, &v))
                bad_number("--ops", val, 2, GEN_MAX_OPS);
            o->ops = (size_t)v;
        } else if ((val = opt_value(argc, argv, &i, "--max-live"))) {
            if (parse_num(val, 1, GEN_MAX_OPS / 2, &v))
                bad_number("--max-live", val, 1, GEN_MAX_OPS / 2);
            o->max_live = (size_t)v;
        } else if ((val = opt_value(argc, argv, &i, "-o"))) {
            o->out = val;
        } else {
            fprintf(stderr, "heapkit gen: unknown argument '%s'\n", a);
            usage(stderr);
            exit(2);
        }
    }
    return 0;
}

/* Applies defaults and cross-option rules; returns the pattern or exits 2. */
static const pattern_t *settle_options(gen_opts_t *o)
{
    if (!o->pattern) {
        fprintf(stderr, "heapkit gen: --pattern is required (see --list)\n");
        exit(2);
    }
    const pattern_t *p = pattern_find(o->pattern);
    if (!p) {
        fprintf(stderr, "heapkit gen: unknown pattern '%s' (see --list)\n", o->pattern);
        exit(2);
    }
    int ops_given = o->ops != 0;
    if (!o->max_live)
        o->max_live = GEN_DEFAULT_MAX_LIVE;
    if (!ops_given)
        o->ops = GEN_DEFAULT_OPS;
    if (p->run == pat_steady) {
        /* Filling alone costs 2 x max-live ops (each fill block is freed at the end). */
        size_t need = 2 * o->max_live + 2;
        if (!ops_given && o->ops < 4 * o->max_live)
            o->ops = 4 * o->max_live > GEN_MAX_OPS ? GEN_MAX_OPS : 4 * o->max_live;
        if (o->ops < need) {
            fprintf(stderr, "heapkit gen: steady needs --ops >= %zu for --max-live %zu\n",
                    need, o->max_live);
            exit(2);
        }
    }
    return p;
}

int gen_main(int argc, char **argv)
{
    gen_opts_t o = {.seed = 1};
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (parse_args(argc, argv, &o) < 0)
        return 0;
    const pattern_t *p = settle_options(&o);
    tb_t tb;
    tb_init(&tb, &o);
    p->run(&tb, &o);
    tb_drain(&tb);
    int status = emit(&tb, o.out);
    tb_fini(&tb);
    return status;
}
