/*
 * chart.c -- line charts over a trace's operations (chart.h).
 *
 * Design:      Fixed margins around the plot, a 4% headroom above the largest value (a
 *              line at the top would hide under the frame), the axes from svg.h. The
 *              colours are a ten-colour qualitative palette (Tableau 10), distinct in
 *              hue and lightness so neighbouring lines stay apart; the class names
 *              (k0-k9, kref, kbg) are chosen not to meet those of `heapkit map`, whose
 *              style sheet shares the page.
 * Complexity:  O(the points drawn).
 */
#include "chart.h"

#define MARGIN_LEFT   70
#define MARGIN_RIGHT  18
#define MARGIN_TOP    34
#define MARGIN_BOTTOM 44

// clang-format off
const char chart_css[] =
    ".kbg{fill:#fafafa;stroke:#d0d0d0}"
    ".kt{font-size:14px;font-weight:bold;fill:#222}"
    ".kref{fill:#9aa5b1;fill-opacity:.25;stroke:#9aa5b1;stroke-width:1}"
    ".kl{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-opacity:.85}"
    ".kl.ks{stroke-width:2.8;stroke-opacity:1}"
    ".kl:hover{stroke-width:4}"
    ".k0{stroke:#4e79a7;background:#4e79a7}.k1{stroke:#f28e2b;background:#f28e2b}"
    ".k2{stroke:#e15759;background:#e15759}.k3{stroke:#76b7b2;background:#76b7b2}"
    ".k4{stroke:#59a14f;background:#59a14f}.k5{stroke:#edc948;background:#edc948}"
    ".k6{stroke:#b07aa1;background:#b07aa1}.k7{stroke:#ff9da7;background:#ff9da7}"
    ".k8{stroke:#9c755f;background:#9c755f}.k9{stroke:#4b4b4b;background:#4b4b4b}";
// clang-format on

static double largest(const chart_t *c)
{
    double top = 0;
    for (size_t s = 0; s < c->count; s++)
        for (unsigned b = 0; b < c->series[s].n; b++)
            top = c->series[s].y[b] > top ? c->series[s].y[b] : top;
    for (unsigned b = 0; c->reference && b < c->reference->n; b++)
        top = c->reference->y[b] > top ? c->reference->y[b] : top;
    return top > 0 ? top : 1;
}

/* The points of one series; an area is closed down to the x axis. */
static void points(FILE *f, const chart_series_t *s, const svg_scale_t *x, const svg_scale_t *y,
                   double ops, bool area)
{
    double first = 0, last = 0;
    for (unsigned b = 0; b < s->n; b++) {
        last = svg_at(x, ((double)b + 0.5) * ops / s->n);
        first = b ? first : last;
        fprintf(f, "%s%.1f %.1f", b ? "L" : "M", last, svg_at(y, s->y[b]));
    }
    if (area && s->n)
        fprintf(f, "L%.1f %.1fH%.1fZ", last, svg_at(y, 0), first);
}

static void line(FILE *f, const chart_series_t *s, const svg_scale_t *x, const svg_scale_t *y,
                 double ops)
{
    fprintf(f, "<path class=\"kl k%u%s\" d=\"", s->colour % CHART_COLOURS, s->strong ? " ks" : "");
    points(f, s, x, y, ops, false);
    fputs("\"><title>", f);
    svg_escape(f, s->label);
    fputs("</title></path>\n", f);
}

void chart_write(FILE *f, const chart_t *c)
{
    double x0 = MARGIN_LEFT, x1 = c->width - MARGIN_RIGHT;
    double y0 = c->height - MARGIN_BOTTOM, y1 = MARGIN_TOP;
    double top = c->y_max > 0 ? c->y_max : largest(c) * 1.04;
    svg_scale_t x = {0, c->ops > 0 ? c->ops : 1, x0, x1}, y = {0, top, y0, y1};
    svg_begin(f, c->width, c->height, "", true);
    svg_text(f, x0, 20, "class=\"kt\"", "%s", c->title);
    fprintf(f, "<rect class=\"kbg\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>\n", x0,
            y1, x1 - x0, y0 - y1);
    svg_axis(f, &y, SVG_LEFT, x0, x1, c->y_format, 5);
    svg_axis(f, &x, SVG_BOTTOM, y0, y0, SVG_COUNT, 6);
    if (c->reference) {
        fputs("<path class=\"kref\" d=\"", f);
        points(f, c->reference, &x, &y, x.v1, true);
        fputs("\"><title>", f);
        svg_escape(f, c->reference->label);
        fputs("</title></path>\n", f);
    }
    for (int strong = 0; strong < 2; strong++) /* the strong lines on top of the rest */
        for (size_t s = 0; s < c->count; s++)
            if (c->series[s].strong == (strong == 1))
                line(f, &c->series[s], &x, &y, x.v1);
    char attrs[96];
    snprintf(attrs, sizeof attrs, "text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\"",
             (y0 + y1) / 2);
    svg_text(f, 14, (y0 + y1) / 2, attrs, "%s", c->y_title);
    svg_text(f, (x0 + x1) / 2, y0 + 36, "text-anchor=\"middle\"", "operation");
    svg_end(f);
}
