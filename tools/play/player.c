/*
 * player.c -- heapkit-play: replays one play file (playfile.h) on this process's malloc
 *             and reports the replay's wall time and resident memory (play.h).
 *
 *   heapkit-play [--threads one|recorded] [--expect LIB|libc] [--timeout SECONDS] FILE
 *
 * Design:      `heapkit replay --peer` runs this with LD_PRELOAD=<the peer's library>
 *              (nothing for glibc), once per run, so no allocator state carries over.
 *              In order:
 *                1. check that malloc, calloc, realloc, free and aligned_alloc come from
 *                   LIB (--expect): a library that failed to preload is only a warning
 *                   for ld.so, and the row would silently measure glibc;
 *                2. read the file and check P1-P7 (playfile.c) into a block table that
 *                   then serves the replay; plan the threads (plan.c);
 *                3. touch what the player owns (own.c maps everything touched, and reads
 *                   its program image; the main stack here), and call free(malloc(1)) so
 *                   the allocator has set itself
 *                   up: the footprint is measured from an initialized, empty allocator;
 *                4. reset the RSS high-water mark and take the baseline RSS;
 *                5. play the ops under an alarm (--timeout), timed with CLOCK_MONOTONIC;
 *                6. read VmHWM (the peak) and VmRSS (the final RSS), then verify the
 *                   blocks still live (B1), and report.
 * Output:      one line on stdout, the last one heapkit reads:
 *                ok ops=N ns=T baseline=B peak=P final=F peak_live=L hwm_reset=0|1
 *                   threads=K          (bytes; K = threads that played: 1 with --threads one)
 *                fail op=N MESSAGE     the allocator broke a check at op N (1-based; 0:
 *                                      not at an op); exit 1
 *                error MESSAGE         bad usage, a bad play file, the wrong allocator;
 *                                      also on stderr; exit 2
 *                crash op=N            then the process dies of the signal
 */
#include "play.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: heapkit-play [--threads one|recorded] [--expect LIB|libc] [--timeout SECONDS] FILE\n"
    "Replays a play file (written by `heapkit replay --peer`) on this process's malloc and\n"
    "prints one line: ok ops=.. ns=.. baseline=.. peak=.. final=.. (bytes), or fail/error.\n";

typedef struct args {
    const char *path, *expect;
    bool        recorded;
    unsigned    timeout;
} args_t;

static void parse_args(int argc, char **argv, args_t *a)
{
    a->timeout = 600;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            play_write_line(usage);
            exit(0);
        }
        if (!val)
            play_error("option %s needs a value", opt);
        i++;
        if (strcmp(opt, "--threads") == 0 && (!strcmp(val, "one") || !strcmp(val, "recorded")))
            a->recorded = strcmp(val, "recorded") == 0;
        else if (strcmp(opt, "--expect") == 0)
            a->expect = val;
        else if (strcmp(opt, "--timeout") == 0 && val[0] >= '1' && val[0] <= '9' &&
                 strlen(val) < 7 && strspn(val, "0123456789") == strlen(val))
            a->timeout = (unsigned)atoi(val);
        else
            play_error("bad option %s %s (try --help)", opt, val);
    }
    if (i + 1 != argc)
        play_error("needs exactly one play file (try --help)");
    a->path = argv[i];
}

/* ---- 1. The allocator is the one asked for ---- */

static bool is_libc(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0;
}

static void check_allocator(const char *expect)
{
    static const char *const entry[] = {"malloc", "calloc", "realloc", "free", "aligned_alloc"};
    bool libc = strcmp(expect, "libc") == 0;
    struct stat want, got;
    if (!libc && stat(expect, &want) != 0)
        play_error("--expect %s: %s", expect, strerror(errno));
    for (size_t i = 0; i < sizeof entry / sizeof entry[0]; i++) {
        void *sym = dlsym(RTLD_DEFAULT, entry[i]);
        Dl_info info;
        if (!sym || !dladdr(sym, &info) || !info.dli_fname)
            play_error("cannot tell which library defines %s", entry[i]);
        bool same = libc ? is_libc(info.dli_fname)
                         : stat(info.dli_fname, &got) == 0 && got.st_dev == want.st_dev &&
                               got.st_ino == want.st_ino;
        if (!same)
            play_error("%s comes from %s, not %s (was the library preloaded?)", entry[i],
                       info.dli_fname, expect);
    }
}

