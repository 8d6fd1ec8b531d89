/*
 * replay.c -- the checked pass and the timing pass of `heapkit replay` (see replay.h).
 *
 * Design:      The checked pass keeps, per trace id, the payload pointer, the requested
 *              size and the fill generation, plus the ordered set of live intervals
 *              (liveset.h). Every block is checked before its contents are touched, so a
 *              pointer outside the heap is reported rather than dereferenced. Footprint
 *              is polled after every op (for the system allocator, after every op but
 *              frees, which cannot grow it): for lab policies the memory source keeps its
 *              own high-water mark too, but the system allocator's footprint (libc) is
 *              only known by polling; each new high also samples lab_stats so the
 *              fragmentation is reported at the moment of peak footprint.
 *              The timing pass runs the pre-parsed op array with nothing but the calls,
 *              on heaps opened with no_stats (policy.h): no statistics are kept for it.
 * Complexity:  checked pass O(ops log live + bytes requested); timing pass O(ops).
 */
#include "replay.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "pattern.h"

typedef enum replay_phase {
    PHASE_SETUP,   /* opening or closing a heap, or between passes */
    PHASE_CHECKED, /* inside the checked pass's op loop */
    PHASE_TIMING,  /* inside a timing run */
} replay_phase_t;

/* ---- Scratch ---- */

