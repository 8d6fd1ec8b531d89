/*
 * verdict.h -- the plain-words answer of `heapkit report`: of the rows measured on one
 *              trace, which wastes least, which is fastest, and which is the best trade.
 *
 * Design:      The rule reads only the figures `heapkit replay` prints (replay.h), over
 *              whatever rows it is given: lab policies, and later rows of real
 *              allocators, the same way. A row counts when it passed (ok) and has a
 *              footprint; a row without timing runs counts for space only.
 *                least   = the smallest peak footprint, i.e. the highest utilization
 *                          (every row of a trace has the same peak live bytes);
 *                fastest = the highest ops/s among the timed rows;
 *                trade   = among the timed rows whose peak footprint is at most
 *                          (1 + VERDICT_SLACK) x least's, the highest ops/s.
 *              Ties: between equal footprints the faster row is least; between equal
 *              speeds the smaller footprint is fastest (and trade); after that the row
 *              given first wins, so the answer depends on nothing but the figures and
 *              the row order.
 *              The rule is stated once more, in words, in the page's small print and in
 *              docs/REPORT.md; change all three together.
 */
#ifndef HK_TOOLS_VERDICT_H
#define HK_TOOLS_VERDICT_H

#include <stddef.h>

#include "replay.h"

/* How far above the least footprint a row may be and still count as a trade: 3%. */
#define VERDICT_SLACK 0.03
/* Speeds closer than this (5%) are within the noise of the timing runs: the page says
 * "close behind" rather than pretending one is faster. */
#define VERDICT_NOISE 0.05
/* Footprints closer than this (0.1%) to the least read the same on the page (utilization
 * to one decimal): the verdict names them with the least rather than hide them. */
#define VERDICT_TIE      0.001
#define VERDICT_MAX_TIES 3

typedef struct verdict {
    const replay_result_t *least;                 /* NULL when no row passed */
    const replay_result_t *fastest;               /* NULL when no passed row was timed */
    const replay_result_t *trade;                 /* NULL when no passed row was timed */
    const replay_result_t *runner;                /* the next trade candidate when it is within
                                        VERDICT_NOISE of trade's speed, else NULL */
    const replay_result_t *tie[VERDICT_MAX_TIES]; /* the first rows but least whose footprint
                                                     is within VERDICT_TIE of least's */
    size_t ties;                                  /* how many rows are (may exceed the array) */
    size_t passed, failed;
} verdict_t;

/* Picks from rows[0..n) by the rule above. */
void verdict_pick(const replay_result_t *rows, size_t n, verdict_t *v);

/* true when r's speed was measured (it passed and has timing runs). */
int verdict_is_timed(const replay_result_t *r);

#endif
