/*
 * verdict.c -- the verdict rule of `heapkit report` (verdict.h).
 *
 * Design:      Two passes over the rows: the first finds the least footprint and the
 *              fastest row, the second the trade among the rows within the slack of
 *              that footprint, and the ties (both are only known once the least is). "Better"
 *              comparisons are strict, so on a tie the row seen first stays.
 * Complexity:  O(n).
 */
#include "verdict.h"

#include <string.h>

static int counts(const replay_result_t *r)
{
    return r->ok && r->peak_footprint > 0;
}

int verdict_is_timed(const replay_result_t *r)
{
    return counts(r) && r->timing_runs > 0 && r->ops_per_sec > 0;
}

/* a is faster than b, or as fast with a smaller footprint (b may be NULL). */
static int faster(const replay_result_t *a, const replay_result_t *b)
{
    if (!b)
        return 1;
    if (a->ops_per_sec != b->ops_per_sec)
        return a->ops_per_sec > b->ops_per_sec;
    return a->peak_footprint < b->peak_footprint;
}

static int smaller(const replay_result_t *a, const replay_result_t *b)
{
    if (!b)
        return 1;
    if (a->peak_footprint != b->peak_footprint)
        return a->peak_footprint < b->peak_footprint;
    return verdict_is_timed(a) && (!verdict_is_timed(b) || a->ops_per_sec > b->ops_per_sec);
}

/* r's footprint is at most (1 + share) times least's. */
static int within(const replay_result_t *r, const replay_result_t *least, double share)
{
    return (double)r->peak_footprint <= (1.0 + share) * (double)least->peak_footprint;
}

void verdict_pick(const replay_result_t *rows, size_t n, verdict_t *v)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const replay_result_t *r = &rows[i];
        v->failed += !r->ok;
        v->passed += r->ok;
        if (!counts(r))
            continue;
        if (smaller(r, v->least))
            v->least = r;
        if (verdict_is_timed(r) && faster(r, v->fastest))
            v->fastest = r;
    }
    for (size_t i = 0; v->least && i < n; i++) {
        const replay_result_t *r = &rows[i];
        if (counts(r) && r != v->least && within(r, v->least, VERDICT_TIE)) {
            if (v->ties < VERDICT_MAX_TIES)
                v->tie[v->ties] = r;
            v->ties++;
        }
        if (!verdict_is_timed(r) || !within(r, v->least, VERDICT_SLACK))
            continue;
        if (faster(r, v->trade)) {
            v->runner = v->trade;
            v->trade = r;
        } else if (faster(r, v->runner)) {
            v->runner = r;
        }
    }
    if (v->runner && v->runner->ops_per_sec < (1.0 - VERDICT_NOISE) * v->trade->ops_per_sec)
        v->runner = NULL;
}