int replay_scratch_init(replay_scratch_t *sc, uint32_t capacity)
{
    memset(sc, 0, sizeof *sc);
    size_t n = capacity ? capacity : 1;
    void *shared = mmap(NULL, sizeof *sc->progress, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return -1;
    sc->progress = shared;
    sc->capacity = capacity;
    sc->ptr = calloc(n, sizeof *sc->ptr);
    sc->base = calloc(n, sizeof *sc->base);
    sc->size = calloc(n, sizeof *sc->size);
    sc->generation = calloc(n, sizeof *sc->generation);
    int live_status = liveset_init(&sc->live, capacity);
    if (!sc->ptr || !sc->base || !sc->size || !sc->generation || live_status < 0) {
        replay_scratch_fini(sc);
        return -1;
    }
    return 0;
}

void replay_scratch_fini(replay_scratch_t *sc)
{
    if (sc->progress)
        munmap(sc->progress, sizeof *sc->progress);
    free(sc->ptr);
    free(sc->base);
    free(sc->size);
    free(sc->generation);
    liveset_fini(&sc->live);
    memset(sc, 0, sizeof *sc);
}

/* ---- Checked pass: state and failure reporting ---- */

typedef struct checker {
    const trace_t          *trace;
    const replay_options_t *opt;
    replay_scratch_t       *sc;
    replay_result_t        *res;
    lab_heap_t             *heap;
    bool      on_system;       /* LAB_USES_SYSTEM: no lab_mem to check against */
    size_t    live_bytes;      /* sum of requested sizes of live blocks */
    size_t    footprint_high;  /* highest polled footprint */
} checker_t;

/* Records the failure of op index `at` (SIZE_MAX: not at an op) and returns false. */
static bool __attribute__((format(printf, 3, 4)))
fail(checker_t *c, size_t at, const char *fmt, ...)
{
    replay_result_t *res = c->res;
    res->ok = false;
    res->fail_op = at == SIZE_MAX ? 0 : (uint32_t)at + 1;
    res->fail_line = at == SIZE_MAX ? 0 : c->trace->lines[at];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- Checked pass: blocks ---- */

/* Checks a payload just returned for `id` (inside the block `base`, which is p itself
 * unless an aligned allocation padded it) and enters it in the live set; its contents are
 * not touched here. `align` is the alignment the op asked for (0: the configured one). */
static bool admit_block(checker_t *c, size_t at, uint32_t id, void *p, void *base, size_t n,
                        size_t align)
{
    uintptr_t start = (uintptr_t)p, span = n ? n : 1; /* malloc(0) still owns a byte */
    if (align < c->opt->align)
        align = c->opt->align;
    if (start % align)
        return fail(c, at, "payload %p of id %u is not %zu-byte aligned", p, id, align);
    if (start > UINTPTR_MAX - span)
        return fail(c, at, "payload %p of id %u wraps around the address space", p, id);
    if (!c->on_system && !lab_mem_contains(&c->heap->mem, p, span))
        return fail(c, at, "payload [%p, +%zu) of id %u lies outside the heap's memory", p, n,
                    id);
    size_t usable = lab_usable_size(c->heap, base), offset = start - (uintptr_t)base;
    if (usable < offset || usable - offset < n)
        return fail(c, at, "usable size %zu of id %u is below the %zu bytes requested", usable,
                    id, n + offset);
    uint32_t clash = liveset_insert(&c->sc->live, id, start, start + span);
    if (clash != LIVESET_NONE) {
        const liveset_node_t *o = &c->sc->live.nodes[clash];
        return fail(c, at, "payload [%p, +%zu) of id %u overlaps live id %u at [%p, +%zu)", p,
                    n, id, clash, (void *)o->start, (size_t)(o->end - o->start));
    }
    c->sc->ptr[id] = p;
    c->sc->base[id] = base;
    c->sc->size[id] = n;
    return true;
}

/* Writes a fresh pattern into live block id; `at` (the op index) is its generation. */
static void fill_block(checker_t *c, size_t at, uint32_t id)
{
    c->sc->generation[id] = (uint32_t)at;
    pattern_fill(c->sc->ptr[id], c->sc->size[id], pattern_seed(id, (uint32_t)at));
}

/* Verifies the first n bytes of p against the pattern id had. */
static bool verify_bytes(checker_t *c, size_t at, uint32_t id, const void *p, size_t n,
                         const char *when)
{
    size_t bad = pattern_mismatch(p, n, pattern_seed(id, c->sc->generation[id]));
    if (bad != PATTERN_OK)
        return fail(c, at, "contents of id %u damaged %s: byte %zu of %zu differs (block %p)",
                    id, when, bad, n, p);
    return true;
}

static void note_live_bytes(checker_t *c, size_t added, size_t removed)
{
    c->live_bytes = c->live_bytes + added - removed;
    if (c->live_bytes > c->res->peak_live)
        c->res->peak_live = c->live_bytes;
}

/* ---- Checked pass: ops ---- */

/* A fresh calloc block must read as zeros before the checker writes its pattern. */
static bool verify_zeroed(checker_t *c, size_t at, uint32_t id)
{
    const unsigned char *p = c->sc->ptr[id];
    for (size_t i = 0; i < c->sc->size[id]; i++)
        if (p[i])
            return fail(c, at, "calloc block of id %u is not zeroed: byte %zu of %zu is 0x%02x",
                        id, i, c->sc->size[id], p[i]);
    return true;
}

static bool check_malloc(checker_t *c, size_t at, const trace_op_t *op)
{
    void *base, *p;
    size_t align = 0;
    if (op->kind == TRACE_ALIGNED) {
        align = (size_t)1 << op->align_shift;
        p = lab_aligned_alloc(c->heap, align, op->size, &base);
    } else {
        p = base = op->kind == TRACE_CALLOC ? lab_calloc(c->heap, 1, op->size)
                                            : lab_malloc(c->heap, op->size);
    }
    if (!p)
        return fail(c, at, "out of memory: %s(%zu) for id %u returned NULL",
                    op->kind == TRACE_CALLOC ? "calloc"
                    : op->kind == TRACE_ALIGNED ? "aligned_alloc"
                                                : "malloc",
                    op->size, op->id);
    if (!admit_block(c, at, op->id, p, base, op->size, align))
        return false;
    if (op->kind == TRACE_CALLOC && !verify_zeroed(c, at, op->id))
        return false;
    fill_block(c, at, op->id);
    note_live_bytes(c, op->size, 0);
    return true;
}

static bool check_free(checker_t *c, size_t at, const trace_op_t *op)
{
    uint32_t id = op->id;
    void *p = c->sc->ptr[id];
    if (!verify_bytes(c, at, id, p, c->sc->size[id], "before its free"))
        return false;
    liveset_remove(&c->sc->live, id);
    c->sc->ptr[id] = NULL;
    note_live_bytes(c, 0, c->sc->size[id]);
    lab_err_t e = lab_free(c->heap, c->sc->base[id]);
    if (e != LAB_OK)
        return fail(c, at, "free(%p) of live id %u was refused: %s", p, id, lab_strerror(e));
    return true;
}

/* realloc(p, 0) frees p (dispatch.h); the id is then dead. */
static bool check_realloc_to_zero(checker_t *c, size_t at, uint32_t id, void *old)
{
    liveset_remove(&c->sc->live, id);
    c->sc->ptr[id] = NULL;
    note_live_bytes(c, 0, c->sc->size[id]);
    void *q = lab_realloc(c->heap, old, 0);
    if (q)
        return fail(c, at, "realloc(%p, 0) of id %u returned %p instead of NULL", old, id, q);
    if (c->heap->last_error != LAB_OK)
        return fail(c, at, "realloc(%p, 0) of id %u failed: %s", old, id,
                    lab_strerror(c->heap->last_error));
    return true;
}

/* realloc of a padded aligned block: the policy only knows the block around it, and C
 * does not promise the alignment again, so this is what a program's realloc amounts to:
 * a new block, the common prefix, the old block freed. */
static void *realloc_padded(lab_heap_t *h, void *base, void *p, size_t old_size, size_t n)
{
    void *q = lab_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, old_size < n ? old_size : n);
    lab_free(h, base);
    return q;
}

static bool check_realloc(checker_t *c, size_t at, const trace_op_t *op)
{
    uint32_t id = op->id;
    void *old = c->sc->ptr[id], *base = c->sc->base[id];
    size_t old_size = c->sc->size[id], n = op->size;
    if (!verify_bytes(c, at, id, old, old_size, "before its realloc"))
        return false;
    if (n == 0)
        return check_realloc_to_zero(c, at, id, base);
    void *q = base == old ? lab_realloc(c->heap, old, n)
                          : realloc_padded(c->heap, base, old, old_size, n);
    if (!q)
        return fail(c, at, "out of memory: realloc(%p, %zu) of id %u returned NULL (%s)", old, n,
                    id, lab_strerror(c->heap->last_error));
    liveset_remove(&c->sc->live, id); /* the old block is gone, q may reuse its bytes */
    c->sc->ptr[id] = NULL;
    if (!admit_block(c, at, id, q, q, n, 0))
        return false;
    if (!verify_bytes(c, at, id, q, old_size < n ? old_size : n, "by realloc (common prefix)"))
        return false;
    fill_block(c, at, id);
    note_live_bytes(c, n, old_size);
    return true;
}

static bool check_op(checker_t *c, size_t at)
{
    const trace_op_t *op = &c->trace->ops[at];
    switch (op->kind) {
    case TRACE_ALLOC:
    case TRACE_CALLOC:
    case TRACE_ALIGNED:
        return check_malloc(c, at, op);
    case TRACE_FREE:
        return check_free(c, at, op);
    case TRACE_REALLOC:
        return check_realloc(c, at, op);
    }
    return fail(c, at, "internal error: op kind %d", op->kind);
}

/* ---- Checked pass: heap-wide checks and measurement ---- */

/* Polls the footprint; at each new high, samples the policy's block bytes. */
static void poll_footprint(checker_t *c)
{
    size_t fp = lab_footprint(c->heap);
    if (fp <= c->footprint_high)
        return;
    lab_stats_t s;
    lab_stats(c->heap, &s);
    c->footprint_high = fp;
    c->res->frag_footprint = fp;
    c->res->internal_frag = (long long)s.block_bytes - (long long)c->live_bytes;
    c->res->external_frag = (long long)fp - (long long)s.block_bytes;
}

static bool run_heap_check(checker_t *c, size_t at)
{
    lab_report_t report = {0};
    if (lab_check(c->heap, &report) == 0)
        return true;
    return fail(c, at, "heap check: %d violation%s, first: %s", report.count,
                report.count == 1 ? "" : "s", report.first);
}

/* At the end: blocks a trace leaves live must still hold their contents. */
static bool verify_survivors(checker_t *c)
{
    for (uint32_t id = 0; id < c->trace->id_span; id++)
        if (c->sc->ptr[id] &&
            !verify_bytes(c, SIZE_MAX, id, c->sc->ptr[id], c->sc->size[id], "at the end"))
            return false;
    return true;
}

/* Frees what the trace left live (ids whose live[id] is set; to_free[id] is the block to
 * free), so the system allocator's next baseline is clean. */
static void release_survivors(lab_heap_t *h, void **live, void **to_free, uint32_t span)
{
    for (uint32_t id = 0; id < span; id++)
        if (live[id]) {
            lab_free(h, to_free[id]);
            live[id] = NULL;
        }
}

static void run_ops_checked(checker_t *c)
{
    unsigned long every = c->opt->check_every;
    replay_progress_t *progress = c->sc->progress;
    poll_footprint(c);
    progress->phase = PHASE_CHECKED;
    for (size_t at = 0; at < c->trace->num_ops; at++) {
        progress->op = (uint32_t)at + 1;
        if (!check_op(c, at))
            return;
        /* A free never grows a footprint; skipping it matters for the system allocator,
         * whose footprint query (mallinfo2) walks every free chunk. */
        if (!c->on_system || c->trace->ops[at].kind != TRACE_FREE)
            poll_footprint(c);
        if (every && (at + 1) % every == 0 && !run_heap_check(c, at))
            return;
    }
    progress->phase = PHASE_SETUP;
    if (run_heap_check(c, SIZE_MAX))
        verify_survivors(c);
}

static void reset_scratch(replay_scratch_t *sc, uint32_t span)
{
    memset(sc->ptr, 0, span * sizeof *sc->ptr);
    memset(sc->base, 0, span * sizeof *sc->base);
    liveset_clear(&sc->live);
}

static void checked_pass(const trace_t *t, const lab_policy_t *policy,
                         const replay_options_t *opt, replay_scratch_t *sc, replay_result_t *res)
{
    lab_heap_t heap;
    lab_cfg_t cfg = {.align = opt->align};
    checker_t c = {.trace = t, .opt = opt, .sc = sc, .res = res, .heap = &heap,
                   .on_system = (policy->flags & LAB_USES_SYSTEM) != 0};
    reset_scratch(sc, t->id_span);
    int err = lab_heap_open(&heap, policy, &cfg, 0);
    if (err) {
        fail(&c, SIZE_MAX, "cannot open a heap: %s", strerror(err));
        return;
    }
    run_ops_checked(&c);
    res->peak_footprint = c.footprint_high;
    if (!c.on_system && heap.mem.peak_footprint > res->peak_footprint)
        res->peak_footprint = heap.mem.peak_footprint;
    res->has_growth = !c.on_system;
    res->growth_calls = heap.mem.grow_calls + heap.mem.map_calls;
    res->utilization =
        res->peak_footprint ? (double)res->peak_live / (double)res->peak_footprint : 0.0;
    release_survivors(&heap, sc->ptr, sc->base, t->id_span);
    lab_heap_close(&heap);
}

/* ---- Timing pass ---- */

/* The bare op loop; ptr[] holds the blocks to free (an aligned op's padded block).
 * Returns the number of ops done (fewer when a call failed). */
static size_t run_ops_bare(lab_heap_t *h, const trace_op_t *ops, size_t count, void **ptr)
{
    for (size_t i = 0; i < count; i++) {
        const trace_op_t *op = &ops[i];
        void *p;
        switch (op->kind) {
        case TRACE_ALLOC:
            p = lab_malloc(h, op->size);
            if (!p)
                return i;
            ptr[op->id] = p;
            break;
        case TRACE_REALLOC:
            p = lab_realloc(h, ptr[op->id], op->size);
            if (!p && op->size)
                return i;
            ptr[op->id] = p;
            break;
        case TRACE_FREE:
            lab_free(h, ptr[op->id]);
            ptr[op->id] = NULL;
            break;
        case TRACE_CALLOC:
            p = lab_calloc(h, 1, op->size);
            if (!p)
                return i;
            ptr[op->id] = p;
            break;
        default: /* TRACE_ALIGNED */
            if (!lab_aligned_alloc(h, (size_t)1 << op->align_shift, op->size, &ptr[op->id]))
                return i;
            break;
        }
    }
    return count;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One timing run on a fresh heap: seconds for the op loop, or -1 if it failed. */
static double time_once(const trace_t *t, const lab_policy_t *policy, const lab_cfg_t *cfg,
                        replay_scratch_t *sc)
{
    lab_heap_t heap;
    memset(sc->ptr, 0, t->id_span * sizeof *sc->ptr);
    if (lab_heap_open(&heap, policy, cfg, 0) != 0)
        return -1;
    sc->progress->phase = PHASE_TIMING;
    double start = now_seconds();
    size_t done = run_ops_bare(&heap, t->ops, t->num_ops, sc->ptr);
    double seconds = now_seconds() - start;
    sc->progress->phase = PHASE_SETUP;
    release_survivors(&heap, sc->ptr, sc->ptr, t->id_span);
    lab_heap_close(&heap);
    return done == t->num_ops ? seconds : -1;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A timing run lasts at least this long: a short trace (realloc-bal replays in ~0.2 ms)
 * timed once is mostly clock and scheduler noise. */
#define MIN_RUN_SECONDS 0.005
#define MAX_REPS_PER_RUN 1000

/* One timing run: the trace replayed `reps` times, each on a fresh heap; seconds per
 * replay, or -1 if one failed. */
static double time_run(const trace_t *t, const lab_policy_t *policy, const lab_cfg_t *cfg,
                       replay_scratch_t *sc, unsigned reps)
{
    double total = 0;
    for (unsigned r = 0; r < reps; r++) {
        double s = time_once(t, policy, cfg, sc);
        if (s < 0)
            return -1;
        total += s;
    }
    return total / reps;
}

static void timing_pass(const trace_t *t, const lab_policy_t *policy,
                        const replay_options_t *opt, replay_scratch_t *sc, replay_result_t *res)
{
    double runs[REPLAY_MAX_TIMING_RUNS];
    /* Nothing reads statistics in a timing run: a policy may skip upkeep that only stats()
     * and check() need (the libc baseline would otherwise pay malloc_usable_size calls on
     * top of glibc's own work, which no lab policy pays for its counters). */
    lab_cfg_t cfg = {.align = opt->align, .no_stats = 1};
    unsigned n = opt->timing_runs < REPLAY_MAX_TIMING_RUNS ? opt->timing_runs
                                                           : REPLAY_MAX_TIMING_RUNS;
    if (n == 0)
        return;
    /* Calibration: one replay (which also warms the memory source) sets the repetitions. */
    double once = time_once(t, policy, &cfg, sc);
    if (once < 0)
        return; /* passed the checked pass, so this is the system running dry: no figure */
    unsigned reps = once >= MIN_RUN_SECONDS ? 1 : (unsigned)(MIN_RUN_SECONDS / (once + 1e-9)) + 1;
    if (reps > MAX_REPS_PER_RUN)
        reps = MAX_REPS_PER_RUN;
    for (unsigned i = 0; i < n; i++) {
        runs[i] = time_run(t, policy, &cfg, sc, reps);
        if (runs[i] < 0)
            return;
    }
    qsort(runs, n, sizeof runs[0], compare_doubles);
    double median = n % 2 ? runs[n / 2] : (runs[n / 2 - 1] + runs[n / 2]) / 2;
    if (median < 1e-9)
        median = 1e-9; /* below the clock's resolution */
    res->timing_runs = n;
    res->seconds = median;
    res->ops_per_sec = (double)t->num_ops / median;
}

/* ---- Isolation in a child process ---- */

static void start_result(const trace_t *t, const lab_policy_t *policy, replay_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->trace = t;
    res->policy = policy;
    res->name = policy->name;
    res->ops = t->num_ops;
    res->has_frag = true;
    res->ok = true;
}

typedef struct passes {
    const trace_t          *trace;
    const lab_policy_t     *policy;
    const replay_options_t *opt;
    replay_scratch_t       *sc;
    replay_result_t        *res;
} passes_t;

static void *run_passes_here(void *arg)
{
    passes_t *p = arg;
    checked_pass(p->trace, p->policy, p->opt, p->sc, p->res);
    if (p->res->ok)
        timing_pass(p->trace, p->policy, p->opt, p->sc, p->res);
    return NULL;
}

/* The system allocator runs in a thread of its own: glibc gives a new thread a new arena,
 * so free chunks the process left in the main arena (trace parsing, earlier output) cannot
 * serve the trace and hide part of its footprint. Lab policies run on the calling thread. */
static void run_passes(const trace_t *t, const lab_policy_t *policy, const replay_options_t *opt,
                       replay_scratch_t *sc, replay_result_t *res)
{
    passes_t p = {t, policy, opt, sc, res};
    pthread_t thread;
    if ((policy->flags & LAB_USES_SYSTEM) && pthread_create(&thread, NULL, run_passes_here, &p) == 0)
        pthread_join(thread, NULL);
    else
        run_passes_here(&p);
}

static bool transfer(int fd, void *buf, size_t n, bool writing)
{
    char *at = buf;
    while (n > 0) {
        ssize_t done = writing ? write(fd, at, n) : read(fd, at, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return false;
        at += done;
        n -= (size_t)done;
    }
    return true;
}

/* The child ended without a result: say how, and where it was. */
static void report_lost_child(const trace_t *t, const replay_progress_t *progress, int status,
                              replay_result_t *res)
{
    char how[96];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "crashed (signal %d, %s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(how, sizeof how, "replay process exited with status %d (a report above?)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    start_result(t, res->policy, res);
    res->ok = false;
    if (progress->phase == PHASE_CHECKED && progress->op) {
        res->fail_op = progress->op;
        res->fail_line = t->lines[progress->op - 1];
        snprintf(res->reason, sizeof res->reason, "%s", how);
    } else {
        snprintf(res->reason, sizeof res->reason, "%s %s", how,
                 progress->phase == PHASE_TIMING ? "during a timing run"
                                                 : "while opening, checking or closing a heap");
    }
}

/* Runs both passes in a child. Returns false if no child could be started. */
static bool run_in_child(const trace_t *t, const lab_policy_t *policy,
                         const replay_options_t *opt, replay_scratch_t *sc, replay_result_t *res)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    sc->progress->phase = PHASE_SETUP;
    sc->progress->op = 0;
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        run_passes(t, policy, opt, sc, res);
        _exit(transfer(fds[1], res, sizeof *res, true) ? 0 : 3);
    }
    close(fds[1]);
    bool received = transfer(fds[0], res, sizeof *res, false);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    if (!received || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        report_lost_child(t, sc->progress, status, res);
    return true;
}

/* ---- Public ---- */

void replay_run(const trace_t *t, const lab_policy_t *policy, const replay_options_t *opt,
                replay_scratch_t *sc, replay_result_t *res)
{
    start_result(t, policy, res);
    if (!run_in_child(t, policy, opt, sc, res))
        run_passes(t, policy, opt, sc, res); /* no fork: in process, without the safety net */
}
