/*
 * htmltrace.c -- one trace's section of the report page (htmltrace.h): the header, the
 *                verdict in words and as cards, the table, the curves, the maps and who
 *                allocates what.
 *
 * Design:      Everything from outside (program names, command lines, policy and call
 *              site names) is escaped on the way out by svg_escape, which suits HTML text
 *              and attributes as well as SVG. The sentence follows verdict.h's picks and
 *              says each case in its own words: one row that is both least and fastest,
 *              a fastest row that is also the trade, a least row that is also the trade.
 */
#include "htmltrace.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "htmltable.h"
#include "svg.h"

/* ---- Text helpers ---- */

static bool is_recorded(const trace_t *t)
{
    return t->format == TRACE_FORMAT_HKT;
}

/* The name a trace goes by: its program's file name, else the trace's. */
const char *htmltrace_title(const trace_t *t)
{
    const char *p = t->meta.program;
    if (!p || !*p)
        return t->name;
    const char *slash = strrchr(p, '/');
    return slash && slash[1] ? slash + 1 : p;
}

static void kops(char *buf, size_t len, const replay_result_t *r)
{
    htmltable_count(buf, len, (uint64_t)(r->ops_per_sec / 1000.0 + 0.5));
}

/* "+1.2%" of r's footprint over the least's. */
static double over(const replay_result_t *r, const replay_result_t *least)
{
    return 100.0 * ((double)r->peak_footprint / (double)least->peak_footprint - 1.0);
}


/* ---- A trace's header ---- */

static void fact(FILE *f, const char *what, const char *value)
{
    fprintf(f, "<span>%s <b>", what);
    svg_escape(f, value);
    fputs("</b></span>", f);
}

static void write_duration(FILE *f, const trace_t *t)
{
    if (!t->time || !t->num_ops)
        return;
    double s = (double)t->time[t->num_ops - 1] * 1e-9;
    char text[32];
    if (s >= 1)
        snprintf(text, sizeof text, "%.2f s", s);
    else if (s >= 1e-3)
        snprintf(text, sizeof text, "%.1f ms", s * 1e3);
    else
        snprintf(text, sizeof text, "%.0f \u00b5s", s * 1e6);
    fact(f, "duration", text);
}

static void write_facts(FILE *f, const trace_t *t)
{
    char n[32], live[32];
    fputs("<div class=\"facts\">", f);
    if (t->meta.program)
        fact(f, "program", t->meta.program);
    if (t->meta.pid) {
        snprintf(n, sizeof n, "%llu", (unsigned long long)t->meta.pid);
        fact(f, "pid", n);
    }
    htmltable_count(n, sizeof n, t->num_ops);
    fact(f, "ops", n);
    if (is_recorded(t)) {
        snprintf(n, sizeof n, "%u", t->num_threads);
        fact(f, t->num_threads == 1 ? "thread" : "threads", n);
    }
    write_duration(f, t);
    svg_bytes(live, sizeof live, (double)trace_peak_live(t, NULL));
    fact(f, "peak live", live);
    if (t->meta.ended)
        fact(f, "ended", t->meta.ended);
    if (t->num_callsites) {
        htmltable_count(n, sizeof n, t->num_callsites);
        fact(f, "call sites", n);
    }
    fact(f, "file", t->name);
    if (!is_recorded(t))
        fact(f, "format", "CS:APP malloc lab");
    fputs("</div>\n", f);
    if (t->meta.command) {
        fputs("<div class=\"facts\"><span>command <span class=\"cmd mono\">", f);
        svg_escape(f, t->meta.command);
        fputs("</span></span></div>\n", f);
    }
}

/* ---- The verdict ---- */

static void pick(FILE *f, const replay_result_t *r)
{
    fputs("<b>", f);
    svg_escape(f, htmlpage_row_name(r));
    fputs("</b>", f);
}

/* "; hkfit, gnu and 2 more are within 0.1% of its footprint" */
static void write_ties(FILE *f, const verdict_t *v)
{
    size_t named = v->ties < VERDICT_MAX_TIES ? v->ties : VERDICT_MAX_TIES;
    if (!v->ties)
        return;
    fputs("; ", f);
    for (size_t i = 0; i < named; i++) {
        bool last = i + 1 == named && v->ties == named;
        fputs(i == 0 ? "" : last ? " and " : ", ", f);
        pick(f, v->tie[i]);
    }
    if (v->ties > named)
        fprintf(f, " and %zu more", v->ties - named);
    fprintf(f, " %s within %.1f%% of its footprint", v->ties == 1 ? "is" : "are",
            100 * VERDICT_TIE);
}

