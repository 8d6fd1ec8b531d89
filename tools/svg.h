/*
 * svg.h -- the small part of SVG the tools draw with: a document, escaped text, linear
 *          scales, axes with "nice" ticks, byte labels, legend swatches.
 *
 * Design:      Hand-written XML through stdio, no library. A chart is a few scales
 *              (value -> pixel) and the axes drawn from them; everything else (what is
 *              plotted) belongs to the tool. Styling is CSS classes in one <style> block
 *              that svg_begin writes from the caller's rules, so the elements stay short
 *              and a page embedding several charts can restyle them. Every string that
 *              reaches the file from outside (trace names, policy names) goes through
 *              svg_escape. `heapkit map` draws with it; `heapkit report` is meant to.
 * Units:       pixels are SVG user units; byte values are doubles (exact up to 2^53).
 */
#ifndef HK_TOOLS_SVG_H
#define HK_TOOLS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A linear map from values [v0, v1] to pixels [p0, p1] (p1 < p0 for an upward y axis). */
typedef struct svg_scale {
    double v0, v1;
    double p0, p1;
} svg_scale_t;

static inline double svg_at(const svg_scale_t *s, double v)
{
    double span = s->v1 - s->v0;
    return s->p0 + (span > 0 ? (v - s->v0) / span : 0) * (s->p1 - s->p0);
}

/* How an axis labels its values. */
typedef enum svg_format {
    SVG_COUNT,   /* whole numbers: 0, 2000, 4000 */
    SVG_BYTES,   /* 0, 256 KiB, 512 KiB: the unit chosen from the axis maximum */
    SVG_PERCENT, /* 0%, 50%, 100% of a value in [0, 1] */
} svg_format_t;

typedef enum svg_side { SVG_BOTTOM, SVG_LEFT, SVG_RIGHT } svg_side_t;

/* The opening of a document of width x height pixels with `css` as its style sheet.
 * fragment: no XML declaration, for an <svg> inlined in an HTML page. */
void svg_begin(FILE *f, int width, int height, const char *css, bool fragment);
void svg_end(FILE *f);

/* Writes s with &, <, >, " and ' escaped (as text or inside a quoted attribute). */
void svg_escape(FILE *f, const char *s);
/* <text x y attrs>formatted, escaped</text>; attrs is raw (e.g. "class=\"t\""), or NULL. */
void svg_text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A tick step of 1, 2 or 5 times a power of ten (of 1024^k for bytes, scaled in that unit)
 * giving at most `most` steps from 0 to max; max <= 0 gives 1. */
double svg_tick_step(double max, int most, svg_format_t fmt);
/* The label of value v on an axis whose largest value is max ("1.5 MiB", "40%", "2000"). */
void svg_label(char *buf, size_t len, double v, double max, svg_format_t fmt);
/* A value in bytes, with the unit that suits it: "812 KiB", "1.02 MiB", "96 B". */
void svg_bytes(char *buf, size_t len, double bytes);

/* An axis along scale s at pixel `at` (the y of a bottom axis, the x of a side axis):
 * the line, a tick and a label at every multiple of svg_tick_step up to s->v1, and, with
 * grid_to != at, grid lines across the plot up to that pixel. */
void svg_axis(FILE *f, const svg_scale_t *s, svg_side_t side, double at, double grid_to,
              svg_format_t fmt, int most_ticks);

/* A legend entry at (x, y): a swatch of class `cls` (a filled square, or with line, a
 * stroked line) and its label. Returns the x where the next entry may start. */
double svg_legend(FILE *f, double x, double y, const char *cls, bool line, const char *label);

#endif
