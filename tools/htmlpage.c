/*
 * htmlpage.c -- the page model of `heapkit report` and the page around the traces
 *               (htmlpage.h): head and style, the index of several traces, the small
 *               print, the script. A trace's section is htmltrace.c's, its tables are
 *               htmltable.c's.
 *
 * Design:      Class names of the page avoid those of the SVGs it embeds (map.c's and
 *              chart.c's), because every <style> of a page applies to the whole page.
 *              The script only sorts tables; it marks the <html> element data-ready="1"
 *              once it has run, which the headless-browser test reads back.
 */
#include "htmlpage.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "htmltrace.h"
#include "svg.h"
#include "verdict.h"

/* ---- The model ---- */

int htmlpage_init(htmlpage_t *pg, const replay_options_t *opt, const trace_t *traces,
                  size_t ntraces)
{
    memset(pg, 0, sizeof *pg);
    pg->opt = *opt;
    pg->traces = calloc(ntraces ? ntraces : 1, sizeof *pg->traces);
    if (!pg->traces)
        return -1;
    pg->ntraces = ntraces;
    for (size_t i = 0; i < ntraces; i++)
        pg->traces[i].trace = &traces[i];
    return 0;
}

void htmlpage_free(htmlpage_t *pg)
{
    for (size_t i = 0; i < pg->ntraces; i++) {
        htmlpage_trace_t *s = &pg->traces[i];
        for (size_t k = 0; k < s->ncurves; k++)
            free(s->curves[k].name), free(s->curves[k].points);
        for (size_t k = 0; k < s->nmaps; k++)
            free(s->maps[k].name), free(s->maps[k].caption), free(s->maps[k].svg),
                free(s->maps[k].note);
        free(s->rows), free(s->curves), free(s->curves_note), free(s->maps), free(s->sites);
    }
    free(pg->traces);
    memset(pg, 0, sizeof *pg);
}

