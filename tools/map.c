/*
 * map.c -- `heapkit map` (map.h): draws a layout (layout.h) as one SVG, and the command.
 *
 * Design:      The heap plot is a grid of columns (one per layout) by HEAP_H pixel rows.
 *              A column is rasterized by adding each cell's bytes to the rows it covers;
 *              each row then gets one colour by error diffusion up the column, so the
 *              colours keep their shares of the area (rasterize). Runs of equal rows
 *              become one <rect>, and a run equal to one in the column before lengthens it,
 *              so a heap that holds still costs one rect however long it holds. Rects
 *              are in column and row units inside one transformed group (x scaled by the
 *              column width, y flipped so the lowest address is at the bottom).
 *              The curves plot the layout's buckets: footprint and live payload on a
 *              byte axis, utilization on a percentage axis at the right.
 * Exit status: 0 drawn, 1 the policy failed an op, 2 bad usage or input, no walk, no
 *              memory, or the picture could not be written.
 */
#include "map.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "svg.h"

/* ---- Geometry (pixels) and style ---- */

#define WIDTH    1000
#define PLOT_X   88
#define PLOT_W   824
#define HEAP_Y   70
#define HEAP_H   420
#define CURVE_Y  (HEAP_Y + HEAP_H + 44)
#define CURVE_H  150
#define LEGEND_Y (CURVE_Y + CURVE_H + 64)
#define HEIGHT   (LEGEND_Y + 30)

static const char *const colour_class[LAYOUT_COLOURS] = {"p", "o", "f", "m", "d"};
static const char *const colour_label[LAYOUT_COLOURS] = {
    "payload (requested)", "block overhead: header, padding, rounding", "free",
    "policy metadata", "freed, never reused"};

static const char css[] =
    "text{font:12px 'DejaVu Sans',Helvetica,Arial,sans-serif;fill:#333}"
    ".t{font-size:17px;font-weight:bold;fill:#222}.s{fill:#666}.lane{fill:#777;font-size:11px}"
    ".p{fill:#3568b0}.o{fill:#f0a23b}.f{fill:#b7e0a5}.m{fill:#8b5fb0}.d{fill:#b5aba1}"
    ".bg{fill:#f3f3f3;stroke:#d0d0d0}.ax{stroke:#555;fill:none}.grid{stroke:#e2e2e2;fill:none}"
    ".sep{stroke:#333;stroke-dasharray:5 3;fill:none}.area{fill:#3568b0;fill-opacity:.12}"
    ".lf{stroke:#222;stroke-width:1.6;fill:none}.ll{stroke:#3568b0;stroke-width:1.6;fill:none}"
    ".lu{stroke:#d33;stroke-width:1.4;fill:none}";

/* ---- The heap plot ---- */

typedef struct run {
    int      r0, r1, colour; /* rows [r0, r1) */
    unsigned start;          /* the column where its rect began */
} run_t;

/* Adds the bytes of column j's cells to the rows they cover: acc[row][colour]. */
static void accumulate(const layout_t *l, unsigned j, double (*acc)[LAYOUT_COLOURS])
{
    double per_row = l->extent / HEAP_H;
    memset(acc, 0, sizeof(double[HEAP_H][LAYOUT_COLOURS]));
    for (size_t i = l->col[j]; i < l->col[j + 1]; i++) {
        const layout_cell_t *c = &l->cells[i];
        double y0 = layout_y(l, c->addr), y1 = y0 + c->len;
        for (int r = (int)(y0 / per_row); r < HEAP_H && r * per_row < y1; r++) {
            double lo = y0 > r * per_row ? y0 : r * per_row;
            double hi = y1 < (r + 1) * per_row ? y1 : (r + 1) * per_row;
            acc[r][c->colour] += hi - lo;
        }
    }
}

/* Column j's rows, lowest first, one colour each (-1: background, outside the footprint),
 * by error diffusion up the column: a colour's share of a row's bytes adds to its credit,
 * the colour with the most credit takes the row and pays one row for it. A row of one
 * colour stays that colour and starts the credit afresh (a change in the heap then moves
 * the pattern only up to the next such row, and columns that agree there still merge); a
 * mix (blocks half payload, half page rounding) alternates in proportion, so each colour
 * keeps its share of the area, which a majority vote per row would hide. */
