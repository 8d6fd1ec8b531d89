/*
 * svg.c -- the SVG helpers of svg.h: document, escaping, ticks, labels, axes, legend.
 *
 * Design:      see svg.h. Ticks follow the usual 1-2-5 rule on the axis maximum; byte
 *              axes pick one binary unit (B, KiB, MiB, GiB) for the whole axis, so the
 *              labels of one axis compare at a glance. Legend widths are estimated from
 *              the label length (about 6.8 px per character at the 12 px font the
 *              style sheets use): good enough to space entries, and no font metrics.
 * Complexity:  every function O(its output).
 */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define TICK_LEN   5
#define CHAR_WIDTH 6.8 /* average advance of the 12 px label font, a little generous */

/* ---- Document and text ---- */

void svg_begin(FILE *f, int width, int height, const char *css, bool fragment)
{
    if (!fragment)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n<style>%s</style>\n",
            width, height, width, height, css);
}

void svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

void svg_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                fputc(*s, f); /* control characters are not allowed in XML 1.0 */
        }
    }
}

void svg_text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, attrs ? " " : "", attrs ? attrs : "");
    svg_escape(f, buf);
    fputs("</text>\n", f);
}

/* ---- Ticks and labels ---- */

/* 1024^k for the largest k with 1024^k <= max (at most GiB), and its name. */
static double byte_unit(double max, const char **name)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB"};
    double unit = 1;
    int k = 0;
    while (k < 3 && max >= unit * 1024) {
        unit *= 1024;
        k++;
    }
    *name = names[k];
    return unit;
}

double svg_tick_step(double max, int most, svg_format_t fmt)
{
    const char *name;
    double unit = fmt == SVG_BYTES ? byte_unit(max, &name) : 1;
    if (max <= 0 || most < 1)
        return unit;
    double raw = max / unit / most, ten = pow(10, floor(log10(raw)));
    double step = raw <= ten ? ten : raw <= 2 * ten ? 2 * ten : raw <= 5 * ten ? 5 * ten : 10 * ten;
    if (fmt != SVG_PERCENT && unit == 1 && step < 1)
        step = 1; /* a count or a byte is whole */
    return step * unit;
}

void svg_label(char *buf, size_t len, double v, double max, svg_format_t fmt)
{
    const char *name;
    switch (fmt) {
    case SVG_BYTES: {
        double unit = byte_unit(max, &name);
        snprintf(buf, len, v == 0 ? "0" : "%g %s", v / unit, name);
        return;
    }
    case SVG_PERCENT:
        snprintf(buf, len, "%g%%", v * 100);
        return;
    case SVG_COUNT:
        break;
    }
    snprintf(buf, len, "%.0f", v);
}

void svg_bytes(char *buf, size_t len, double bytes)
{
    const char *name;
    double unit = byte_unit(bytes, &name), v = bytes / unit;
    snprintf(buf, len, v >= 100 || unit == 1 ? "%.0f %s" : "%.3g %s", v, name);
}

/* ---- Axes and legend ---- */

void svg_axis(FILE *f, const svg_scale_t *s, svg_side_t side, double at, double grid_to,
              svg_format_t fmt, int most_ticks)
{
    double step = svg_tick_step(s->v1, most_ticks, fmt);
    bool x_axis = side == SVG_BOTTOM;
    double dir = side == SVG_LEFT ? -1 : 1; /* ticks point away from the plot */
    if (x_axis)
        fprintf(f, "<path class=\"ax\" d=\"M%.1f %.1fH%.1f\"/>\n", s->p0, at, s->p1);
    else
        fprintf(f, "<path class=\"ax\" d=\"M%.1f %.1fV%.1f\"/>\n", at, s->p0, s->p1);
    for (int i = 0; i * step <= s->v1 * (1 + 1e-9); i++) {
        double v = i * step, p = svg_at(s, v);
        char label[32];
        svg_label(label, sizeof label, v, s->v1, fmt);
        if (x_axis) {
            if (grid_to != at && v > 0)
                fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fV%.1f\"/>\n", p, at, grid_to);
            fprintf(f, "<path class=\"ax\" d=\"M%.1f %.1fv%d\"/>\n", p, at, TICK_LEN);
            svg_text(f, p, at + TICK_LEN + 12, "text-anchor=\"middle\"", "%s", label);
        } else {
            if (grid_to != at && v > 0)
                fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fH%.1f\"/>\n", at, p, grid_to);
            fprintf(f, "<path class=\"ax\" d=\"M%.1f %.1fh%.0f\"/>\n", at, p, dir * TICK_LEN);
            svg_text(f, at + dir * (TICK_LEN + 3), p + 4,
                     side == SVG_LEFT ? "text-anchor=\"end\"" : NULL, "%s", label);
        }
    }
}

double svg_legend(FILE *f, double x, double y, const char *cls, bool line, const char *label)
{
    if (line)
        fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fh16\"/>\n", cls, x, y - 4);
    else
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\"/>\n", cls,
                x, y - 10);
    svg_text(f, x + 20, y, NULL, "%s", label);
    return x + 20 + CHAR_WIDTH * (double)strlen(label) + 18;
}