/* ---- 2. The file and the plan ---- */

static void load(play_t *pl, const args_t *a)
{
    uint64_t len = 0;
    void *file = play_read_file(a->path, &len);
    if (!file)
        play_error("%s: %s", a->path, strerror(errno));
    const char *e = playfile_check_header(file, len);
    if (e)
        play_error("%s: not a valid play file: %s", a->path, e);
    const playfile_header_t *h = file;
    pl->slots = play_map((size_t)h->num_ids * sizeof *pl->slots);
    if (!pl->slots)
        play_error("%s: cannot map a block table for %u ids", a->path, h->num_ids);
    uint32_t at;
    _Static_assert(sizeof(play_slot_t) >= sizeof(uint64_t), "the table is the check's scratch");
    e = playfile_check(file, len, (uint64_t *)(void *)pl->slots, &at);
    if (e && at != PLAY_NONE)
        play_error("%s: not a valid play file: op %u: %s", a->path, at + 1, e);
    if (e)
        play_error("%s: not a valid play file: %s", a->path, e);
    pl->hdr = h;
    pl->ops = playfile_ops(file);
    pl->thread_of = playfile_threads(file);
    pl->num_ops = h->num_ops;
}

static void plan(play_t *pl, const args_t *a)
{
    if (a->recorded && pl->thread_of && pl->hdr->num_threads > 1) {
        const char *e = play_plan(pl);
        if (e)
            play_error("%s", e);
        return;
    }
    pl->threads = play_map(sizeof *pl->threads); /* one thread plays everything in order */
    if (!pl->threads)
        play_error("cannot map the thread state");
    play_thread_t *th = &pl->threads[0];
    th->first = 0;
    th->last = pl->num_ops ? pl->num_ops - 1 : PLAY_NONE;
    th->count = pl->num_ops;
    th->stack = PLAY_NONE;
    th->pl = pl;
    pl->spawn_due = PLAY_NONE;
}

/* ---- 3-6. Measuring ---- */

/* The main thread's stack, as deep as an allocator's slow path might take it. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile unsigned char pad[256 << 10];
    for (size_t off = 0; off < sizeof pad; off += PLAY_PAGE)
        pad[off] = 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct measure {
    uint64_t ns, baseline, peak, final;
    bool     hwm_reset;
} measure_t;

static void replay(play_t *pl, unsigned timeout, measure_t *m)
{
    uint64_t rss, hwm;
    touch_stack();
    play_touch_image();
    free(malloc(1));
    play_self = &pl->threads[0];
    m->hwm_reset = play_reset_hwm() == 0;
    if (play_rss(&rss, &hwm) != 0)
        play_error("cannot read VmRSS and VmHWM from /proc/self/status");
    m->baseline = rss;
    alarm(timeout);
    uint64_t start = now_ns();
    play_thread_ops(pl, &pl->threads[0]);
    if (pl->recorded) {
        play_spawn_due(pl, PLAY_NONE);
        play_join_all(pl);
    }
    m->ns = now_ns() - start;
    alarm(0);
    if (play_rss(&rss, &hwm) != 0)
        play_error("cannot read VmRSS and VmHWM from /proc/self/status");
    m->peak = hwm > m->baseline ? hwm : m->baseline;
    m->final = rss;
}

int main(int argc, char **argv)
{
    static play_t pl;
    args_t a = {0};
    parse_args(argc, argv, &a);
    play_install_handlers(&pl);
    if (a.expect)
        check_allocator(a.expect);
    load(&pl, &a);
    plan(&pl, &a);
    measure_t m;
    replay(&pl, a.timeout, &m);
    play_verify_survivors(&pl);
    char line[256];
    snprintf(line, sizeof line,
             "ok ops=%u ns=%llu baseline=%llu peak=%llu final=%llu peak_live=%llu hwm_reset=%d "
             "threads=%u\n",
             pl.num_ops, (unsigned long long)m.ns, (unsigned long long)m.baseline,
             (unsigned long long)m.peak, (unsigned long long)m.final,
             (unsigned long long)pl.hdr->peak_live, m.hwm_reset ? 1 : 0,
             pl.recorded ? pl.num_spawn + (pl.threads[0].count > 0) : 1);
    play_write_line(line);
    return 0;
}
