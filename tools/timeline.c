/*
 * timeline.c -- a policy's curves over a trace, measured in a child process (timeline.h).
 *
 * Design:      The child replays the ops with the calls replay.c's checked pass makes
 *              (an aligned payload's block is what is freed; a realloc of a padded
 *              aligned block is malloc + free, as the checked pass does it), adds each
 *              poll to its bucket in the shared page, turns the sums into means and
 *              marks the page done. The parent trusts the page only when the child
 *              exited with status 0 and the mark is there.
 * Complexity:  O(ops) polls, each the policy's footprint query.
 */
#include "timeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"

enum { PENDING, DONE, FAILED };

struct timeline_shared {
    volatile int status;
    char why[96];
    timeline_point_t points[]; /* util holds the sum of the polls until finish() */
};

/* ---- Scratch ---- */

static size_t shared_size(unsigned max_buckets)
{
    return sizeof(timeline_shared_t) + (size_t)max_buckets * sizeof(timeline_point_t);
}

int timeline_scratch_init(timeline_scratch_t *sc, uint32_t capacity, unsigned max_buckets)
{
    memset(sc, 0, sizeof *sc);
    size_t n = capacity ? capacity : 1;
    void *page = mmap(NULL, shared_size(max_buckets), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return -1;
    sc->shared = page;
    sc->capacity = capacity;
    sc->max_buckets = max_buckets;
    sc->ptr = calloc(n, sizeof *sc->ptr);
    sc->base = calloc(n, sizeof *sc->base);
    sc->size = calloc(n, sizeof *sc->size);
    sc->polls = calloc(max_buckets ? max_buckets : 1, sizeof *sc->polls);
    if (!sc->ptr || !sc->base || !sc->size || !sc->polls) {
        timeline_scratch_fini(sc);
        return -1;
    }
    return 0;
}

void timeline_scratch_fini(timeline_scratch_t *sc)
{
    if (sc->shared)
        munmap(sc->shared, shared_size(sc->max_buckets));
    free(sc->polls);
    free(sc->ptr);
    free(sc->base);
    free(sc->size);
    memset(sc, 0, sizeof *sc);
}

unsigned timeline_buckets(uint32_t ops, unsigned buckets)
{
    return buckets < ops ? buckets : ops;
}

/* ---- The replay, in the child ---- */

typedef struct run {
    const trace_t *t;
    const lab_policy_t *p;
    size_t align;
    unsigned nb;
    timeline_scratch_t *sc;
    lab_heap_t heap;
    size_t live;
} run_t;

static bool allocate(run_t *r, const trace_op_t *op)
{
    void *q, *base;
    if (op->kind == TRACE_ALIGNED)
        q = lab_aligned_alloc(&r->heap, (size_t)1 << op->align_shift, op->size, &base);
    else
        q = base = op->kind == TRACE_CALLOC ? lab_calloc(&r->heap, 1, op->size)
                                            : lab_malloc(&r->heap, op->size);
    r->sc->ptr[op->id] = q;
    r->sc->base[op->id] = base;
    return q != NULL;
}

static bool reallocate(run_t *r, const trace_op_t *op)
{
    void *p = r->sc->ptr[op->id], *base = r->sc->base[op->id], *q;
    if (p == base || op->size == 0) {
        q = lab_realloc(&r->heap, base, op->size);
    } else if ((q = lab_malloc(&r->heap, op->size)) != NULL) {
        lab_free(&r->heap, base); /* no copy: nothing reads the contents here */
    }
    r->sc->ptr[op->id] = r->sc->base[op->id] = q;
    return q != NULL || op->size == 0;
}

static bool apply(run_t *r, const trace_op_t *op)
{
    size_t *size = &r->sc->size[op->id];
    bool ok = true;
    switch (op->kind) {
    case TRACE_FREE:
        lab_free(&r->heap, r->sc->base[op->id]);
        r->sc->ptr[op->id] = NULL;
        r->live -= *size;
        *size = 0;
        return true;
    case TRACE_REALLOC:
        ok = reallocate(r, op);
        r->live -= *size;
        break;
    default:
        ok = allocate(r, op);
        break;
    }
    *size = ok ? op->size : 0;
    r->live += *size;
    return ok;
}

static void sample(run_t *r, uint32_t k)
{
    timeline_point_t *u = &r->sc->shared->points[(uint64_t)k * r->nb / r->t->num_ops];
    double foot = (double)lab_footprint(&r->heap), live = (double)r->live;
    u->foot = foot > u->foot ? foot : u->foot;
    u->live = live > u->live ? live : u->live;
    if (foot > 0) {
        u->util += live / foot;
        r->sc->polls[u - r->sc->shared->points]++;
    }
}

/* Sums into means; a bucket without polls repeats the one before. */
static void finish(run_t *r)
{
    timeline_shared_t *s = r->sc->shared;
    for (unsigned b = 0; b < r->nb; b++) {
        if (r->sc->polls[b])
            s->points[b].util /= r->sc->polls[b];
        else if (b > 0)
            s->points[b] = s->points[b - 1];
    }
}

static void *replay(void *arg)
{
    run_t *r = arg;
    timeline_shared_t *s = r->sc->shared;
    lab_cfg_t cfg = {.align = r->align};
    bool system = (r->p->flags & LAB_USES_SYSTEM) != 0;
    if (lab_heap_open(&r->heap, r->p, &cfg, 0) != 0) {
        snprintf(s->why, sizeof s->why, "cannot open a heap");
        s->status = FAILED;
        return NULL;
    }
    for (uint32_t k = 0; k < r->t->num_ops; k++) {
        const trace_op_t *op = &r->t->ops[k];
        if (!apply(r, op)) {
            snprintf(s->why, sizeof s->why, "op %u (line %u): out of memory", k + 1,
                     r->t->lines[k]);
            s->status = FAILED;
            return NULL; /* the child exits; the heap goes with it */
        }
        if (!system || op->kind != TRACE_FREE)
            sample(r, k);
    }
    finish(r);
    s->status = DONE;
    return NULL;
}

/* The system allocator gets a thread of its own, hence a fresh glibc arena (replay.c). */
static void run_child(run_t *r)
{
    pthread_t thread;
    if ((r->p->flags & LAB_USES_SYSTEM) && pthread_create(&thread, NULL, replay, r) == 0)
        pthread_join(thread, NULL);
    else
        replay(r);
}

/* ---- Public ---- */

static void reset(run_t *r)
{
    timeline_shared_t *s = r->sc->shared;
    s->status = PENDING;
    s->why[0] = '\0';
    memset(s->points, 0, r->nb * sizeof *s->points);
    memset(r->sc->polls, 0, r->nb * sizeof *r->sc->polls);
    memset(r->sc->ptr, 0, r->t->id_span * sizeof *r->sc->ptr);
    memset(r->sc->size, 0, r->t->id_span * sizeof *r->sc->size);
}

int timeline_measure(const trace_t *t, const lab_policy_t *p, size_t align, unsigned buckets,
                     timeline_scratch_t *sc, timeline_point_t *points, char *why, size_t whylen)
{
    run_t r = {
        .t = t, .p = p, .align = align, .nb = timeline_buckets(t->num_ops, buckets), .sc = sc};
    if (r.nb > sc->max_buckets || t->id_span > sc->capacity) {
        snprintf(why, whylen, "internal error: scratch too small");
        return -1;
    }
    reset(&r);
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid == 0) {
        run_child(&r);
        _exit(0);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    const timeline_shared_t *s = sc->shared;
    if (pid < 0)
        snprintf(why, whylen, "cannot start a process: %s", strerror(errno));
    else if (WIFSIGNALED(status))
        snprintf(why, whylen, "crashed (signal %d)", WTERMSIG(status));
    else if (s->status != DONE)
        snprintf(why, whylen, "%s", s->status == FAILED ? s->why : "the replay did not finish");
    else {
        memcpy(points, s->points, r.nb * sizeof *points);
        return 0;
    }
    return -1;
}
