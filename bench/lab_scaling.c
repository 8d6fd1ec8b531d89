/*
 * lab_scaling.c -- does the cost of malloc/free grow with the number of live blocks?
 *
 * Design:      For each policy and each live count N: open a heap, fill it with N
 *              blocks of random sizes (16..1024 bytes, seeded), warm up to a steady
 *              state, then time windows of random free+malloc pairs (replace a random
 *              live block by a new one of random size). A window stops at --time ms
 *              (or a pair cap), so a slow policy at 100k live costs bounded time and
 *              its ns/op comes from the pairs that ran. Reported: ns per operation
 *              (one malloc or one free), median of --runs windows, and the ratio of
 *              the largest N to the smallest with a verdict (see Reference below).
 *              The seeds predict: bins and segfit flat, list in proportion.
 *              All heaps see the same seeded sequence, so policies are compared on
 *              identical work.
 * Reference:   Even an O(1) allocator gets slower per op as N grows, because N blocks
 *              of ~520 bytes outgrow the caches (100k live is ~50 MB) and each random
 *              free touches a cold header: on the 2-core Xeon this was written on, an
 *              allocator that never searches costs 5-20x more per op at 100k than at
 *              1k. A plain ratio would call every policy "grows". So a built-in
 *              yardstick policy ("o1-ref": exact 16-byte size classes, LIFO lists, no
 *              search, no coalescing) runs first, through the same dispatch layer and
 *              memory source, and measures the extra cost the caches alone add per op.
 *              Each policy's extra cost (ns at the largest N minus ns at the smallest)
 *              is shown as a multiple of the yardstick's ("x ref").
 * Verdict:     "flat" when the plain ratio is below 3, or when the extra cost is below
 *              10x the yardstick's (a policy that touches a few more cold lines per op
 *              than the yardstick, e.g. boundary tags and free-list neighbours when
 *              coalescing, stays within that); "grows" otherwise. Policies that search
 *              a list land far above: tens to hundreds of x ref.
 *
 *   lab_scaling [--policy all|NAME,...] [--live N,N,...] [--time MS] [--runs N]
 *               [--seed N] [--csv]
 *
 * Complexity:  fill is N mallocs; a policy that scans all blocks per malloc (implicit
 *              lists) makes that quadratic, so filling is capped too (--fill-cap).
 */
#include "dispatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_POLICIES  64
#define MAX_LIVES     8
#define FLAT_RATIO    3.0  /* plain growth below this is flat, whatever the caches do */
#define CACHE_ALLOW   10.0 /* extra cost within this many times the yardstick's is flat */
#define PAIR_CAP      20000000UL /* per window: stops a very fast policy early */
#define CLOCK_EVERY   64         /* pairs between clock reads: keeps timing overhead < 1 ns */
#define MIN_SIZE      16
#define MAX_SIZE      1024

static const char *const default_policies = "list,dlist-first,bins,segfit,hkfit,libc";

typedef struct opts {
    const lab_policy_t *policies[MAX_POLICIES];
    size_t   npolicies;
    size_t   lives[MAX_LIVES];
    size_t   nlives;
    double   window_s;   /* length of one timed window */
    double   fill_cap_s; /* give up a cell whose fill takes longer */
    int      runs;
    uint64_t seed;
    int      csv;
} opts_t;

/* One (policy, N) measurement. */
typedef struct cell {
    double      ns_per_op; /* median over the windows */
    const char *failure;   /* NULL when measured */
} cell_t;

/* ---- The O(1) reference policy ---- */

/* Block: a 16-byte header holding the size class, then the payload. A free block keeps
 * the next free block of its class in its first payload word. Memory comes from lab_mem
 * in 64 KiB steps and is never returned; requests above REF_MAX_REQUEST fail. */
#define REF_CLASSES     64
#define REF_MAX_REQUEST ((size_t)REF_CLASSES * 16)
#define REF_HDR         ((size_t)16)
#define REF_GROWTH      ((size_t)64 << 10)

typedef struct ref_state {
    lab_mem_t *mem;
    uint8_t   *bump, *bump_end;
    void      *free_list[REF_CLASSES + 1];
    size_t     live;
} ref_state_t;

static int ref_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    if (cfg->align > 16)
        return EINVAL;
    ((ref_state_t *)st)->mem = mem;
    return 0;
}