/* The sentence: who wastes least, who is fastest, who is the best trade. */
void htmltrace_sentence(FILE *f, const trace_t *t, const verdict_t *v, const char *lead)
{
    char k[32];
    if (lead)
        fputs(lead, f);
    else
        fprintf(f, "For this %s: ", is_recorded(t) ? "program" : "trace");
    pick(f, v->least);
    fprintf(f, " wastes least (utilization %.1f%%", 100.0 * v->least->utilization);
    write_ties(f, v);
    fputs(")", f);
    if (!v->fastest) {
        fputs(". No timing runs were made (<code>--repeat 0</code>): no speed verdict.", f);
        return;
    }
    kops(k, sizeof k, v->fastest);
    if (v->fastest == v->least) {
        fprintf(f, " and is also fastest (%s Kops/s): nothing to trade.", k);
        return;
    }
    fputs(", ", f);
    pick(f, v->fastest);
    fprintf(f, " is fastest (%s Kops/s, footprint +%.1f%%)", k, over(v->fastest, v->least));
    kops(k, sizeof k, v->trade);
    if (v->trade == v->fastest) {
        fprintf(f, " and, within %.0f%% of the least footprint, the best trade too.",
                100 * VERDICT_SLACK);
    } else if (v->trade == v->least) {
        fputs(", and ", f);
        pick(f, v->least);
        fprintf(f,
                " is also the best trade: nothing within %.0f%% of its footprint is faster "
                "(%s Kops/s).",
                100 * VERDICT_SLACK, k);
    } else {
        fputs(", and ", f);
        pick(f, v->trade);
        fprintf(f, " is the best trade (footprint +%.1f%%, %s Kops/s).", over(v->trade, v->least),
                k);
    }
    if (v->runner) {
        kops(k, sizeof k, v->runner);
        fputs(" ", f);
        pick(f, v->runner);
        fprintf(f, " is close behind (%s Kops/s, within the timing noise).", k);
    }
}