static void rasterize(const layout_t *l, unsigned j, double (*acc)[LAYOUT_COLOURS], int *row)
{
    double per_row = l->extent / HEAP_H, credit[LAYOUT_COLOURS + 1] = {0};
    accumulate(l, j, acc);
    for (int r = 0; r < HEAP_H; r++) {
        double share[LAYOUT_COLOURS + 1], outside = 1; /* background: what colours leave */
        int best = LAYOUT_COLOURS, colours = 0;
        for (int c = 0; c < LAYOUT_COLOURS; c++) {
            share[c] = acc[r][c] / per_row;
            outside -= share[c];
            colours += share[c] > 1e-9;
        }
        share[LAYOUT_COLOURS] = outside > 1e-9 ? outside : 0;
        colours += share[LAYOUT_COLOURS] > 0;
        for (int c = 0; c <= LAYOUT_COLOURS; c++)
            credit[c] = colours > 1 ? credit[c] + share[c] : share[c];
        for (int c = 0; c < LAYOUT_COLOURS; c++)
            best = credit[c] > credit[best] ? c : best;
        credit[best] -= 1;
        row[r] = best == LAYOUT_COLOURS ? -1 : best;
    }
}

/* The runs of equal rows of a column; returns how many. */
static size_t runs_of(const int *row, unsigned j, run_t *runs)
{
    size_t n = 0;
    for (int r = 0; r < HEAP_H; r++) {
        if (row[r] < 0)
            continue;
        if (n && runs[n - 1].r1 == r && runs[n - 1].colour == row[r])
            runs[n - 1].r1 = r + 1;
        else
            runs[n++] = (run_t){r, r + 1, row[r], j};
    }
    return n;
}

/* The rects of one colour, written together in one group so none repeats its class. */
typedef struct rects {
    uint16_t (*xywh)[4];
    size_t   n, cap;
} rects_t;

static bool put_rect(rects_t *all, const run_t *u, unsigned end)
{
    rects_t *v = &all[u->colour];
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        void *q = realloc(v->xywh, cap * sizeof *v->xywh);
        if (!q)
            return false;
        v->xywh = q;
        v->cap = cap;
    }
    uint16_t *r = v->xywh[v->n++];
    r[0] = (uint16_t)u->start;
    r[1] = (uint16_t)u->r0;
    r[2] = (uint16_t)(end - u->start);
    r[3] = (uint16_t)(u->r1 - u->r0);
    return true;
}

/* Every column's runs; a run equal to an open one of the column before continues its rect,
 * the open runs it passes over end theirs (both lists are sorted by row). */
static bool collect_rects(const layout_t *l, rects_t *all)
{
    double (*acc)[LAYOUT_COLOURS] = malloc(sizeof(double[HEAP_H][LAYOUT_COLOURS]));
    int *row = malloc(HEAP_H * sizeof *row);
    run_t *open = malloc(2 * HEAP_H * sizeof *open), *next = open ? open + HEAP_H : NULL;
    bool ok = acc && row && open;
    size_t nopen = 0;
    for (unsigned j = 0; ok && j <= l->ncols; j++) {
        size_t nnext = 0, o = 0;
        if (j < l->ncols) {
            rasterize(l, j, acc, row);
            nnext = runs_of(row, j, next);
        }
        for (size_t i = 0; i < nnext; i++) {
            while (ok && o < nopen && open[o].r0 < next[i].r0)
                ok = put_rect(all, &open[o++], j);
            if (o < nopen && open[o].r0 == next[i].r0 && open[o].r1 == next[i].r1 &&
                open[o].colour == next[i].colour)
                next[i].start = open[o++].start;
        }
        while (ok && o < nopen)
            ok = put_rect(all, &open[o++], j);
        memcpy(open, next, nnext * sizeof *next);
        nopen = nnext;
    }
    free(acc), free(row), free(open);
    return ok;
}

/* The heap plot's rects, in column and row units: x scaled by the column width, y flipped
 * so that row 0, the lowest address, is at the bottom. */