static void *ref_malloc(void *st, size_t n)
{
    ref_state_t *s = st;
    if (n > REF_MAX_REQUEST)
        return NULL;
    size_t cls = (n + 15) / 16;
    void *p = s->free_list[cls];
    if (p) {
        memcpy(&s->free_list[cls], p, sizeof p);
    } else {
        size_t need = REF_HDR + cls * 16;
        if ((size_t)(s->bump_end - s->bump) < need) {
            s->bump = lab_mem_sbrk(s->mem, REF_GROWTH); /* the old tail is simply dropped */
            if (!s->bump)
                return NULL;
            s->bump_end = s->bump + REF_GROWTH;
        }
        memcpy(s->bump, &cls, sizeof cls);
        p = s->bump + REF_HDR;
        s->bump += need;
    }
    s->live++;
    return p;
}

static size_t ref_class(const void *p)
{
    size_t cls;
    memcpy(&cls, (const uint8_t *)p - REF_HDR, sizeof cls);
    return cls;
}

static lab_err_t ref_free(void *st, void *p)
{
    ref_state_t *s = st;
    size_t cls = ref_class(p);
    memcpy(p, &s->free_list[cls], sizeof p);
    s->free_list[cls] = p;
    s->live--;
    return LAB_OK;
}

static size_t ref_usable_size(void *st, const void *p)
{
    (void)st;
    return ref_class(p) * 16;
}

static int ref_check(void *st, lab_report_t *r)
{
    (void)st;
    (void)r; /* nothing worth checking in a benchmark yardstick */
    return 0;
}

static void ref_stats(void *st, lab_stats_t *s)
{
    s->live_blocks = ((ref_state_t *)st)->live;
}

static const lab_policy_t ref_policy = {
    .name = "o1-ref",
    .description = "benchmark yardstick: exact size classes, LIFO, no search",
    .state_size = sizeof(ref_state_t),
    .init = ref_init,
    .malloc = ref_malloc,
    .free = ref_free,
    .usable_size = ref_usable_size,
    .check = ref_check,
    .stats = ref_stats,
};

/* ---- PRNG (splitmix64) and clock ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t random_size(uint64_t *s)
{
    return MIN_SIZE + (size_t)(rng_next(s) % (MAX_SIZE - MIN_SIZE + 1));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Measurement ---- */

/* Mallocs n blocks into slots; returns NULL or why it stopped. */
static const char *fill_heap(lab_heap_t *h, void **slots, size_t n, uint64_t *rng, double cap_s)
{
    double start = now_s();
    for (size_t i = 0; i < n; i++) {
        slots[i] = lab_malloc(h, random_size(rng));
        if (!slots[i])
            return "malloc failed";
        if (i % 1024 == 1023 && now_s() - start > cap_s)
            return "fill too slow";
    }
    return NULL;
}

/* Runs free+malloc pairs until `pairs` are done or `seconds` have passed. Returns the
 * pairs done, or -1 if a malloc failed (its slot is left NULL and is skipped later). */
static long churn(lab_heap_t *h, void **slots, size_t n, uint64_t *rng, unsigned long pairs,
                  double seconds, double *elapsed)
{
    double start = now_s(), t = start;
    unsigned long done = 0;
    while (done < pairs) {
        for (int k = 0; k < CLOCK_EVERY && done < pairs; k++, done++) {
            size_t i = (size_t)(rng_next(rng) % n);
            lab_free(h, slots[i]);
            slots[i] = lab_malloc(h, random_size(rng));
            if (!slots[i]) {
                *elapsed = now_s() - start;
                return -1;
            }
        }
        t = now_s();
        if (t - start >= seconds)
            break;
    }
    *elapsed = t - start;
    return (long)done;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times o->runs windows on a filled heap; the median goes to c. */
static void time_windows(lab_heap_t *h, void **slots, size_t n, uint64_t *rng, const opts_t *o,
                         cell_t *c)
{
    double ns[16], elapsed;
    int runs = o->runs;
    for (int r = 0; r < runs; r++) {
        long done = churn(h, slots, n, rng, PAIR_CAP, o->window_s, &elapsed);
        if (done < 0) {
            c->failure = "malloc failed";
            return;
        }
        ns[r] = done ? elapsed * 1e9 / (2.0 * (double)done) : 0.0;
    }
    qsort(ns, (size_t)runs, sizeof ns[0], cmp_double);
    c->ns_per_op = ns[runs / 2];
}

/* Builds a heap of n live blocks of `p`, warms it up and measures it. */
static cell_t measure(const lab_policy_t *p, size_t n, const opts_t *o)
{
    cell_t c = {0};
    lab_heap_t h;
    uint64_t rng = o->seed;
    lab_cfg_t cfg = {.align = 16};
    if (lab_heap_open(&h, p, &cfg, 0) != 0)
        return (cell_t){.failure = "open failed"};
    void **slots = calloc(n, sizeof *slots);
    if (!slots) {
        lab_heap_close(&h);
        return (cell_t){.failure = "out of memory"};
    }
    c.failure = fill_heap(&h, slots, n, &rng, o->fill_cap_s);
    double warm;
    /* Warm-up: enough churn that the free structures reach their steady shape. */
    if (!c.failure && churn(&h, slots, n, &rng, n < 20000 ? n : 20000, o->window_s, &warm) < 0)
        c.failure = "malloc failed";
    if (!c.failure)
        time_windows(&h, slots, n, &rng, o, &c);
    lab_report_t rep = {0};
    if (!c.failure && lab_check(&h, &rep) != 0) {
        fprintf(stderr, "lab_scaling: %s at %zu live: check failed: %s\n", p->name, n,
                rep.first);
        c.failure = "check failed";
    }
    for (size_t i = 0; i < n; i++)
        lab_free(&h, slots[i]);
    free(slots);
    lab_heap_close(&h);
    return c;
}

/* ---- Output ---- */

static void fmt_count(char *buf, size_t len, size_t n)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, len, "%zuM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, len, "%zuk", n / 1000);
    else
        snprintf(buf, len, "%zu", n);
}