int htmlpage_add_rows(htmlpage_t *pg, size_t trace, const replay_result_t *rows, size_t n)
{
    htmlpage_trace_t *s = &pg->traces[trace];
    if (s->nrows + n > s->rows_cap) {
        size_t cap = s->rows_cap ? s->rows_cap : 16;
        while (cap < s->nrows + n)
            cap *= 2;
        replay_result_t *grown = realloc(s->rows, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->rows = grown;
        s->rows_cap = cap;
    }
    memcpy(s->rows + s->nrows, rows, n * sizeof *rows);
    s->nrows += n;
    return 0;
}

int htmlpage_add_curve(htmlpage_t *pg, size_t trace, const char *name,
                       const timeline_point_t *points, unsigned n)
{
    htmlpage_trace_t *s = &pg->traces[trace];
    htmlpage_curve_t *grown = realloc(s->curves, (s->ncurves + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->curves = grown;
    htmlpage_curve_t c = {strdup(name), malloc((n ? n : 1) * sizeof *points), n};
    if (!c.name || !c.points) {
        free(c.name), free(c.points);
        return -1;
    }
    memcpy(c.points, points, n * sizeof *points);
    s->curves[s->ncurves++] = c;
    return 0;
}

/* *to with text appended (a space between), or -1 when out of memory. */
static int append(char **to, const char *text)
{
    size_t had = *to ? strlen(*to) + 1 : 0;
    char *grown = realloc(*to, had + strlen(text) + 1);
    if (!grown)
        return -1;
    if (had)
        grown[had - 1] = ' ';
    strcpy(grown + had, text);
    *to = grown;
    return 0;
}

int htmlpage_note_curves(htmlpage_t *pg, size_t trace, const char *note)
{
    return append(&pg->traces[trace].curves_note, note);
}

int htmlpage_add_map(htmlpage_t *pg, size_t trace, const char *name, const char *caption, char *svg,
                     const char *note)
{
    htmlpage_trace_t *s = &pg->traces[trace];
    htmlpage_map_t *grown = realloc(s->maps, (s->nmaps + 1) * sizeof *grown);
    if (!grown) {
        free(svg);
        return -1;
    }
    s->maps = grown;
    htmlpage_map_t m = {strdup(name), strdup(caption), svg, note ? strdup(note) : NULL};
    if (!m.name || !m.caption || (note && !m.note)) {
        free(m.name), free(m.caption), free(m.svg), free(m.note);
        return -1;
    }
    s->maps[s->nmaps++] = m;
    return 0;
}

int htmlpage_count_sites(htmlpage_t *pg, size_t trace)
{
    htmlpage_trace_t *s = &pg->traces[trace];
    if (!s->trace->num_callsites)
        return 0;
    free(s->sites);
    s->nsites = sites_count(s->trace, &s->sites);
    return s->nsites ? 0 : -1;
}

const char *htmlpage_row_name(const replay_result_t *r)
{
    return r->name ? r->name : r->policy ? r->policy->name : "?";
}

size_t htmlpage_lab_rows(const htmlpage_trace_t *s)
{
    size_t n = 0;
    while (n < s->nrows && !s->rows[n].peer)
        n++;
    return n;
}

const lab_policy_t *htmlpage_lab_policy(const replay_result_t *r)
{
    bool lab = r->ok && r->policy && lab_policy_find(r->policy->name) == r->policy;
    return lab ? r->policy : NULL;
}

const replay_result_t *htmlpage_find_row(const htmlpage_trace_t *s, const char *name)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (htmlpage_lab_policy(&s->rows[i]) && strcmp(s->rows[i].policy->name, name) == 0)
            return &s->rows[i];
    return NULL;
}


/* ---- Head ---- */

// clang-format off
static const char page_css[] =
    "body{margin:0;background:#eef0f3;color:#222;"
    "font:15px/1.45 'DejaVu Sans',Helvetica,Arial,sans-serif}\n"
    "main{max-width:1180px;margin:0 auto;padding:22px 30px 40px;background:#fff}\n"
    "h1{font-size:27px;margin:4px 0 2px}h1 small{font-size:15px;color:#666;font-weight:normal}\n"
    "h2{font-size:22px;margin:34px 0 4px;padding-top:14px;border-top:3px solid #3568b0}\n"
    "h3{font-size:16px;margin:26px 0 8px;color:#333}\n"
    "a{color:#3568b0}code,.mono{font-family:'DejaVu Sans Mono',Menlo,monospace;font-size:12.5px}\n"
    ".facts{display:flex;flex-wrap:wrap;gap:4px 22px;color:#555;font-size:13.5px;margin:6px 0 12px}\n"
    ".facts b{color:#222}.cmd{background:#f2f2f2;padding:1px 6px;border-radius:3px;"
    "word-break:break-all}\n"
    ".verdict{background:#eef4fb;border-left:5px solid #3568b0;padding:12px 18px;"
    "font-size:17px;margin:12px 0}\n"
    ".verdict.bad{background:#fbeeee;border-color:#b33}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:14px;margin:12px 0 4px}\n"
    ".card{flex:1 1 240px;border:1px solid #d8dce3;border-radius:6px;padding:10px 14px}\n"
    ".card .role{font-size:11.5px;letter-spacing:.06em;text-transform:uppercase;color:#667}\n"
    ".card .who{font-size:21px;font-weight:bold;margin:2px 0}.card .fig{color:#444;font-size:13.5px}\n"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
    "table.rows{width:100%;font-size:13.5px}\n"
    "th{text-align:right;padding:5px 8px;background:#f4f5f7;border-bottom:2px solid #aab;"
    "white-space:nowrap}\n"
    "table.rows th{cursor:pointer;user-select:none}table.rows th:hover{background:#e6ebf2}\n"
    "th.asc::after{content:' \\25b2'}th.desc::after{content:' \\25bc'}\n"
    "td{padding:3px 8px;text-align:right;border-bottom:1px solid #eceef1;white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "td.why{text-align:left;white-space:normal;color:#b00;font-size:12.5px}\n"
    "tr.fail td{color:#b00}td.best{font-weight:bold;color:#1d6b1d}\n"
    "td.bar{background:linear-gradient(90deg,#d5e3f4 var(--w),transparent var(--w))}\n"
    "td.bar.best{background:linear-gradient(90deg,#bfe3b4 var(--w),transparent var(--w))}\n"
    ".tag{display:inline-block;font-size:10.5px;font-weight:bold;color:#fff;background:#3568b0;"
    "border-radius:3px;padding:0 5px;margin-left:4px;vertical-align:1px}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{flex:1 1 520px;max-width:100%;"
    "height:auto}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:13px;margin:2px 0 0 70px}\n"
    ".sw{display:inline-block;width:20px;height:4px;margin-right:6px;vertical-align:middle}\n"
    ".sw.ks{height:6px}.sw.kref{height:10px;background:#9aa5b1;opacity:.5}\n"
    "figure{margin:14px 0 22px}figure svg{display:block;max-width:100%;height:auto}\n"
    "figcaption{font-weight:bold;margin-bottom:2px}\n"
    ".sitepair{display:flex;flex-wrap:wrap;gap:26px}.sitepair table{flex:1 1 480px;font-size:13px}\n"
    "caption{text-align:left;font-weight:bold;padding:4px 0}.obj{color:#888;font-size:12px}\n"
    ".note{color:#666;font-size:12.5px;margin:4px 0}\n"
    "footer{font-size:12.5px;color:#555;border-top:1px solid #ddd;margin-top:40px;padding-top:8px}\n"
    "footer dt{font-weight:bold;color:#333;margin-top:8px}footer dd{margin-left:18px}\n"
    "svg text{font:12px 'DejaVu Sans',Helvetica,Arial,sans-serif;fill:#333}\n";
// clang-format on

static void write_head(FILE *f, const htmlpage_t *pg)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>heapkit report: ",
          f);
    for (size_t i = 0; i < pg->ntraces; i++) {
        fputs(i ? ", " : "", f);
        svg_escape(f, htmltrace_title(pg->traces[i].trace));
    }
    fprintf(f, "</title>\n<style>\n%s%s\n</style>\n</head>\n<body>\n<main>\n", page_css, chart_css);
}

/* ---- The index (several traces) and the small print ---- */

static void write_index(FILE *f, const htmlpage_t *pg)
{
    fputs("<h1>heapkit report <small>which allocation strategy fits ", f);
    if (pg->ntraces == 1)
        svg_escape(f, htmltrace_title(pg->traces[0].trace));
    else
        fputs("these programs", f);
    fputs(", and why</small></h1>\n", f);
    if (pg->ntraces < 2)
        return;
    fputs("<ol class=\"index\">\n", f);
    for (size_t i = 0; i < pg->ntraces; i++) {
        const htmlpage_trace_t *s = &pg->traces[i];
        verdict_t v;
        verdict_pick(s->rows, htmlpage_lab_rows(s), &v);
        fprintf(f, "<li><a href=\"#trace-%zu\">", i + 1);
        svg_escape(f, htmltrace_title(s->trace));
        fputs("</a>: ", f);
        if (v.least)
            htmltrace_sentence(f, s->trace, &v, NULL);
        else
            fputs("no row passed.", f);
        fputs("</li>\n", f);
    }
    fputs("</ol>\n", f);
}

static void write_small_print(FILE *f, const replay_options_t *opt)
{
    fprintf(f,
            "<footer>\n<dl>\n<dt>The verdict</dt><dd>Over the rows that passed: <i>wastes "
            "least</i> is the row with the smallest peak footprint, which is the highest "
            "utilization (every row of a trace has the same peak live bytes); <i>fastest</i> "
            "is the row with the most Kops/s; <i>best trade</i> is the fastest of the rows whose "
            "peak footprint is at most %.0f%% above the least. Ties: of equal footprints the "
            "faster is least, of equal speeds the smaller footprint is fastest (and trade), "
            "then the row listed first. Footprints within %.1f%% of the least read the same "
            "and are named with it. Speeds less than %.0f%% apart are within the noise of "
            "the timing runs; the verdict then names the next one as close behind.</dd>\n",
            100 * VERDICT_SLACK, 100 * VERDICT_TIE, 100 * VERDICT_NOISE);
    fputs("<dt>The columns</dt><dd>the figures of <code>heapkit replay</code>: peak live = the "
          "largest sum of requested sizes of live blocks; footprint = the high-water mark of the "
          "bytes held from the memory source (the system's, for libc); util = peak live / "
          "footprint; int-frag = block bytes &minus; live payload and ext-frag = footprint "
          "&minus; block bytes, both when the footprint peaked, as shares of it; grow = calls "
          "that grew the memory source (sbrk + map); Kops/s = ops / time of one replay in the "
          "median timing run.</dd>\n",
          f);
    fprintf(f,
            "<dt>How it was measured</dt><dd>Payload alignment %zu; every block checked "
            "(alignment, bounds, overlap, contents), and the policy's own heap check ",
            opt->align);
    if (opt->check_every)
        fprintf(f, "every %lu operations and at the end", opt->check_every);
    else
        fputs("at the end", f);
    if (opt->timing_runs)
        fprintf(f,
                "; Kops/s is the median of %u timing runs, each at least 5 ms of replays "
                "without checks on fresh heaps",
                opt->timing_runs);
    else
        fputs("; no timing runs", f);
    fputs(". Every (trace, policy) runs in a process of its own. The curves come from one more "
          "replay per policy, with the footprint polled after every operation (after every "
          "operation but frees, for libc); the maps are <code>heapkit map</code>'s.</dd>\n"
          "<dt>This page</dt><dd>written by <code>heapkit report</code>; it is self-contained: "
          "nothing on it is fetched.</dd>\n</dl>\n</footer>\n",
          f);
}

/* ---- The script: sortable tables ---- */

// clang-format off
static const char page_js[] =
    "(function () {\n"
    "  function key(row, i) { return row.cells[i].getAttribute('data-v'); }\n"
    "  function sortBy(table, th, i) {\n"
    "    var up = !th.classList.contains('asc'), body = table.tBodies[0];\n"
    "    var heads = table.tHead.rows[0].cells;\n"
    "    for (var h = 0; h < heads.length; h++) heads[h].classList.remove('asc', 'desc');\n"
    "    th.classList.add(up ? 'asc' : 'desc');\n"
    "    var rows = Array.prototype.slice.call(body.rows);\n"
    "    rows.sort(function (a, b) {\n"
    "      var x = key(a, i), y = key(b, i);\n"
    "      if (x === null || y === null) return (x === null) - (y === null);\n"
    "      var nx = parseFloat(x), ny = parseFloat(y);\n"
    "      var c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;\n"
    "      return up ? c : -c;\n"
    "    });\n"
    "    rows.forEach(function (r) { body.appendChild(r); });\n"
    "  }\n"
    "  document.querySelectorAll('table.rows').forEach(function (table) {\n"
    "    var heads = table.tHead.rows[0].cells;\n"
    "    Array.prototype.forEach.call(heads, function (th, i) {\n"
    "      th.addEventListener('click', function () { sortBy(table, th, i); });\n"
    "    });\n"
    "  });\n"
    "  document.documentElement.setAttribute('data-ready', '1');\n"
    "})();\n";
// clang-format on

int htmlpage_write(FILE *out, const htmlpage_t *pg)
{
    write_head(out, pg);
    write_index(out, pg);
    int status = 0;
    for (size_t i = 0; i < pg->ntraces && status == 0; i++)
        status = htmltrace_write(out, &pg->traces[i], i);
    write_small_print(out, &pg->opt);
    fprintf(out, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", page_js);
    if (fflush(out) != 0 || ferror(out))
        status = -1;
    return status;
}