static bool draw_columns(FILE *f, const layout_t *l)
{
    rects_t all[LAYOUT_COLOURS] = {{0}};
    bool ok = collect_rects(l, all);
    fprintf(f, "<g transform=\"translate(%d %d) scale(%.6f -1)\" shape-rendering=\"crispEdges\">\n",
            PLOT_X, HEAP_Y + HEAP_H, (double)PLOT_W / (l->ncols ? l->ncols : 1));
    for (int c = 0; c < LAYOUT_COLOURS; c++) {
        if (ok && all[c].n)
            fprintf(f, "<g class=\"%s\">\n", colour_class[c]);
        for (size_t i = 0; ok && i < all[c].n; i++) {
            const uint16_t *r = all[c].xywh[i];
            fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"/>\n", r[0], r[1], r[2],
                    r[3]);
        }
        if (ok && all[c].n)
            fputs("</g>\n", f);
        free(all[c].xywh);
    }
    fputs("</g>\n", f);
    return ok;
}

/* Dashed lines where the lanes meet, and the names of the parts at the right edge. */
static void draw_lanes(FILE *f, const layout_t *l, const svg_scale_t *y)
{
    double top = svg_at(y, (double)l->region), last = svg_at(y, 0) + 3;
    if (l->region)
        svg_text(f, PLOT_X + PLOT_W + 6, (svg_at(y, 0) + top) / 2 + 4, "class=\"lane\"", "region");
    for (size_t i = 0; i < l->nlanes; i++) {
        double p = svg_at(y, (double)l->lanes[i].base);
        if (last - p >= 3 && l->lanes[i].base > 0) /* closer lines would bury thin lanes */
            fprintf(f, "<path class=\"sep\" d=\"M%d %.1fh%d\"/>\n", PLOT_X, p, PLOT_W);
        last = last - p >= 3 ? p : last;
    }
    if (l->nlanes)
        svg_text(f, PLOT_X + PLOT_W + 6, (top + HEAP_Y) / 2 + 4, "class=\"lane\"", "mappings");
}

/* A y axis title, turned to run up the axis. */
static void side_title(FILE *f, double x, double y, const char *title)
{
    char attrs[96];
    snprintf(attrs, sizeof attrs, "text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\"", x,
             y);
    svg_text(f, x, y, attrs, "%s", title);
}

/* ---- The curves ---- */

enum series { FOOTPRINT, LIVE, UTILIZATION };

static double value_of(const layout_bucket_t *u, enum series s)
{
    switch (s) {
    case FOOTPRINT:
        return (double)u->foot;
    case LIVE:
        return (double)u->live;
    case UTILIZATION:
        break;
    }
    return u->n ? u->util / u->n : 0;
}

/* One series as a path through the middle of each bucket (closed down to 0: an area). */
static void series(FILE *f, const layout_t *l, const char *klass, const svg_scale_t *x,
                   const svg_scale_t *y, enum series s, bool area)
{
    fprintf(f, "<path class=\"%s\" d=\"", klass);
    double first = 0, last = 0;
    for (unsigned b = 0; b < l->nbuckets; b++) {
        last = svg_at(x, ((double)b + 0.5) * l->trace->num_ops / l->nbuckets);
        first = b ? first : last;
        fprintf(f, "%s%.1f %.1f", b ? "L" : "M", last, svg_at(y, value_of(&l->buckets[b], s)));
    }
    if (area && l->nbuckets)
        fprintf(f, "L%.1f %.1fH%.1fZ", last, svg_at(y, 0), first);
    fputs("\"/>\n", f);
}

static void draw_curves(FILE *f, const layout_t *l, const svg_scale_t *x)
{
    double top = l->peak_footprint ? (double)l->peak_footprint * 1.04 : 1; /* line below frame */
    svg_scale_t bytes = {0, top, CURVE_Y + CURVE_H, CURVE_Y};
    svg_scale_t share = {0, 1, CURVE_Y + CURVE_H, CURVE_Y};
    fprintf(f, "<rect class=\"bg\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", PLOT_X,
            CURVE_Y, PLOT_W, CURVE_H);
    svg_axis(f, &bytes, SVG_LEFT, PLOT_X, PLOT_X + PLOT_W, SVG_BYTES, 5);
    svg_axis(f, &share, SVG_RIGHT, PLOT_X + PLOT_W, PLOT_X + PLOT_W, SVG_PERCENT, 4);
    svg_axis(f, x, SVG_BOTTOM, CURVE_Y + CURVE_H, CURVE_Y + CURVE_H, SVG_COUNT, 8);
    series(f, l, "area", x, &bytes, LIVE, true);
    series(f, l, "ll", x, &bytes, LIVE, false);
    series(f, l, "lf", x, &bytes, FOOTPRINT, false);
    series(f, l, "lu", x, &share, UTILIZATION, false);
    side_title(f, 20, CURVE_Y + CURVE_H / 2.0, "bytes");
    svg_text(f, PLOT_X + PLOT_W / 2.0, CURVE_Y + CURVE_H + 36, "text-anchor=\"middle\"",
             "operation");
}