static void card(FILE *f, const char *role, const replay_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void card(FILE *f, const char *role, const replay_result_t *r, const char *fmt, ...)
{
    char fig[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fig, sizeof fig, fmt, ap);
    va_end(ap);
    fprintf(f, "<div class=\"card\"><div class=\"role\">%s</div><div class=\"who\">", role);
    svg_escape(f, htmlpage_row_name(r));
    fputs("</div><div class=\"fig\">", f);
    svg_escape(f, fig);
    fputs("</div></div>\n", f);
}

static void write_cards(FILE *f, const verdict_t *v)
{
    char k[32];
    fputs("<div class=\"cards\">\n", f);
    card(f, "wastes least", v->least, "utilization %.1f%%", 100.0 * v->least->utilization);
    if (v->fastest) {
        kops(k, sizeof k, v->fastest);
        card(f, "fastest", v->fastest, "%s Kops/s \u00b7 utilization %.1f%%", k,
             100.0 * v->fastest->utilization);
        kops(k, sizeof k, v->trade);
        card(f, "best trade", v->trade, "%s Kops/s \u00b7 footprint +%.1f%%", k,
             over(v->trade, v->least));
    }
    fputs("</div>\n", f);
}

static void write_verdict(FILE *f, const htmlpage_trace_t *s, const verdict_t *v,
                          const char *lead)
{
    if (!v->least) {
        fprintf(f,
                "<div class=\"verdict bad\">No row passed on this trace (%zu failed): nothing "
                "to recommend. The table says what went wrong.</div>\n",
                v->failed);
        return;
    }
    fputs("<div class=\"verdict\">", f);
    htmltrace_sentence(f, s->trace, v, lead);
    if (v->failed)
        fprintf(f, " <span class=\"note\">(%zu row%s failed and %s not counted.)</span>", v->failed,
                v->failed == 1 ? "" : "s", v->failed == 1 ? "is" : "are");
    fputs("</div>\n", f);
    write_cards(f, v);
}

/* ---- Charts ---- */

enum { CHART_W = 570, CHART_H = 300 };

static bool is_pick(const verdict_t *v, const char *name)
{
    const replay_result_t *r[3] = {v->least, v->fastest, v->trade};
    for (int i = 0; i < 3; i++)
        if (r[i] && strcmp(htmlpage_row_name(r[i]), name) == 0)
            return true;
    return false;
}

/* The series of every curve for one figure (0 footprint, 1 utilization), in values[]. */
static void fill_series(const htmlpage_trace_t *s, const verdict_t *v, int which, double *values,
                        chart_series_t *series)
{
    for (size_t k = 0; k < s->ncurves; k++) {
        const htmlpage_curve_t *c = &s->curves[k];
        double *y = values + k * c->n;
        for (unsigned b = 0; b < c->n; b++)
            y[b] = which == 0 ? c->points[b].foot : c->points[b].util;
        series[k] =
            (chart_series_t){c->name, y, c->n, (unsigned)k % CHART_COLOURS, is_pick(v, c->name)};
    }
}

static void write_legend(FILE *f, const htmlpage_trace_t *s, const verdict_t *v)
{
    fputs("<div class=\"legend\">", f);
    for (size_t k = 0; k < s->ncurves; k++) {
        fprintf(f, "<span><span class=\"sw k%zu%s\"></span>", k % CHART_COLOURS,
                is_pick(v, s->curves[k].name) ? " ks" : "");
        svg_escape(f, s->curves[k].name);
        fputs("</span>", f);
    }
    fputs("<span><span class=\"sw kref\"></span>live payload</span></div>\n", f);
}

static int write_charts(FILE *f, const htmlpage_trace_t *s, const verdict_t *v)
{
    fputs("<h3>Over time</h3>\n", f);
    if (s->ncurves) {
        unsigned n = s->curves[0].n;
        double *values = malloc((s->ncurves * n + n) * sizeof *values);
        chart_series_t *series = malloc(s->ncurves * sizeof *series);
        if (!values || !series) {
            free(values), free(series);
            return -1;
        }
        double *live = values + s->ncurves * n;
        for (unsigned b = 0; b < n; b++)
            live[b] = s->curves[0].points[b].live;
        chart_series_t ref = {"live payload", live, n, 0, false};
        chart_t c = {CHART_W, CHART_H,           "Footprint", "bytes",    SVG_BYTES,
                     0,       s->trace->num_ops, series,      s->ncurves, &ref};
        fputs("<div class=\"charts\">\n", f);
        fill_series(s, v, 0, values, series);
        chart_write(f, &c);
        fill_series(s, v, 1, values, series);
        c = (chart_t){CHART_W,
                      CHART_H,
                      "Utilization (live payload / footprint)",
                      "utilization",
                      SVG_PERCENT,
                      1.0,
                      s->trace->num_ops,
                      series,
                      s->ncurves,
                      NULL};
        chart_write(f, &c);
        fputs("</div>\n", f);
        write_legend(f, s, v);
        free(values), free(series);
    }
    fputs("<p class=\"note\">", f);
    if (s->ncurves)
        fputs("One line per policy: those with the least footprint, the fastest, the best trade, "
              "hkfit and libc; the thick lines are the verdict's picks. Each point is the "
              "largest footprint (the mean utilization) of the operations of one pixel; hover "
              "a line for its name. ",
              f);
    if (s->curves_note)
        svg_escape(f, s->curves_note);
    fputs("</p>\n", f);
    return 0;
}

/* ---- Maps and call sites ---- */

static void write_maps(FILE *f, const htmlpage_trace_t *s)
{
    if (!s->nmaps)
        return;
    fputs("<h3>Heap maps</h3>\n<p class=\"note\">What the trace does to each heap: x is the "
          "operation, y the heap address (the sbrk-like region at the bottom, then every "
          "mapping); the colours say what each byte is (the legend under each map).</p>\n",
          f);
    for (size_t i = 0; i < s->nmaps; i++) {
        const htmlpage_map_t *m = &s->maps[i];
        fputs("<figure><figcaption>", f);
        svg_escape(f, m->name);
        fputs(" <span class=\"note\">\u2014 ", f);
        svg_escape(f, m->caption);
        fputs("</span></figcaption>\n", f);
        if (m->svg)
            fputs(m->svg, f);
        if (m->note) {
            fputs("<p class=\"note\">", f);
            svg_escape(f, m->note);
            fputs("</p>\n", f);
        }
        fputs("</figure>\n", f);
    }
}

static int write_sites(FILE *f, const htmlpage_trace_t *s)
{
    const trace_t *t = s->trace;
    if (!is_recorded(t))
        return 0;
    fputs("<h3>Who allocates what</h3>\n", f);
    if (!s->nsites) {
        fputs("<p class=\"note\">This trace was recorded without call sites (<code>heapkit record "
              "--callsites</code> adds them).</p>\n",
              f);
        return 0;
    }
    uint64_t calls = 0;
    for (size_t i = 0; i < s->nsites; i++)
        calls += s->sites[i].calls;
    uint32_t at = 0;
    char c[32], n[32], live[32], op[32];
    uint64_t peak = trace_peak_live(t, &at);
    htmltable_count(c, sizeof c, calls);
    htmltable_count(n, sizeof n, t->num_callsites);
    htmltable_count(op, sizeof op, (uint64_t)at + 1);
    svg_bytes(live, sizeof live, (double)peak);
    fprintf(f,
            "<p class=\"note\">%s allocation calls from %s call sites. The peak of live bytes "
            "(%s) is after operation %s; a block belongs to the call that last gave it its "
            "size (a realloc takes it over).</p>\n",
            c, n, live, op);
    return htmltable_sites(f, s);
}

/* ---- One trace ---- */

/* The real allocators' rows (heapkit replay --peer): a verdict and a table of their own,
 * since what they measure is not the lab's footprint (bytes held from the memory source)
 * but what the OS charged the process (peak RSS above the player's baseline). */
static void write_peers(FILE *f, const htmlpage_trace_t *s)
{
    htmlpage_trace_t peers = *s;
    size_t nlab = htmlpage_lab_rows(s);
    peers.rows = s->rows + nlab;
    peers.nrows = s->nrows - nlab;
    if (!peers.nrows)
        return;
    verdict_t v;
    verdict_pick(peers.rows, peers.nrows, &v);
    fputs("<h3>Real allocators</h3>\n", f);
    write_verdict(f, &peers, &v, "On the real allocators: ");
    htmltable_rows(f, &peers, &v);
    fputs("<p class=\"note\">The trace played through each allocator's own malloc, calloc, "
          "aligned_alloc, realloc and free by <code>heapkit-play</code> (LD_PRELOAD), in "
          "recorded order, one fresh process per run. <i>footprint</i> here is the peak "
          "resident memory above the player's own just before the first op: what the OS "
          "charged for the trace, metadata, caches and page rounding included, with one byte "
          "written per 4 KiB page of every block, as a program uses its memory. It is not the "
          "lab's footprint (bytes held from the memory source), so the two tables are not "
          "ranked together. Fragmentation and growth calls are not measured for a real "
          "allocator (\u2013).</p>\n",
          f);
}

int htmltrace_write(FILE *f, const htmlpage_trace_t *all, size_t index)
{
    htmlpage_trace_t lab = *all;
    lab.nrows = htmlpage_lab_rows(all);
    const htmlpage_trace_t *s = &lab;
    verdict_t v;
    verdict_pick(s->rows, s->nrows, &v);
    fprintf(f, "<section id=\"trace-%zu\">\n<h2>", index + 1);
    svg_escape(f, htmltrace_title(s->trace));
    fputs(is_recorded(s->trace) ? " <small class=\"note\">recorded</small>" : "", f);
    fputs("</h2>\n", f);
    write_facts(f, s->trace);
    write_verdict(f, s, &v, NULL);
    fputs("<h3>Every policy</h3>\n", f);
    htmltable_rows(f, s, &v);
    fputs("<p class=\"note\">Click a column to sort. Bold green: the best of the column; "
          "\u2013: not measured for that row. Hover a header for its meaning, a byte count for "
          "the exact number.</p>\n",
          f);
    write_peers(f, all);
    if (write_charts(f, s, &v) < 0)
        return -1;
    write_maps(f, s);
    if (write_sites(f, s) < 0)
        return -1;
    fputs("</section>\n", f);
    return 0;
}
