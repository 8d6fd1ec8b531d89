/*
 * replay.h -- replays a validated trace against one lab policy and measures it.
 *
 * Design:      Two passes per (trace, policy), each on a fresh heap:
 *                1. the checked pass: every payload is verified (alignment, inside the
 *                   heap's memory, no overlap with a live payload, usable size, contents
 *                   written on allocation and verified on free and across realloc), the
 *                   policy's own check runs every N ops and at the end, and the space
 *                   figures are measured;
 *                2. the timing pass, only when the checked pass succeeded: the bare op
 *                   loop on a fresh heap. One calibration replay sets how many replays
 *                   make one timing run last >= 5 ms (short traces replay in well under
 *                   a millisecond, too short to time alone); `timing_runs` such runs
 *                   are made and the median run's time per replay gives the throughput.
 *              Each run happens in a child process (fork), for two reasons: the libc
 *              policy measures how far the system heap grows, and memory glibc keeps
 *              cached from earlier runs (tcache, fastbins pinning the top of the arena)
 *              would absorb the trace and hide its footprint, while every child starts
 *              from the parent's untouched heap; and a policy that crashes gets a FAIL
 *              verdict naming the op, instead of taking the whole table down. The
 *              child reports its op number through a shared page as it goes.
 *              All bookkeeping lives in a replay_scratch_t allocated before any heap is
 *              opened, so that the libc policy does not count the checker's own memory.
 */
#ifndef HK_TOOLS_REPLAY_H
#define HK_TOOLS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "liveset.h"
#include "policy.h"
#include "trace.h"

#define REPLAY_MAX_TIMING_RUNS 99

typedef struct replay_options {
    size_t        align;       /* payload alignment demanded and configured: 8 or 16 */
    unsigned long check_every; /* run lab_check every N ops; 0 = only at the end */
    unsigned      timing_runs; /* timing repetitions, 0 .. REPLAY_MAX_TIMING_RUNS (0 = none) */
    /* For the peers (peerrun.h) only: */
    bool          threads_recorded; /* play each recorded thread on a thread of its own */
    bool          callgrind;        /* also count instructions per op under callgrind */
} replay_options_t;

/* Where a replay stands, written by the child into memory the parent shares. */
typedef struct replay_progress {
    volatile uint32_t phase; /* replay_phase_t */
    volatile uint32_t op;    /* 1-based op of the checked pass being done */
} replay_progress_t;

/* Per-id bookkeeping, sized for the largest id span of all traces to be replayed. */
typedef struct replay_scratch {
    replay_progress_t *progress; /* a shared anonymous page */
    uint32_t   capacity;   /* ids < capacity */
    void     **ptr;        /* payload of each live id, NULL when not live */
    void     **base;       /* the block to free for each live id: ptr, or the padded block
                              around an aligned payload (dispatch.h lab_aligned_alloc) */
    size_t    *size;       /* requested size of each live id */
    uint32_t  *generation; /* fill generation of each live id (see pattern.h) */
    liveset_t  live;       /* live payload intervals */
} replay_scratch_t;

typedef struct replay_result {
    const trace_t      *trace;
    const lab_policy_t *policy;   /* NULL for a peer */
    const char         *name;     /* the row's name: the policy's, or "peer:NAME" */
    const char         *peer;     /* a peer's name ("jemalloc"); NULL for a lab policy */
    uint32_t  ops;
    size_t    peak_live;      /* max over time of the sum of requested sizes of live blocks */
    size_t    peak_footprint; /* footprint high-water mark */
    double    utilization;    /* peak_live / peak_footprint (0 when the footprint is 0) */
    bool      has_frag;       /* false for peers: the three figures below are unknown */
    /* Measured when the footprint reached its highest polled value: */
    size_t    frag_footprint; /* the footprint then */
    long long internal_frag;  /* block_bytes - live payload bytes then */
    long long external_frag;  /* footprint - block_bytes then */
    bool      has_growth;     /* false for policies on the system allocator */
    size_t    growth_calls;   /* mem.grow_calls + mem.map_calls */
    unsigned  timing_runs;    /* timing runs done (0 = no throughput) */
    double    seconds;        /* median seconds of one timing run */
    double    ops_per_sec;    /* ops / seconds */
    /* Peers only: peak_footprint is the player's peak RSS above baseline_rss (medians) */
    size_t    baseline_rss;   /* the player's RSS just before the first op */
    long long final_rss;      /* RSS after the last op, above baseline_rss */
    bool      has_instr;      /* --callgrind measured the two figures below */
    double    instr_per_op;   /* instructions in the allocator's calls, per op */
    double    player_instr_per_op; /* the player's own instructions in its loop, per op */
    bool      ok;
    uint32_t  fail_op;        /* 1-based op number of the failure, 0 when not at an op */
    uint32_t  fail_line;      /* its trace line, 0 when not at an op */
    char      reason[256];
} replay_result_t;

/* Returns 0, or -1 when out of memory. */
int  replay_scratch_init(replay_scratch_t *sc, uint32_t capacity);
void replay_scratch_fini(replay_scratch_t *sc);

/* Replays t (t->id_span <= sc->capacity) against policy and fills *res. */
void replay_run(const trace_t *t, const lab_policy_t *policy, const replay_options_t *opt,
                replay_scratch_t *sc, replay_result_t *res);

#endif
