/*
 * htmlpage.h -- the page `heapkit report` writes: one self-contained HTML file (inline
 *               CSS, inline SVG, a few lines of inline JS; nothing fetched).
 *
 * Design:      The page is built from what it is given, per trace: rows (replay
 *              results: the lab's policies, and any other rows measured the same way,
 *              such as real allocators), curves (one policy's footprint and utilization
 *              over the trace), heap maps (finished SVG fragments with a caption) and
 *              the call-site counts. The writer computes nothing that `heapkit replay`
 *              prints: the table shows the rows' own figures, and the verdict is
 *              verdict.h's rule over those rows. A figure a row does not have shows as
 *              "–": a failed row's measurements; fragmentation when frag_footprint is 0;
 *              growth calls when has_growth is false; Kops/s without timing runs. A row
 *              is named by htmlpage_row_name(), the one place that knows rows come from
 *              lab policies today.
 *              Sections, in page order: for each trace its header (the program and how
 *              it ran, or the file), the verdict in words, the table (sortable, the best
 *              of each column marked), the curves with their legend, the maps, and "who
 *              allocates what"; then the small print (the rule, the columns, the settings).
 * Ownership:   the page copies rows, curves and names; a map's SVG text is handed over.
 */
#ifndef HK_TOOLS_HTMLPAGE_H
#define HK_TOOLS_HTMLPAGE_H

#include <stdio.h>

#include "replay.h"
#include "sites.h"
#include "timeline.h"
#include "trace.h"

typedef struct htmlpage_curve {
    char *name;
    timeline_point_t *points;
    unsigned n;
} htmlpage_curve_t;

typedef struct htmlpage_map {
    char *name;    /* the policy drawn */
    char *caption; /* why it was chosen */
    char *svg;     /* the <svg> fragment, or NULL when it could not be drawn */
    char *note;    /* what went wrong, or what was reduced, or NULL */
} htmlpage_map_t;

typedef struct htmlpage_trace {
    const trace_t *trace;
    replay_result_t *rows;
    size_t nrows, rows_cap;
    htmlpage_curve_t *curves;
    size_t ncurves;
    char *curves_note; /* curves that could not be measured, or NULL */
    htmlpage_map_t *maps;
    size_t nmaps;
    site_stat_t *sites; /* sites_count()'s entries, owned */
    size_t nsites;
} htmlpage_trace_t;

typedef struct htmlpage {
    replay_options_t opt; /* what the rows were measured with, for the small print */
    htmlpage_trace_t *traces;
    size_t ntraces;
} htmlpage_t;

/* A page for `ntraces` traces (in that order). Returns 0, or -1 when out of memory. */
int htmlpage_init(htmlpage_t *pg, const replay_options_t *opt, const trace_t *traces,
                  size_t ntraces);
void htmlpage_free(htmlpage_t *pg);

/* Every function below returns 0, or -1 when out of memory (the page is then unchanged).
 * `trace` indexes the traces given to htmlpage_init. */

/* Appends n rows for a trace: the rows of the table, in the order given; the lab
 * policies' first, then the real allocators' (their `peer` is set). */
int htmlpage_add_rows(htmlpage_t *pg, size_t trace, const replay_result_t *rows, size_t n);
/* A curve for the charts, in the order the legend lists them. */
int htmlpage_add_curve(htmlpage_t *pg, size_t trace, const char *name,
                       const timeline_point_t *points, unsigned n);
/* A note under the charts (appended to what is there). */
int htmlpage_note_curves(htmlpage_t *pg, size_t trace, const char *note);
/* A heap map: svg (malloc'ed, taken over even on failure) may be NULL, then note says
 * why; note may also say what was reduced. */
int htmlpage_add_map(htmlpage_t *pg, size_t trace, const char *name, const char *caption, char *svg,
                     const char *note);
/* The call-site counts of the trace (computed here with sites_count). */
int htmlpage_count_sites(htmlpage_t *pg, size_t trace);

/* The name a row is shown under. */
const char *htmlpage_row_name(const replay_result_t *r);
/* How many of s's rows, from the first, are the lab's (the rest are real allocators'). */
size_t htmlpage_lab_rows(const htmlpage_trace_t *s);
/* The lab policy a row that passed was measured on (one that can be replayed again for a
 * curve or a map), or NULL: a failed row, or a row from elsewhere. */
const lab_policy_t *htmlpage_lab_policy(const replay_result_t *r);
/* The passed lab row of the policy called `name`, or NULL. */
const replay_result_t *htmlpage_find_row(const htmlpage_trace_t *s, const char *name);

/* Writes the page. Returns 0, or -1 on a write error or when out of memory. */
int htmlpage_write(FILE *out, const htmlpage_t *pg);

#endif
