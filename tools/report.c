/*
 * report.c -- table, JSON and CSV output of replay results (see report.h).
 *
 * Design:      The three formats share two steps: per-policy summaries are computed
 *              once, and each row's figures come from the same cell formatter, so the
 *              formats cannot disagree. The table is aligned by measuring every cell
 *              first; the verdict goes last and unpadded because reasons are long.
 */
#include "report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Per-policy summaries ---- */

typedef struct summary {
    const char *name; /* the rows' name: a policy's, or a peer's "peer:NAME" */
    size_t   traces, failed;
    size_t   passed, graded;        /* traces that passed; of which graded */
    double   util_sum, graded_util_sum;
    uint64_t timed_ops;
    double   timed_seconds;
} summary_t;

/* Summaries in order of first appearance. Returns the count, or -1 when out of memory. */
static long summarize(const replay_result_t *res, size_t count, summary_t **out)
{
    summary_t *sums = calloc(count ? count : 1, sizeof *sums);
    if (!sums)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t k = 0;
        while (k < n && strcmp(sums[k].name, res[i].name) != 0)
            k++;
        summary_t *s = &sums[k];
        if (k == n)
            sums[n++].name = res[i].name;
        s->traces++;
        if (!res[i].ok) {
            s->failed++;
            continue;
        }
        s->passed++;
        s->util_sum += res[i].utilization;
        if (trace_is_graded(res[i].trace)) {
            s->graded++;
            s->graded_util_sum += res[i].utilization;
        }
        if (res[i].timing_runs) {
            s->timed_ops += res[i].ops;
            s->timed_seconds += res[i].seconds;
        }
    }
    *out = sums;
    return (long)n;
}

/* true when the graded traces are some, but not all, of those replayed */
static bool graded_subset(const replay_result_t *res, size_t count)
{
    size_t graded = 0;
    for (size_t i = 0; i < count; i++)
        graded += trace_is_graded(res[i].trace) ? 1 : 0;
    return graded > 0 && graded < count;
}