/* ---- The picture ---- */

static void draw_title(FILE *f, const layout_t *l)
{
    char live[32], foot[32];
    svg_bytes(live, sizeof live, (double)l->peak_live);
    svg_bytes(foot, sizeof foot, (double)l->peak_footprint);
    double util = l->peak_footprint ? 100.0 * (double)l->peak_live / (double)l->peak_footprint : 0;
    svg_text(f, PLOT_X, 28, "class=\"t\"", "%s on %s", l->trace->name, l->policy->name);
    svg_text(f, PLOT_X, 50, "class=\"s\"",
             "%u ops, %u layouts, align %zu  \u00b7  peak live payload %s  \u00b7  peak footprint "
             "%s  \u00b7  utilization %.1f%%",
             l->trace->num_ops, l->ncols, l->align, live, foot, util);
}

/* Two rows: the colours of the heap (dead ones only where there are some), then the
 * background and the curves. */
static void draw_legend(FILE *f, const layout_t *l)
{
    bool dead = false;
    for (size_t i = 0; i < l->ncells && !dead; i++)
        dead = l->cells[i].colour == LAYOUT_DEAD;
    double x = PLOT_X;
    for (int c = 0; c < LAYOUT_DEAD; c++)
        x = svg_legend(f, x, LEGEND_Y, colour_class[c], false, colour_label[c]);
    x = PLOT_X;
    if (dead)
        x = svg_legend(f, x, LEGEND_Y + 20, colour_class[LAYOUT_DEAD], false,
                       colour_label[LAYOUT_DEAD]);
    x = svg_legend(f, x, LEGEND_Y + 20, "bg", false, "not in the footprint");
    x = svg_legend(f, x + 16, LEGEND_Y + 20, "lf", true, "footprint");
    x = svg_legend(f, x, LEGEND_Y + 20, "ll", true, "live payload");
    svg_legend(f, x, LEGEND_Y + 20, "lu", true, "utilization (right axis)");
}

static bool draw(FILE *f, const layout_t *l, bool fragment)
{
    svg_scale_t x = {0, l->trace->num_ops ? l->trace->num_ops : 1, PLOT_X, PLOT_X + PLOT_W};
    svg_scale_t y = {0, l->extent, HEAP_Y + HEAP_H, HEAP_Y};
    svg_begin(f, WIDTH, HEIGHT, css, fragment);
    draw_title(f, l);
    fprintf(f, "<rect class=\"bg\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", PLOT_X,
            HEAP_Y, PLOT_W, HEAP_H);
    if (!draw_columns(f, l))
        return false;
    draw_lanes(f, l, &y);
    svg_axis(f, &y, SVG_LEFT, PLOT_X, PLOT_X, SVG_BYTES, 8);
    svg_axis(f, &x, SVG_BOTTOM, HEAP_Y + HEAP_H, HEAP_Y + HEAP_H, SVG_COUNT, 8);
    side_title(f, 20, HEAP_Y + HEAP_H / 2.0, "heap address (region, then mappings)");
    draw_curves(f, l, &x);
    draw_legend(f, l);
    svg_end(f);
    return true;
}

int map_render(FILE *out, const trace_t *t, const lab_policy_t *p, const map_options_t *opt)
{
    layout_options_t lo = {opt->align, opt->columns, PLOT_W, HEAP_H, opt->check};
    layout_t l;
    int status = layout_build(&l, t, p, &lo);
    lab_report_t r = {0};
    if (status == 0 && opt->check && layout_check(&l, &r) != 0) {
        fprintf(stderr, "heapkit: map: %s on %s: the layout is inconsistent: %s\n", t->name,
                p->name, r.first);
        status = 1;
    }
    if (status == 0 && !draw(out, &l, opt->fragment)) {
        fputs("heapkit: map: out of memory\n", stderr);
        status = 2;
    }
    layout_free(&l);
    return status;
}

