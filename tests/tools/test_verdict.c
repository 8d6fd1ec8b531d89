/*
 * test_verdict.c -- the verdict rule of `heapkit report` (tools/verdict.c) on rows built
 *                   in memory: least footprint, fastest, the trade within the slack, the
 *                   runner-up within the noise, the ties, failed and untimed rows.
 */
#include "harness.h"
#include "verdict.h"

#include <string.h>

/* A passed row with this footprint and speed (ops/s; 0: not timed). */
static replay_result_t row(size_t footprint, double ops_per_sec)
{
    replay_result_t r;
    memset(&r, 0, sizeof r);
    r.ok = true;
    r.ops = 1000;
    r.peak_live = 90;
    r.peak_footprint = footprint;
    r.utilization = 90.0 / (double)footprint;
    r.timing_runs = ops_per_sec > 0 ? 3 : 0;
    r.ops_per_sec = ops_per_sec;
    r.seconds = ops_per_sec > 0 ? 1000 / ops_per_sec : 0;
    return r;
}

static replay_result_t failed(void)
{
    replay_result_t r = row(0, 0);
    r.ok = false;
    snprintf(r.reason, sizeof r.reason, "out of memory");
    return r;
}

static void test_the_three_picks(void)
{
    replay_result_t rows[] = {row(100, 10), row(102, 50), row(200, 1000), failed(), row(103, 40)};
    verdict_t v;
    verdict_pick(rows, 5, &v);
    CHECK("least", v.least == &rows[0]);
    CHECK("fastest", v.fastest == &rows[2]);
    CHECK("trade: fastest within 3%", v.trade == &rows[1]);
    CHECK("no runner: 40 is 20% slower", v.runner == NULL);
    CHECK("counts", v.passed == 4 && v.failed == 1);
}

static void test_slack_boundary(void)
{
    replay_result_t rows[] = {row(1000, 10), row(1030, 20), row(1031, 30)};
    verdict_t v;
    verdict_pick(rows, 3, &v);
    CHECK("exactly 3% above is within", v.trade == &rows[1]);
    CHECK("fastest outside the slack", v.fastest == &rows[2]);
}

static void test_runner_within_noise(void)
{
    replay_result_t rows[] = {row(100, 96), row(101, 100), row(101, 94.9)};
    verdict_t v;
    verdict_pick(rows, 3, &v);
    CHECK("trade", v.trade == &rows[1]);
    CHECK("runner at 96 of 100", v.runner == &rows[0]);
    rows[0].ops_per_sec = 94.9;
    verdict_pick(rows, 3, &v);
    CHECK("no runner at 94.9 of 100", v.runner == NULL);
}

static void test_ties(void)
{
    replay_result_t rows[] = {row(100, 10), row(100, 20), row(100, 20), row(120, 20)};
    verdict_t v;
    verdict_pick(rows, 4, &v);
    CHECK("equal footprints: the faster is least", v.least == &rows[1]);
    CHECK("equal speeds: the smaller footprint, then the first, is fastest", v.fastest == &rows[1]);
    CHECK("trade is the same row", v.trade == &rows[1]);
    CHECK("the tie is the runner", v.runner == &rows[2]);
}

static void test_one_row_wins_all(void)
{
    replay_result_t rows[] = {row(500, 10), row(100, 90), row(101, 50)};
    verdict_t v;
    verdict_pick(rows, 3, &v);
    CHECK("least and fastest and trade",
          v.least == &rows[1] && v.fastest == &rows[1] && v.trade == &rows[1]);
}

static void test_untimed_and_failed(void)
{
    replay_result_t rows[] = {row(100, 0), row(90, 0), failed()};
    verdict_t v;
    verdict_pick(rows, 3, &v);
    CHECK("untimed rows count for space", v.least == &rows[1]);
    CHECK("no speed verdict without timing", !v.fastest && !v.trade && !v.runner);
    CHECK("is_timed", !verdict_is_timed(&rows[0]) && !verdict_is_timed(&rows[2]));
    replay_result_t none[] = {failed(), failed()};
    verdict_pick(none, 2, &v);
    CHECK("all failed: nothing", !v.least && !v.fastest && !v.trade && v.failed == 2);
    verdict_pick(none, 0, &v);
    CHECK("no rows: nothing", !v.least && v.passed == 0 && v.failed == 0);
}

static void test_a_fast_row_outside_the_slack_is_not_the_trade(void)
{
    /* the least is slow, but nothing within 3% of it is faster: least is the trade */
    replay_result_t rows[] = {row(100, 5), row(110, 1000)};
    verdict_t v;
    verdict_pick(rows, 2, &v);
    CHECK("least is the trade", v.trade == &rows[0] && v.fastest == &rows[1]);
}

static void test_ties_with_the_least(void)
{
    replay_result_t rows[] = {row(10000, 10), row(10010, 20), row(10011, 30), row(9999, 5),
                              row(10008, 0),  failed(),       row(10005, 1),  row(10001, 1)};
    verdict_t v;
    verdict_pick(rows, 8, &v);
    CHECK("least", v.least == &rows[3]);
    CHECK("within 0.1% of 9999: 10000, 10008 (untimed too), 10005, 10001; not 10010", v.ties == 4);
    CHECK("the first three kept, in row order",
          v.tie[0] == &rows[0] && v.tie[1] == &rows[4] && v.tie[2] == &rows[6]);
    replay_result_t alone[] = {row(100, 1), row(200, 2)};
    verdict_pick(alone, 2, &v);
    CHECK("no tie", v.ties == 0);
}

int main(void)
{
    test_ties_with_the_least();
    test_the_three_picks();
    test_slack_boundary();
    test_runner_within_noise();
    test_ties();
    test_one_row_wins_all();
    test_untimed_and_failed();
    test_a_fast_row_outside_the_slack_is_not_the_trade();
    return hk_test_summary();
}