static double percent_of(long long part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* ---- Row cells, shared by the table and CSV ---- */

enum { COL_TRACE, COL_POLICY, COL_OPS, COL_PEAK_LIVE, COL_FOOTPRINT, COL_UTIL, COL_INT,
       COL_INT_PCT, COL_EXT, COL_EXT_PCT, COL_GROW, COL_OPS_PER_SEC, COL_FINAL_RSS, COL_INSTR,
       COL_COUNT };

typedef struct cell {
    char text[48];
} cell_t;

static const char *const table_heading[COL_COUNT] = {
    "trace", "policy", "ops", "peak-live", "footprint", "util", "int-frag", "int%",
    "ext-frag", "ext%", "grow", "Kops/s", "final-rss", "instr/op"};

/* Columns only peers fill; the table shows them when some row has a figure there. */
static bool column_shown(const replay_result_t *res, size_t count, int k)
{
    for (size_t i = 0; i < count; i++)
        if (res[i].ok && ((k == COL_FINAL_RSS && res[i].peer) ||
                          (k == COL_INSTR && res[i].has_instr)))
            return true;
    return k != COL_FINAL_RSS && k != COL_INSTR;
}

/* Fills the cells of r: for the table (short trace name, % signs, Kops/s) or for CSV
 * (path, bare numbers, ops/s); `none` is what a missing figure shows. */
static void format_row(const replay_result_t *r, cell_t *c, bool table, const char *none)
{
    const char *pct = table ? "%" : "";
    snprintf(c[COL_TRACE].text, sizeof c->text, "%s", table ? r->trace->name : r->trace->path);
    snprintf(c[COL_POLICY].text, sizeof c->text, "%s", r->name);
    snprintf(c[COL_OPS].text, sizeof c->text, "%u", r->ops);
    for (int k = COL_PEAK_LIVE; k < COL_COUNT; k++)
        snprintf(c[k].text, sizeof c->text, "%s", none);
    if (!r->ok)
        return;
    snprintf(c[COL_PEAK_LIVE].text, sizeof c->text, "%zu", r->peak_live);
    snprintf(c[COL_FOOTPRINT].text, sizeof c->text, "%zu", r->peak_footprint);
    snprintf(c[COL_UTIL].text, sizeof c->text, "%.1f%s", 100.0 * r->utilization, pct);
    if (r->has_frag) {
        snprintf(c[COL_INT].text, sizeof c->text, "%lld", r->internal_frag);
        snprintf(c[COL_INT_PCT].text, sizeof c->text, "%.1f%s",
                 percent_of(r->internal_frag, r->frag_footprint), pct);
        snprintf(c[COL_EXT].text, sizeof c->text, "%lld", r->external_frag);
        snprintf(c[COL_EXT_PCT].text, sizeof c->text, "%.1f%s",
                 percent_of(r->external_frag, r->frag_footprint), pct);
    }
    if (r->peer)
        snprintf(c[COL_FINAL_RSS].text, sizeof c->text, "%lld", r->final_rss);
    if (r->has_instr)
        snprintf(c[COL_INSTR].text, sizeof c->text, "%.1f", r->instr_per_op);
    if (r->has_growth)
        snprintf(c[COL_GROW].text, sizeof c->text, "%zu", r->growth_calls);
    if (r->timing_runs)
        snprintf(c[COL_OPS_PER_SEC].text, sizeof c->text, "%.0f",
                 table ? r->ops_per_sec / 1000.0 : r->ops_per_sec);
}

static void write_verdict(FILE *out, const replay_result_t *r)
{
    if (r->ok)
        fputs("ok", out);
    else if (r->fail_op)
        fprintf(out, "FAIL op %u (line %u): %s", r->fail_op, r->fail_line, r->reason);
    else
        fprintf(out, "FAIL: %s", r->reason);
}

/* ---- Table ---- */

static void write_table_line(FILE *out, const cell_t *c, const size_t *width, const bool *shown)
{
    for (int k = 0; k < COL_COUNT; k++) {
        bool text = k == COL_TRACE || k == COL_POLICY;
        if (!shown[k])
            continue;
        fprintf(out, text ? "%-*s  " : "%*s  ", (int)width[k], c[k].text);
    }
}

static void write_table_summary(FILE *out, const summary_t *s, long n, bool graded_too)
{
    fprintf(out, "\nsummary (utilization: mean over the traces that passed%s; "
                 "Kops/s: total ops / total median time)\n",
            graded_too ? "; graded = the CS:APP -bal traces but short1/short2" : "");
    for (long i = 0; i < n; i++) {
        fprintf(out, "  %-16s %zu trace%s, %zu failed", s[i].name, s[i].traces,
                s[i].traces == 1 ? "" : "s", s[i].failed);
        if (s[i].passed)
            fprintf(out, ", mean util %.1f%%", 100.0 * s[i].util_sum / (double)s[i].passed);
        if (graded_too && s[i].graded)
            fprintf(out, ", graded mean util %.1f%% (%zu traces)",
                    100.0 * s[i].graded_util_sum / (double)s[i].graded, s[i].graded);
        if (s[i].timed_seconds > 0)
            fprintf(out, ", %.0f Kops/s", (double)s[i].timed_ops / s[i].timed_seconds / 1000.0);
        fputc('\n', out);
    }
}

static void write_lab_legend(FILE *out, const replay_options_t *opt)
{
    fprintf(out, "align %zu, heap check %s", opt->align,
            opt->check_every ? "every " : "at the end only");
    if (opt->check_every)
        fprintf(out, "%lu ops and at the end", opt->check_every);
    if (opt->timing_runs)
        fprintf(out, ", Kops/s = median of %u timing runs (each >= 5 ms of replays)\n",
                opt->timing_runs);
    else
        fputs(", no timing runs\n", out);
}

/* What a peer row's figures are: they are not the lab's (resident memory, not heap). */
static void write_peer_legend(FILE *out, const replay_options_t *opt, bool instr)
{
    unsigned runs = opt->timing_runs ? opt->timing_runs : 1;
    fprintf(out, "peer:NAME rows: the trace played by heapkit-play on that real allocator "
                 "(LD_PRELOAD), threads %s, %u fresh process%s per row, runs interleaved;\n"
                 "  footprint = peak RSS above the player's RSS just before the first op "
                 "(allocator initialized and empty), as the OS charged it: metadata, caches\n"
                 "  and page rounding included (median of the runs); util = peak-live / "
                 "footprint; final-rss = RSS after the last op, above the same baseline;\n"
                 "  int/ext-frag and grow unknown (-); Kops/s = ops / median wall time of the "
                 "replay loop, which writes one byte per 4 KiB page of every block%s\n",
            opt->threads_recorded ? "as recorded" : "one (global order)", runs,
            runs == 1 ? "" : "es",
            instr ? ";\n  instr/op = the allocator's instructions per op (callgrind, one run)"
                  : "");
}

static int write_table(FILE *out, const replay_options_t *opt, const replay_result_t *res,
                       size_t count, const summary_t *sums, long nsums)
{
    cell_t *cells = calloc((count ? count : 1) * COL_COUNT, sizeof *cells);
    if (!cells)
        return -1;
    size_t width[COL_COUNT];
    bool shown[COL_COUNT], lab = false, peers = false;
    for (int k = 0; k < COL_COUNT; k++) {
        width[k] = strlen(table_heading[k]);
        shown[k] = column_shown(res, count, k);
    }
    for (size_t i = 0; i < count; i++) {
        format_row(&res[i], &cells[i * COL_COUNT], true, "-");
        for (int k = 0; k < COL_COUNT; k++) {
            size_t w = strlen(cells[i * COL_COUNT + k].text);
            width[k] = w > width[k] ? w : width[k];
        }
        lab |= res[i].peer == NULL;
        peers |= res[i].peer != NULL;
    }
    if (lab || !peers)
        write_lab_legend(out, opt);
    if (peers)
        write_peer_legend(out, opt, shown[COL_INSTR]);
    cell_t heading[COL_COUNT];
    for (int k = 0; k < COL_COUNT; k++)
        snprintf(heading[k].text, sizeof heading[k].text, "%s", table_heading[k]);
    write_table_line(out, heading, width, shown);
    fputs("verdict\n", out);
    for (size_t i = 0; i < count; i++) {
        write_table_line(out, &cells[i * COL_COUNT], width, shown);
        write_verdict(out, &res[i]);
        fputc('\n', out);
    }
    free(cells);
    write_table_summary(out, sums, nsums, graded_subset(res, count));
    return 0;
}

/* ---- CSV (RFC 4180 quoting) ---- */

static void write_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int write_csv(FILE *out, const replay_result_t *res, size_t count)
{
    fputs("trace,policy,ops,peak_live,peak_footprint,utilization_pct,internal_frag,"
          "internal_frag_pct,external_frag,external_frag_pct,growth_calls,ops_per_sec,"
          "final_rss,instructions_per_op,verdict,fail_op,fail_line,reason\n",
          out);
    for (size_t i = 0; i < count; i++) {
        cell_t c[COL_COUNT];
        format_row(&res[i], c, false, "");
        for (int k = 0; k < COL_COUNT; k++) {
            write_csv_field(out, c[k].text);
            fputc(',', out);
        }
        if (res[i].ok) {
            fputs("ok,,,\n", out);
            continue;
        }
        fputs("FAIL,", out);
        if (res[i].fail_op)
            fprintf(out, "%u,%u,", res[i].fail_op, res[i].fail_line);
        else
            fputs(",,", out);
        write_csv_field(out, res[i].reason);
        fputc('\n', out);
    }
    return 0;
}

/* ---- JSON ---- */

static void write_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

/* The figures only lab policies have (int/ext-frag, growth calls), or nulls. */
static void write_json_lab_figures(FILE *out, const replay_result_t *r)
{
    if (r->has_frag)
        fprintf(out,
                ", \"internal_frag\": %lld, \"internal_frag_pct\": %.3f, \"external_frag\": %lld, "
                "\"external_frag_pct\": %.3f",
                r->internal_frag, percent_of(r->internal_frag, r->frag_footprint),
                r->external_frag, percent_of(r->external_frag, r->frag_footprint));
    else
        fputs(", \"internal_frag\": null, \"internal_frag_pct\": null, \"external_frag\": null, "
              "\"external_frag_pct\": null", out);
    if (r->has_growth)
        fprintf(out, ", \"growth_calls\": %zu", r->growth_calls);
    else
        fputs(", \"growth_calls\": null", out);
}

/* The figures only peers have: resident memory and instruction counts. */
static void write_json_peer_figures(FILE *out, const replay_result_t *r)
{
    fprintf(out, ", \"footprint_kind\": \"rss\", \"baseline_rss\": %zu, \"final_rss\": %lld",
            r->baseline_rss, r->final_rss);
    if (r->has_instr)
        fprintf(out, ", \"instructions_per_op\": %.3f, \"player_instructions_per_op\": %.3f",
                r->instr_per_op, r->player_instr_per_op);
    else
        fputs(", \"instructions_per_op\": null, \"player_instructions_per_op\": null", out);
}

static void write_json_result(FILE *out, const replay_result_t *r)
{
    fputs("    {\"trace\": ", out);
    write_json_string(out, r->trace->path);
    fputs(", \"policy\": ", out);
    write_json_string(out, r->name);
    fputs(", \"peer\": ", out);
    if (r->peer)
        write_json_string(out, r->peer);
    else
        fputs("null", out);
    fprintf(out, ", \"ops\": %u, \"ok\": %s", r->ops, r->ok ? "true" : "false");
    if (r->ok) {
        fprintf(out, ", \"peak_live\": %zu, \"peak_footprint\": %zu, \"utilization\": %.6f",
                r->peak_live, r->peak_footprint, r->utilization);
        write_json_lab_figures(out, r);
        if (r->peer)
            write_json_peer_figures(out, r);
        if (r->timing_runs)
            fprintf(out, ", \"seconds\": %.9f, \"ops_per_sec\": %.1f", r->seconds,
                    r->ops_per_sec);
        else
            fputs(", \"seconds\": null, \"ops_per_sec\": null", out);
        fputs(", \"verdict\": \"ok\"}", out);
        return;
    }
    fputs(", \"verdict\": \"FAIL\"", out);
    if (r->fail_op)
        fprintf(out, ", \"fail_op\": %u, \"fail_line\": %u", r->fail_op, r->fail_line);
    fputs(", \"reason\": ", out);
    write_json_string(out, r->reason);
    fputc('}', out);
}

static void write_json_mean(FILE *out, const char *key, double sum, size_t n)
{
    if (n)
        fprintf(out, ", \"%s\": %.6f", key, sum / (double)n);
    else
        fprintf(out, ", \"%s\": null", key);
}

static void write_json_summary(FILE *out, const summary_t *s)
{
    fputs("    {\"policy\": ", out);
    write_json_string(out, s->name);
    fprintf(out, ", \"traces\": %zu, \"failed\": %zu", s->traces, s->failed);
    write_json_mean(out, "mean_utilization", s->util_sum, s->passed);
    fprintf(out, ", \"graded_traces\": %zu", s->graded);
    write_json_mean(out, "mean_utilization_graded", s->graded_util_sum, s->graded);
    if (s->timed_seconds > 0)
        fprintf(out, ", \"ops_per_sec\": %.1f}", (double)s->timed_ops / s->timed_seconds);
    else
        fputs(", \"ops_per_sec\": null}", out);
}

static int write_json(FILE *out, const replay_options_t *opt, const replay_result_t *res,
                      size_t count, const summary_t *sums, long nsums)
{
    fprintf(out,
            "{\n  \"align\": %zu,\n  \"check_every\": %lu,\n"
            "  \"timing\": {\"runs\": %u, \"statistic\": \"median\"},\n"
            "  \"peer_threads\": \"%s\",\n  \"results\": [\n",
            opt->align, opt->check_every, opt->timing_runs,
            opt->threads_recorded ? "recorded" : "one");
    for (size_t i = 0; i < count; i++) {
        write_json_result(out, &res[i]);
        fputs(i + 1 < count ? ",\n" : "\n", out);
    }
    fputs("  ],\n  \"summary\": [\n", out);
    for (long i = 0; i < nsums; i++) {
        write_json_summary(out, &sums[i]);
        fputs(i + 1 < nsums ? ",\n" : "\n", out);
    }
    fputs("  ]\n}\n", out);
    return 0;
}

/* ---- Public ---- */

int report_write(FILE *out, report_format_t format, const replay_options_t *opt,
                 const replay_result_t *results, size_t count)
{
    summary_t *sums;
    long nsums = summarize(results, count, &sums);
    if (nsums < 0)
        return -1;
    int status;
    switch (format) {
    case REPORT_JSON:
        status = write_json(out, opt, results, count, sums, nsums);
        break;
    case REPORT_CSV:
        status = write_csv(out, results, count);
        break;
    default:
        status = write_table(out, opt, results, count, sums, nsums);
        break;
    }
    free(sums);
    if (fflush(out) != 0 || ferror(out))
        status = -1;
    return status;
}