static void print_header(const opts_t *o)
{
    char a[32], b[32];
    printf("lab scaling: ns per operation (one malloc or one free), random free+malloc pairs\n"
           "on a heap holding N live blocks of %d..%d bytes; median of %d windows of %.0f ms;"
           " seed %" PRIu64 "\n",
           MIN_SIZE, MAX_SIZE, o->runs, o->window_s * 1e3, o->seed);
    printf("x ref = the extra ns/op at the largest N over the smallest, as a multiple of the\n"
           "extra of o1-ref (an O(1) yardstick: its extra is the caches' share).\n"
           "verdict: flat if the ratio is below %.0fx or x ref below %.0f, else grows\n",
           FLAT_RATIO, CACHE_ALLOW);
#ifdef __VERSION__
    printf("compiler: %s\n", __VERSION__);
#endif
    printf("%-14s", "policy");
    for (size_t j = 0; j < o->nlives; j++) {
        fmt_count(a, sizeof a, o->lives[j]);
        printf(" %9s", a);
    }
    fmt_count(a, sizeof a, o->lives[o->nlives - 1]);
    fmt_count(b, sizeof b, o->lives[0]);
    char ratio[72];
    snprintf(ratio, sizeof ratio, "%s/%s", a, b);
    printf(" %9s %8s  %6s  verdict\n", ratio, "+ns", "x ref");
}

/* Growth from the smallest to the largest live count, or 0 without data. */
static double growth(const cell_t *cells, const opts_t *o)
{
    const cell_t *lo = &cells[0], *hi = &cells[o->nlives - 1];
    if (lo->failure || hi->failure || lo->ns_per_op <= 0)
        return 0;
    return hi->ns_per_op / lo->ns_per_op;
}

/* ref: the yardstick's cells, or NULL when this row is the yardstick. */
static void print_row(const char *name, const cell_t *cells, const opts_t *o, const cell_t *ref)
{
    const char *failure = NULL;
    printf("%-14s", name);
    for (size_t j = 0; j < o->nlives; j++) {
        if (cells[j].failure) {
            printf(" %9s", "-");
            failure = failure ? failure : cells[j].failure;
        } else {
            printf(" %9.1f", cells[j].ns_per_op);
        }
    }
    double ratio = growth(cells, o);
    if (ratio <= 0) {
        printf(" %9s %8s  %6s  n/a (%s)\n", "-", "-", "-", failure ? failure : "no data");
        return;
    }
    double extra = cells[o->nlives - 1].ns_per_op - cells[0].ns_per_op;
    if (!ref) {
        printf(" %8.1fx %8.1f  %6s  yardstick: the caches' share\n", ratio, extra, "1.0");
        return;
    }
    /* Below 1 ns the yardstick saw no cache effect worth dividing by: judge the ratio. */
    double ref_extra = growth(ref, o) > 0 ? ref[o->nlives - 1].ns_per_op - ref[0].ns_per_op : 0;
    double xref = ref_extra >= 1.0 ? extra / ref_extra : -1;
    int flat = ratio < FLAT_RATIO || (xref >= 0 && xref < CACHE_ALLOW);
    printf(" %8.1fx %8.1f  ", ratio, extra);
    if (xref >= 0)
        printf("%6.1f", xref);
    else
        printf("%6s", "-");
    printf("  %s%s%s\n", flat ? "flat" : "grows", failure ? "; " : "", failure ? failure : "");
}

