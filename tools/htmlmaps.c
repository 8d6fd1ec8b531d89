/*
 * htmlmaps.c -- the heap maps of a report page (htmlmaps.h): the picks and the pictures.
 *
 * Design:      A pick is a policy and its caption; a policy picked for several reasons
 *              is drawn once, its caption listing them all. A picture is rendered into
 *              memory (open_memstream) and only handed to the page when it is complete
 *              and within the budget, so a failing or oversized map never leaves half an
 *              <svg> in the page.
 */
#include "htmlmaps.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmltable.h"
#include "map.h"
#include "verdict.h"

#define HTMLMAPS_MAX 64 /* picks per trace: every policy, and then some */

typedef struct map_pick {
    const lab_policy_t *p;
    char caption[200];
} map_pick_t;

/* Adds p with its role, or the role to p's caption when p is already picked. */
static void add_pick(map_pick_t *picks, size_t *n, const lab_policy_t *p, const char *role)
{
    for (size_t i = 0; i < *n; i++)
        if (picks[i].p == p) {
            size_t len = strlen(picks[i].caption);
            snprintf(picks[i].caption + len, sizeof picks[i].caption - len, " \u00b7 %s", role);
            return;
        }
    if (*n < HTMLMAPS_MAX) {
        picks[*n].p = p;
        snprintf(picks[*n].caption, sizeof picks[*n].caption, "%s", role);
        (*n)++;
    }
}

static bool is_drawable(const replay_result_t *row)
{
    return row && htmlpage_lab_policy(row) && row->policy->walk;
}

/* The verdict's pick when it can be drawn, else the drawable row that is least (fast:
 * fastest) of those that passed, or NULL. */
static const replay_result_t *best_drawable(const htmlpage_trace_t *s, const replay_result_t *pick,
                                            bool fast)
{
    if (is_drawable(pick))
        return pick;
    const replay_result_t *best = NULL;
    for (size_t i = 0; i < s->nrows; i++) {
        const replay_result_t *row = &s->rows[i];
        if (!is_drawable(row) || (fast && !verdict_is_timed(row)))
            continue;
        if (!best || (fast ? row->ops_per_sec > best->ops_per_sec
                           : row->peak_footprint < best->peak_footprint))
            best = row;
    }
    return best;
}

/* The default picks: least waste, fastest, hkfit, implicit-first (each when it passed). */
static size_t default_maps(const htmlpage_trace_t *s, map_pick_t *picks)
{
    verdict_t v;
    verdict_pick(s->rows, htmlpage_lab_rows(s), &v);
    const replay_result_t *least = best_drawable(s, v.least, false);
    const replay_result_t *fast = best_drawable(s, v.fastest, true);
    char role[160];
    size_t n = 0;
    if (least) {
        snprintf(role, sizeof role, "%s (utilization %.1f%%)",
                 least == v.least ? "wastes least"
                                  : "wastes least of the policies that can be drawn",
                 100.0 * least->utilization);
        add_pick(picks, &n, least->policy, role);
    }
    if (fast) {
        char k[32];
        htmltable_count(k, sizeof k, (uint64_t)(fast->ops_per_sec / 1000.0 + 0.5));
        snprintf(role, sizeof role, "%s (%s Kops/s)",
                 fast == v.fastest ? "fastest" : "fastest of the policies that can be drawn", k);
        add_pick(picks, &n, fast->policy, role);
    }
    const replay_result_t *hkfit = htmlpage_find_row(s, "hkfit"),
                          *first = htmlpage_find_row(s, "implicit-first");
    if (hkfit)
        add_pick(picks, &n, hkfit->policy, "heapkit's own policy");
    if (first)
        add_pick(picks, &n, first->policy, "the textbook's first fit (CS:APP implicit list)");
    return n;
}

/* The SVG of p's map in a malloc'ed string, with as many of the asked-for columns as fit
 * in HTMLMAPS_BUDGET (*used says how many); NULL when the map failed (*status: map_render's). */
static char *render_map(const htmlmaps_options_t *o, const trace_t *t, const lab_policy_t *p,
                        unsigned *used, int *status)
{
    for (unsigned cols = o->columns;;) {
        char *svg = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&svg, &len);
        map_options_t mo = {o->align, cols, false, true};
        *status = m ? map_render(m, t, p, &mo) : 2;
        if (m && fclose(m) != 0)
            *status = 2;
        if (*status == 0 && (len <= HTMLMAPS_BUDGET || cols <= HTMLMAPS_MIN_COLUMNS)) {
            *used = cols < t->num_ops ? cols : t->num_ops;
            return svg;
        }
        free(svg);
        if (*status != 0)
            return NULL;
        cols = cols * 2 / 3 > HTMLMAPS_MIN_COLUMNS ? cols * 2 / 3 : HTMLMAPS_MIN_COLUMNS;
    }
}

/* Draws one pick into the page, or says why it cannot be drawn. */
static int draw_pick(htmlpage_t *pg, size_t t, const htmlmaps_options_t *o, const map_pick_t *pick)
{
    const htmlpage_trace_t *s = &pg->traces[t];
    const replay_result_t *row = NULL;
    for (size_t i = 0; i < s->nrows; i++)
        row = s->rows[i].policy == pick->p ? &s->rows[i] : row;
    char note[200];
    if (!pick->p->walk)
        return htmlpage_add_map(pg, t, pick->p->name, pick->caption, NULL,
                                "Not drawn: this is the system heap, which is not ours to walk.");
    if (row && !row->ok)
        return htmlpage_add_map(pg, t, pick->p->name, pick->caption, NULL,
                                "Not drawn: the policy failed in the replay (see the table).");
    unsigned used = 0, asked = o->columns < s->trace->num_ops ? o->columns : s->trace->num_ops;
    int status;
    char *svg = render_map(o, s->trace, pick->p, &used, &status);
    const char *why = NULL;
    if (!svg) {
        snprintf(note, sizeof note, "Not drawn: %s.",
                 status == 1 ? "the policy failed an operation" : "out of memory");
        why = note;
    } else if (used < asked) {
        snprintf(note, sizeof note, "Drawn with %u layouts instead of %u, to keep the page small.",
                 used, asked);
        why = note;
    }
    return htmlpage_add_map(pg, t, pick->p->name, pick->caption, svg, why);
}

int htmlmaps_add(htmlpage_t *pg, size_t trace, const htmlmaps_options_t *o)
{
    map_pick_t *picks = calloc(HTMLMAPS_MAX, sizeof *picks);
    const htmlpage_trace_t *s = &pg->traces[trace];
    size_t n = 0;
    if (!picks)
        return -1;
    if (!o->chosen)
        n = default_maps(s, picks);
    for (size_t i = 0; o->chosen && i < o->nchosen; i++)
        add_pick(picks, &n, o->chosen[i], "chosen with --maps");
    int status = 0;
    for (size_t i = 0; i < n && status == 0; i++) {
        if (o->progress)
            o->progress(o->ctx, s->trace, i, n, picks[i].p->name);
        status = draw_pick(pg, trace, o, &picks[i]);
    }
    free(picks);
    return status;
}
