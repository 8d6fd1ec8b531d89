/*
 * chart.h -- a line chart of a few series over a trace's operations, as an inline SVG.
 *
 * Design:      x is the operation index (0 .. ops), y a byte or percentage axis from 0;
 *              each series is a polyline through the middle of its buckets (the first
 *              of n buckets covers ops [0, ops / n)), with a <title> so hovering names
 *              it. An optional reference series is drawn first as a filled area (the
 *              live payload under the footprints). Styling is by class only: series i
 *              gets class "k<i>" (its colour, from chart_css), the reference "kref".
 *              The legend is the page's (one legend serves several charts), so a chart
 *              is only the plot. Built on svg.h (scales, axes, escaping).
 */
#ifndef HK_TOOLS_CHART_H
#define HK_TOOLS_CHART_H

#include <stdbool.h>
#include <stdio.h>

#include "svg.h"

#define CHART_COLOURS 10 /* classes k0 .. k9 */

typedef struct chart_series {
    const char *label; /* the hover text */
    const double *y;   /* n values */
    unsigned n;        /* buckets, >= 1 */
    unsigned colour;   /* class k<colour>, < CHART_COLOURS */
    bool strong;       /* a thicker line, drawn over the others (the verdict's picks) */
} chart_series_t;

typedef struct chart {
    int width, height;     /* pixels */
    const char *title;     /* above the plot */
    const char *y_title;   /* along the y axis */
    svg_format_t y_format; /* SVG_BYTES or SVG_PERCENT */
    double y_max;          /* the top of the y axis; <= 0: the largest value */
    double ops;            /* the x axis: 0 .. ops */
    const chart_series_t *series;
    size_t count;
    const chart_series_t *reference; /* drawn as an area behind the lines, or NULL */
} chart_t;

/* The style sheet of every chart (and of the page's legend swatches, same classes). A
 * page writes it once; the charts' own <style> blocks stay empty. */
extern const char chart_css[];

/* Writes c as one <svg> element (no XML declaration: it goes inside an HTML page). */
void chart_write(FILE *f, const chart_t *c);

#endif
