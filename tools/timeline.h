/*
 * timeline.h -- one policy's footprint, live payload and utilization over a trace, in
 *               buckets of consecutive ops: the curves `heapkit report` draws.
 *
 * Design:      The trace is replayed on a fresh heap of the policy, without checks (the
 *              replay that made the table has checked it), and after every op the
 *              footprint is polled the way replay.c polls it: after every op, but after
 *              no free on the system allocator, whose query walks glibc's bins and whose
 *              footprint a free does not grow. Op k belongs to bucket k * n / ops; a
 *              bucket keeps its largest footprint and live payload and the mean of its
 *              ops' utilizations (live / footprint); a bucket with no poll repeats the
 *              one before it, so a curve never drops to 0 for lack of a sample.
 *              Like replay_run (replay.h), the run happens in a child process: the libc
 *              policy measures the system heap, which must be the child's fresh copy
 *              (and, in a thread of its own, a fresh glibc arena), and a policy that
 *              crashes costs its curve, not the report. All bookkeeping, including the
 *              page the child writes its buckets to, is in a timeline_scratch_t that is
 *              allocated before any heap opens, so none of it is counted as the trace's.
 */
#ifndef HK_TOOLS_TIMELINE_H
#define HK_TOOLS_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "trace.h"

typedef struct timeline_point {
    double foot; /* the largest footprint polled in the bucket, bytes */
    double live; /* the largest sum of requested sizes of live blocks, bytes */
    double util; /* the mean utilization (live / footprint) over the bucket's polls */
} timeline_point_t;

typedef struct timeline_shared timeline_shared_t; /* the child's output page (timeline.c) */

typedef struct timeline_scratch {
    uint32_t capacity; /* ids < capacity */
    unsigned max_buckets;
    void **ptr;                /* payload of each live id */
    void **base;               /* the block to free (an aligned payload's padded block) */
    size_t *size;              /* requested size of each live id */
    uint32_t *polls;           /* per bucket: the polls its utilization sums */
    timeline_shared_t *shared; /* max_buckets points and a status, shared with the child */
} timeline_scratch_t;

/* Returns 0, or -1 when out of memory. */
int timeline_scratch_init(timeline_scratch_t *sc, uint32_t capacity, unsigned max_buckets);
void timeline_scratch_fini(timeline_scratch_t *sc);

/* The number of buckets a trace of `ops` ops gets when `buckets` are asked for. */
unsigned timeline_buckets(uint32_t ops, unsigned buckets);

/* Replays t (t->id_span <= sc->capacity) on a fresh heap of p with payload alignment
 * `align` and fills points[0 .. timeline_buckets(t->num_ops, buckets)), buckets <=
 * sc->max_buckets. Returns 0, or -1 with the reason in why (the policy ran out of memory,
 * the child crashed or could not be started). */
int timeline_measure(const trace_t *t, const lab_policy_t *p, size_t align, unsigned buckets,
                     timeline_scratch_t *sc, timeline_point_t *points, char *why, size_t whylen);

#endif
