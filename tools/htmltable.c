/*
 * htmltable.c -- the rows table and the call-site tables of the report page (htmltable.h).
 *
 * Design:      The rows table is driven by one column table: each column says how to
 *              read its figure from a row (or that the row does not have it) and which
 *              direction is better, so the marking of the best values, the sort keys and
 *              the text cannot disagree. The figures are the row's own (replay.h), in
 *              the units `heapkit replay` prints them; nothing is recomputed.
 */
#include "htmltable.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

#define SITES_TOP 12 /* call sites listed per table */

void htmltable_count(char *buf, size_t len, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t at = 0;
    for (int i = 0; i < n && at + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[at++] = ',';
        buf[at++] = digits[i];
    }
    buf[at < len ? at : len - 1] = '\0';
}

/* ---- The rows: columns ---- */

typedef enum col {
    C_POLICY,
    C_OPS,
    C_LIVE,
    C_FOOT,
    C_VS,
    C_UTIL,
    C_INT,
    C_EXT,
    C_GROW,
    C_KOPS,
    C_VERDICT,
    C_COUNT
} col_t;

typedef struct column {
    const char *head;
    const char *hint; /* the header's hover text */
    int better;       /* +1 larger is better, -1 smaller is, 0 not marked */
} column_t;

static const column_t columns[C_COUNT] = {
    [C_POLICY] = {"policy", "the policy (or allocator) the trace was replayed on", 0},
    [C_OPS] = {"ops", "operations replayed", 0},
    [C_LIVE] = {"peak live", "the largest sum of requested sizes of live blocks", 0},
    [C_FOOT] = {"footprint", "the high-water mark of the bytes held from the memory source", -1},
    [C_VS] = {"vs least", "footprint above the least footprint of the table", 0},
    [C_UTIL] = {"util", "utilization = peak live / footprint", +1},
    [C_INT] = {"int-frag", "block bytes - live payload, when the footprint peaked", -1},
    [C_EXT] = {"ext-frag", "footprint - block bytes, when the footprint peaked", -1},
    [C_GROW] = {"grow", "calls that grew the memory source (sbrk + map)", -1},
    [C_KOPS] = {"Kops/s", "thousands of ops per second in the median timing run", +1},
    [C_VERDICT] = {"verdict", "ok, or FAIL with the op and the reason", 0},
};