static void print_csv_row(const char *name, const cell_t *cells, const opts_t *o)
{
    for (size_t j = 0; j < o->nlives; j++) {
        if (cells[j].failure)
            printf("%s,%zu,,%s\n", name, o->lives[j], cells[j].failure);
        else
            printf("%s,%zu,%.2f,\n", name, o->lives[j], cells[j].ns_per_op);
    }
}

/* Measures one policy at every live count and prints its row. */
static void run_policy(const lab_policy_t *p, const opts_t *o, const cell_t *ref,
                       cell_t cells[MAX_LIVES])
{
    for (size_t j = 0; j < o->nlives; j++)
        cells[j] = measure(p, o->lives[j], o);
    if (o->csv)
        print_csv_row(p->name, cells, o);
    else
        print_row(p->name, cells, o, ref);
    fflush(stdout); /* rows appear as they finish: the slow ones take a while */
}

/* ---- Command line ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: lab_scaling [--policy all|NAME,...] [--live N,N,...] [--time MS]\n"
               "                   [--runs N] [--fill-cap S] [--seed N] [--csv]\n"
               "  --policy   policies to measure (default %s)\n"
               "  --live     live block counts (default 1000,10000,100000)\n"
               "  --time     length of one timed window, ms (default 200)\n"
               "  --runs     windows per cell, odd, the median is reported (default 3)\n"
               "  --fill-cap give up a cell whose fill takes longer, seconds (default 30)\n",
            default_policies);
}

static void die_usage(const char *what, const char *arg)
{
    fprintf(stderr, "lab_scaling: %s '%s'\n", what, arg);
    usage(stderr);
    exit(2);
}

static uint64_t parse_u64(const char *s, uint64_t lo, uint64_t hi, const char *opt)
{
    errno = 0;
    char *end;
    unsigned long long v = (s && *s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
    if (!s || *s < '0' || *s > '9' || errno || *end || v < lo || v > hi)
        die_usage(opt, s ? s : "");
    return v;
}

static void add_policy(opts_t *o, const char *name)
{
    const lab_policy_t *p = lab_policy_find(name);
    if (!p)
        die_usage("unknown policy", name);
    if (o->npolicies < MAX_POLICIES)
        o->policies[o->npolicies++] = p;
}

static void parse_policies(opts_t *o, const char *list)
{
    o->npolicies = 0;
    if (strcmp(list, "all") == 0) {
        for (const lab_policy_t *const *p = lab_policies; *p; p++)
            o->policies[o->npolicies++] = *p;
        return;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        add_policy(o, tok);
    if (o->npolicies == 0)
        die_usage("no policy in", list);
}

static void parse_lives(opts_t *o, const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    o->nlives = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->nlives == MAX_LIVES)
            die_usage("too many live counts in", list);
        o->lives[o->nlives++] = (size_t)parse_u64(tok, 1, 100000000, "--live");
    }
    if (o->nlives == 0)
        die_usage("no live count in", list);
}

static const char *next_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        die_usage("missing value after", argv[*i]);
    return argv[++*i];
}

static void parse_args(int argc, char **argv, opts_t *o)
{
    parse_policies(o, default_policies);
    parse_lives(o, "1000,10000,100000");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--policy") == 0)
            parse_policies(o, next_arg(argc, argv, &i));
        else if (strcmp(a, "--live") == 0)
            parse_lives(o, next_arg(argc, argv, &i));
        else if (strcmp(a, "--time") == 0)
            o->window_s = (double)parse_u64(next_arg(argc, argv, &i), 1, 60000, a) / 1e3;
        else if (strcmp(a, "--fill-cap") == 0)
            o->fill_cap_s = (double)parse_u64(next_arg(argc, argv, &i), 1, 3600, a);
        else if (strcmp(a, "--runs") == 0)
            o->runs = (int)parse_u64(next_arg(argc, argv, &i), 1, 15, a);
        else if (strcmp(a, "--seed") == 0)
            o->seed = parse_u64(next_arg(argc, argv, &i), 0, UINT64_MAX, a);
        else if (strcmp(a, "--csv") == 0)
            o->csv = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else
            die_usage("unknown argument", a);
    }
}

int main(int argc, char **argv)
{
    opts_t o = {.window_s = 0.2, .fill_cap_s = 30, .runs = 3, .seed = 1};
    parse_args(argc, argv, &o);
    if (o.csv)
        printf("policy,live,ns_per_op,failure\n");
    else
        print_header(&o);
    fflush(stdout);
    cell_t ref[MAX_LIVES] = {{0}}, cells[MAX_LIVES] = {{0}};
    run_policy(&ref_policy, &o, NULL, ref);
    for (size_t i = 0; i < o.npolicies; i++)
        run_policy(o.policies[i], &o, ref, cells);
    return 0;
}
