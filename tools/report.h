/*
 * report.h -- writes replay results as an aligned table, JSON or CSV.
 *
 * Design:      One row per (trace, policy), then one summary per policy: the mean
 *              utilization over the traces that passed, the same mean over the graded
 *              CS:APP traces (all but short1/short2) when ungraded ones were given, and
 *              the aggregate throughput (total ops / total median seconds). Measurement
 *              columns of a failed row are left empty ("-" / null): a pass that stopped
 *              early measured nothing meaningful.
 *              Peer rows (`--peer`, peerrun.h) are named "peer:NAME" and summarized the
 *              same way; their footprint is resident memory (the table says so above
 *              its heading), their fragmentation is unknown ("-" / null), and they add
 *              final-rss and, with --callgrind, instr/op (columns the table shows only
 *              when some row has them; CSV and JSON always have the fields).
 */
#ifndef HK_TOOLS_REPORT_H
#define HK_TOOLS_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "replay.h"

typedef enum report_format {
    REPORT_TABLE,
    REPORT_JSON,
    REPORT_CSV,
} report_format_t;

/* Writes `count` results (grouped however the caller ran them) to out. Returns 0, or -1
 * when out of memory or on a write error. */
int report_write(FILE *out, report_format_t format, const replay_options_t *opt,
                 const replay_result_t *results, size_t count);

#endif