/* ---- The command ---- */

static const char map_usage[] =
    "usage: heapkit map [OPTIONS] TRACE\n"
    "\n"
    "Replays TRACE (.rep, plain or gzip-compressed) on one policy and draws its heap over\n"
    "time as an SVG: x = operation, y = heap address (the region, then every mapping, in\n"
    "address order), one colour per kind of byte; under it footprint, live payload and\n"
    "utilization.\n"
    "\n"
    "options:\n"
    "  --policy NAME      the policy to draw (default hkfit; `heapkit policies` lists them;\n"
    "                     libc cannot be drawn: the system heap cannot be walked)\n"
    "  --align N          payload alignment: 8 or 16 (default 16)\n"
    "  --columns N        layouts sampled at evenly spaced ops, 1-4000 (default 600)\n"
    "  --check            verify the walk contract at every layout, and the layouts\n"
    "  -o, --output FILE  where the SVG goes (default: standard output)\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 drawn, 1 the policy failed an operation, 2 bad usage or input.\n";

typedef struct map_args {
    map_options_t opt;
    const char   *policy;
    const char   *output;
} map_args_t;

#define map_usage_error(...) cli_usage_error("map", __VA_ARGS__)


/* Returns -1 when the arguments are fine, else an exit status (0 after --help). */
static int parse_map_args(int argc, char **argv, map_args_t *a)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'}, {"align", required_argument, NULL, 'a'},
        {"columns", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    unsigned long v;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(map_usage, stdout);
            return 0;
        } else if (c == ':') {
            return map_usage_error("option '%s' needs a value", argv[optind - 1]);
        } else if (c == '?') {
            return map_usage_error("unknown option '%s'", argv[optind - 1]);
        } else if (c == 'p') {
            a->policy = optarg;
        } else if (c == 'o') {
            a->output = optarg;
        } else if (c == 'k') {
            a->opt.check = true;
        } else if (c == 'a') {
            if (!cli_number(optarg, 8, 16, &v) || (v != 8 && v != 16))
                return map_usage_error("--align must be 8 or 16, not '%s'", optarg);
            a->opt.align = v;
        } else if (!cli_number(optarg, 1, MAP_MAX_COLUMNS, &v)) {
            return map_usage_error("--columns needs a number from 1 to %d, not '%s'",
                                   MAP_MAX_COLUMNS, optarg);
        } else {
            a->opt.columns = (unsigned)v;
        }
    }
    if (optind == argc)
        return map_usage_error("map needs a trace file");
    if (optind + 1 < argc)
        return map_usage_error("map draws one trace, not %d", argc - optind);
    return -1;
}

/* Renders into the output file, which is removed again when the picture fails. */
static int render_to(const char *path, const trace_t *t, const lab_policy_t *p,
                     const map_options_t *opt)
{
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "heapkit: cannot open %s for writing: %s\n", path, strerror(errno));
        return 2;
    }
    int status = map_render(out, t, p, opt);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "heapkit: cannot write %s: %s\n", path ? path : "the SVG", strerror(errno));
        status = status ? status : 2;
    }
    if (path && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "heapkit: cannot write %s: %s\n", path, strerror(errno));
        status = 2;
    }
    if (path && status != 0)
        remove(path);
    return status;
}

int map_main(int argc, char **argv)
{
    map_args_t a = {.opt = {.align = 16, .columns = MAP_DEFAULT_COLUMNS}, .policy = "hkfit"};
    int status = parse_map_args(argc, argv, &a);
    if (status >= 0)
        return status;
    const lab_policy_t *p = lab_policy_find(a.policy);
    if (!p)
        return map_usage_error("unknown policy '%s' (`heapkit policies` lists them)", a.policy);
    if (!p->walk) {
        fprintf(stderr, "heapkit: map: policy '%s' has no walk: the system heap cannot be drawn\n",
                p->name);
        return 2;
    }
    trace_t t;
    if (trace_load(argv[optind], &t) < 0)
        return 2;
    status = render_to(a.output, &t, p, &a.opt);
    trace_free(&t);
    return status;
}