static double percent_of(long long part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Column c's figure of r in *v; false when r does not have it. */
static bool figure(const replay_result_t *r, col_t c, size_t least, double *v)
{
    bool frag = r->ok && r->frag_footprint > 0;
    switch (c) {
    case C_OPS:
        *v = r->ops;
        return true;
    case C_LIVE:
        *v = (double)r->peak_live;
        return r->ok;
    case C_FOOT:
        *v = (double)r->peak_footprint;
        return r->ok;
    case C_VS:
        *v = least ? (double)r->peak_footprint / (double)least - 1.0 : 0;
        return r->ok && least > 0;
    case C_UTIL:
        *v = 100.0 * r->utilization;
        return r->ok;
    case C_INT:
        *v = percent_of(r->internal_frag, r->frag_footprint);
        return frag;
    case C_EXT:
        *v = percent_of(r->external_frag, r->frag_footprint);
        return frag;
    case C_GROW:
        *v = (double)r->growth_calls;
        return r->ok && r->has_growth;
    case C_KOPS:
        *v = r->ops_per_sec / 1000.0;
        return verdict_is_timed(r);
    case C_POLICY:
    case C_VERDICT:
    case C_COUNT:
        break;
    }
    return false;
}

/* v as the page shows it, so that two rows that read the same are marked alike. */
static double shown(col_t c, double v)
{
    switch (c) {
    case C_UTIL:
    case C_INT:
    case C_EXT:
        return round(v * 10) / 10;
    case C_KOPS:
        return round(v);
    default:
        return v;
    }
}

/* The best figure of each marked column over the rows that have it (has[c] says if any). */
static void find_best(const htmlpage_trace_t *s, size_t least, double *best, bool *has)
{
    for (int c = 0; c < C_COUNT; c++) {
        has[c] = false;
        for (size_t i = 0; columns[c].better && i < s->nrows; i++) {
            double v;
            if (!figure(&s->rows[i], (col_t)c, least, &v))
                continue;
            v = shown((col_t)c, v);
            if (!has[c] || (columns[c].better > 0 ? v > best[c] : v < best[c]))
                best[c] = v;
            has[c] = true;
        }
    }
}

/* ---- The rows: cells ---- */

static void bytes_cell(FILE *f, const char *cls, double v, const char *suffix)
{
    char human[32], exact[32];
    svg_bytes(human, sizeof human, v);
    htmltable_count(exact, sizeof exact, (uint64_t)v);
    fprintf(f, "<td%s data-v=\"%.0f\" title=\"%s bytes%s\">%s</td>", cls, v, exact, suffix, human);
}

static void frag_cell(FILE *f, const char *cls, double pct, long long bytes, size_t of)
{
    char b[32], o[32];
    htmltable_count(b, sizeof b, bytes > 0 ? (uint64_t)bytes : 0);
    htmltable_count(o, sizeof o, of);
    fprintf(f, "<td%s data-v=\"%.4f\" title=\"%s%s of %s bytes\">%.1f%%</td>", cls, pct,
            bytes < 0 ? "-" : "", b, o, pct);
}

static void verdict_cell(FILE *f, const replay_result_t *r)
{
    if (r->ok) {
        fputs("<td data-v=\"ok\">ok</td>", f);
        return;
    }
    char what[400];
    if (r->fail_op)
        snprintf(what, sizeof what, "FAIL op %u (line %u): %s", r->fail_op, r->fail_line,
                 r->reason);
    else
        snprintf(what, sizeof what, "FAIL: %s", r->reason);
    fputs("<td class=\"why\" data-v=\"FAIL\">", f);
    svg_escape(f, what);
    fputs("</td>", f);
}

static void name_cell(FILE *f, const replay_result_t *r, const verdict_t *v)
{
    fputs("<td data-v=\"", f);
    svg_escape(f, htmlpage_row_name(r));
    fputs("\">", f);
    svg_escape(f, htmlpage_row_name(r));
    if (r == v->least)
        fputs(" <span class=\"tag\">least waste</span>", f);
    if (r == v->fastest)
        fputs(" <span class=\"tag\">fastest</span>", f);
    if (r == v->trade)
        fputs(" <span class=\"tag\">best trade</span>", f);
    fputs("</td>", f);
}

static void figure_cell(FILE *f, const replay_result_t *r, col_t c, size_t least, bool best,
                        double fastest)
{
    double v;
    const char *cls = best ? " class=\"best\"" : "";
    if (!figure(r, c, least, &v)) {
        fputs("<td>\u2013</td>", f);
        return;
    }
    char text[32];
    switch (c) {
    case C_LIVE:
    case C_FOOT:
        bytes_cell(f, cls, v, "");
        return;
    case C_INT:
        frag_cell(f, cls, v, r->internal_frag, r->frag_footprint);
        return;
    case C_EXT:
        frag_cell(f, cls, v, r->external_frag, r->frag_footprint);
        return;
    case C_VS:
        fprintf(f, "<td data-v=\"%.6f\">", v);
        if (r->peak_footprint == least)
            fputs("least</td>", f);
        else /* two decimals below 1%, where the verdict's slack and ties are decided */
            fprintf(f, v < 0.01 ? "+%.2f%%</td>" : "+%.1f%%</td>", 100.0 * v);
        return;
    case C_UTIL:
        fprintf(f, "<td class=\"bar%s\" style=\"--w:%.1f%%\" data-v=\"%.6f\">%.1f%%</td>",
                best ? " best" : "", v, v, v);
        return;
    case C_KOPS:
        htmltable_count(text, sizeof text, (uint64_t)(v + 0.5));
        fprintf(f, "<td class=\"bar%s\" style=\"--w:%.1f%%\" data-v=\"%.1f\">%s</td>",
                best ? " best" : "", fastest > 0 ? 100.0 * v / fastest : 0, v, text);
        return;
    default:
        htmltable_count(text, sizeof text, (uint64_t)v);
        fprintf(f, "<td%s data-v=\"%.0f\">%s</td>", cls, v, text);
        return;
    }
}

void htmltable_rows(FILE *f, const htmlpage_trace_t *s, const verdict_t *v)
{
    size_t least = v->least ? v->least->peak_footprint : 0;
    double best[C_COUNT];
    bool has[C_COUNT];
    find_best(s, least, best, has);
    fputs("<table class=\"rows\">\n<thead><tr>", f);
    for (int c = 0; c < C_COUNT; c++)
        fprintf(f, "<th data-k=\"%s\" title=\"%s\">%s</th>", columns[c].head, columns[c].hint,
                columns[c].head);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < s->nrows; i++) {
        const replay_result_t *r = &s->rows[i];
        fputs(r->ok ? "<tr>" : "<tr class=\"fail\">", f);
        name_cell(f, r, v);
        for (int c = C_OPS; c < C_VERDICT; c++) {
            double x;
            bool is_best =
                has[c] && figure(r, (col_t)c, least, &x) && shown((col_t)c, x) == best[c];
            figure_cell(f, r, (col_t)c, least, is_best, has[C_KOPS] ? best[C_KOPS] : 0);
        }
        verdict_cell(f, r);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

/* ---- Call sites ---- */

/* "func+0x1c (libfoo.so)": the function in <code>, the object after it in grey. */
static void site_name(FILE *f, const trace_t *t, uint32_t site)
{
    if (site == SITES_NONE) {
        fputs("<td><i>no call site</i></td>", f);
        return;
    }
    const char *name = t->callsites[site], *open = strrchr(name, '(');
    size_t fn =
        open && open > name && name[strlen(name) - 1] == ')' ? (size_t)(open - name) : strlen(name);
    char *func = strndup(name, fn);
    fputs("<td><code>", f);
    svg_escape(f, func ? func : name);
    fputs("</code>", f);
    if (fn < strlen(name)) {
        fputs(" <span class=\"obj\">", f);
        svg_escape(f, name + fn);
        fputs("</span>", f);
    }
    fputs("</td>", f);
    free(func);
}

typedef struct site_view {
    const char *title;
    const char *count_head, *bytes_head;
    sites_order_t order;
} site_view_t;

static void sites_table(FILE *f, const trace_t *t, const site_stat_t *top, size_t n,
                        const site_view_t *view, uint64_t total)
{
    bool peak = view->order == SITES_BY_PEAK_BYTES;
    uint64_t most = n ? (peak ? top[0].peak_bytes : top[0].bytes) : 0;
    fprintf(f,
            "<table class=\"sites\"><caption>%s</caption>\n<thead><tr><th>call site</th>"
            "<th>%s</th><th>%s</th><th>share</th></tr></thead>\n<tbody>\n",
            view->title, view->count_head, view->bytes_head);
    for (size_t i = 0; i < n && i < SITES_TOP; i++) {
        uint64_t count = peak ? top[i].peak_blocks : top[i].calls;
        uint64_t bytes = peak ? top[i].peak_bytes : top[i].bytes;
        if (bytes == 0 && count == 0)
            break;
        char c[32], human[32], exact[32];
        htmltable_count(c, sizeof c, count);
        htmltable_count(exact, sizeof exact, bytes);
        svg_bytes(human, sizeof human, (double)bytes);
        fputs("<tr>", f);
        site_name(f, t, top[i].site);
        fprintf(f, "<td data-v=\"%llu\">%s</td>", (unsigned long long)count, c);
        fprintf(f,
                "<td class=\"bar\" style=\"--w:%.1f%%\" data-v=\"%llu\" title=\"%s bytes\">%s</td>",
                most ? 100.0 * (double)bytes / (double)most : 0, (unsigned long long)bytes, exact,
                human);
        fprintf(f, "<td data-v=\"%.4f\">%.1f%%</td></tr>\n",
                total ? 100.0 * (double)bytes / (double)total : 0,
                total ? 100.0 * (double)bytes / (double)total : 0);
    }
    fputs("</tbody></table>\n", f);
}

int htmltable_sites(FILE *f, const htmlpage_trace_t *s)
{
    static const site_view_t views[2] = {
        {"By bytes requested over the whole run", "calls", "bytes requested", SITES_BY_BYTES},
        {"By bytes live at the peak", "blocks live", "bytes live", SITES_BY_PEAK_BYTES},
    };
    if (!s->nsites)
        return 0;
    site_stat_t *copy = malloc(s->nsites * sizeof *copy);
    if (!copy)
        return -1;
    fputs("<div class=\"sitepair\">\n", f);
    for (int k = 0; k < 2; k++) {
        uint64_t total = 0;
        for (size_t i = 0; i < s->nsites; i++)
            total +=
                views[k].order == SITES_BY_PEAK_BYTES ? s->sites[i].peak_bytes : s->sites[i].bytes;
        memcpy(copy, s->sites, s->nsites * sizeof *copy);
        sites_sort(copy, s->nsites, views[k].order);
        sites_table(f, s->trace, copy, s->nsites, &views[k], total);
    }
    fputs("</div>\n", f);
    free(copy);
    return 0;
}
