/*
 * htmlreport.c -- `heapkit report` (htmlreport.h): options, the replays, the curves, the
 *                 maps, and the page.
 *
 * Design:      The command is a pipeline over a page (htmlpage.h): each phase adds to
 *              it what it measured (rows, curves, maps, call sites), and the page is
 *              written once at the end. The rows of a trace are the lab policies'
 *              (replay_run) and, with --peer, the real allocators' (peerrun.h, the same
 *              rows `heapkit replay --peer` prints), after them. Which maps to draw, and
 *              drawing them, is htmlmaps.c's.
 * Exit status: see htmlreport.h.
 */
#include "htmlreport.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "htmlmaps.h"
#include "htmlpage.h"
#include "peerrun.h"
#include "peers.h"
#include "map.h"
#include "policy.h"
#include "progress.h"
#include "replay.h"
#include "timeline.h"
#include "trace.h"
#include "verdict.h"

enum { EXIT_OK = 0, EXIT_POLICY_FAILED = 1, EXIT_BAD_INPUT = 2 };

#define DEFAULT_TIMING_RUNS 3
#define DEFAULT_COLUMNS     400
#define CURVE_BUCKETS       560 /* points per curve: about one per pixel of plot */
#define CURVES_LEAST        5   /* curves for the least footprints, then the picks */
#define MAX_CURVES          9

/* ---- Options ---- */

static const char report_usage[] =
    "usage: heapkit report [OPTIONS] TRACE...\n"
    "\n"
    "Replays each TRACE (CS:APP .rep or heapkit-trace .hkt, plain or gzip-compressed) on\n"
    "the lab's policies, checked and timed as `heapkit replay` does, and writes one\n"
    "self-contained HTML page: per trace, the program and how it ran, a verdict in words\n"
    "(which policy wastes least, which is fastest, which is the best trade), the table of\n"
    "every policy, footprint and utilization over time, heap maps, and for a trace\n"
    "recorded with --callsites the call sites that allocate most. See docs/REPORT.md.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  where the page goes (default: standard output)\n"
    "  --policy LIST      policies of the table, separated by commas, or `all` (default all)\n"
    "  --maps LIST        policies to draw, or `none` (default: the one that wastes least,\n"
    "                     the fastest, hkfit and implicit-first)\n"
    "  --columns N        layouts per map, 10-4000 (default 400; fewer when a map would\n"
    "                     pass 1 MiB)\n"
    "  --align N          payload alignment to configure and check: 8 or 16 (default 16)\n"
    "  --check-every N    the policy's heap check every N ops (default 0: at the end only)\n"
    "  --repeat N         timing runs per trace and policy, 0-99 (default 3; 0: none)\n"
    "  --peer LIST        also play each trace on real allocators (glibc, heapkit,\n"
    "                     jemalloc, tcmalloc, mimalloc, or `all` installed), as\n"
    "                     `heapkit replay --peer` does: a table and verdict of their own\n"
    "  --threads MODE     peers: `one` (default) or `recorded` (the recorded threads)\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 all passed, 1 some policy failed (the page is still written), 2 bad\n"
    "usage, bad input, or an output that cannot be written.\n";

typedef struct args {
    replay_options_t opt;
    const char *policy_list, *maps_list, *output, *peer_list;
    peer_set_t peers; /* real allocators (peers.h), none unless --peer */
    unsigned columns;
    const lab_policy_t **policies, **maps;
    size_t npolicies, nmaps;
} args_t;

#define usage_error(...) cli_usage_error("report", __VA_ARGS__)

/* The policies of a comma list, `all` (every one) or, when none_ok, `none` (no policy).
 * Returns 0 or an exit status (after the message). */
static int resolve(const char *list, bool none_ok, const char *what, const lab_policy_t ***out,
                   size_t *n)
{
    size_t names = 1, registered = 0;
    while (lab_policies[registered])
        registered++;
    for (const char *s = list; *s; s++)
        names += *s == ',';
    *n = 0;
    *out = malloc((names > registered ? names : registered) * sizeof **out);
    char *copy = strdup(list), *rest = copy;
    if (!*out || !copy) {
        free(copy);
        fputs("heapkit: out of memory\n", stderr);
        return EXIT_BAD_INPUT;
    }
    if (strcmp(list, "all") == 0 || (none_ok && strcmp(list, "none") == 0)) {
        for (size_t i = 0; list[0] == 'a' && i < registered; i++)
            (*out)[(*n)++] = lab_policies[i];
        free(copy);
        return 0;
    }
    for (char *name; (name = strsep(&rest, ",")) != NULL;) {
        const lab_policy_t *p = lab_policy_find(name);
        if (!p) {
            usage_error("unknown policy '%s' in %s (`heapkit policies` lists them)", name, what);
            free(copy); /* name points into it */
            return EXIT_BAD_INPUT;
        }
        (*out)[(*n)++] = p;
    }
    free(copy);
    return 0;
}

static int parse_option(args_t *a, int c, const char *arg)
{
    unsigned long v;
    switch (c) {
    case 'o':
        a->output = arg;
        return 0;
    case 'p':
        a->policy_list = arg;
        return 0;
    case 'm':
        a->maps_list = arg;
        return 0;
    case 'n':
        if (!cli_number(arg, 10, MAP_MAX_COLUMNS, &v))
            return usage_error("--columns needs a number from 10 to %d, not '%s'", MAP_MAX_COLUMNS,
                               arg);
        a->columns = (unsigned)v;
        return 0;
    case 'a':
        if (!cli_number(arg, 8, 16, &v) || (v != 8 && v != 16))
            return usage_error("--align must be 8 or 16, not '%s'", arg);
        a->opt.align = v;
        return 0;
    case 'c':
        if (!cli_number(arg, 0, UINT32_MAX, &v))
            return usage_error("--check-every needs a number of ops, not '%s'", arg);
        a->opt.check_every = v;
        return 0;
    case 'r':
        if (!cli_number(arg, 0, REPLAY_MAX_TIMING_RUNS, &v))
            return usage_error("--repeat needs a number from 0 to 99, not '%s'", arg);
        a->opt.timing_runs = (unsigned)v;
        return 0;
    case 'P':
        a->peer_list = arg;
        return 0;
    case 't':
        if (strcmp(arg, "one") != 0 && strcmp(arg, "recorded") != 0)
            return usage_error("--threads must be one or recorded, not '%s'", arg);
        a->opt.threads_recorded = strcmp(arg, "recorded") == 0;
        return 0;
    }
    return EXIT_BAD_INPUT;
}

/* Returns -1 when the arguments are fine, else an exit status (0 after --help). */
static int parse_args(int argc, char **argv, args_t *a)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"policy", required_argument, NULL, 'p'},
                                             {"maps", required_argument, NULL, 'm'},
                                             {"columns", required_argument, NULL, 'n'},
                                             {"align", required_argument, NULL, 'a'},
                                             {"check-every", required_argument, NULL, 'c'},
                                             {"repeat", required_argument, NULL, 'r'},
                                             {"peer", required_argument, NULL, 'P'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c, status;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(report_usage, stdout);
            return EXIT_OK;
        }
        if (c == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        if (c == '?')
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if ((status = parse_option(a, c, optarg)) != 0)
            return status;
    }
    if (optind == argc)
        return usage_error("report needs at least one trace file");
    if ((status = resolve(a->policy_list, false, "--policy", &a->policies, &a->npolicies)))
        return status;
    if (a->maps_list && (status = resolve(a->maps_list, true, "--maps", &a->maps, &a->nmaps)))
        return status;
    if (a->peer_list && (status = peers_select(a->peer_list, &a->peers)))
        return status;
    return -1;
}

/* ---- The run ---- */

typedef struct report {
    const args_t *a;
    trace_t *traces;
    size_t ntraces;
    htmlpage_t page;
    progress_t progress; /* on stderr, when it is a terminal */
    bool failed; /* some row failed */
} report_t;

static uint32_t largest_span(const report_t *r)
{
    uint32_t span = 0;
    for (size_t i = 0; i < r->ntraces; i++)
        span = r->traces[i].id_span > span ? r->traces[i].id_span : span;
    return span;
}

/* Phase 1: every (trace, policy), all bookkeeping allocated before the first heap opens;
 * then every (trace, peer) through the player (peerrun.h), as `heapkit replay` does. The
 * rows of trace t: its policies', then its peers', in table order. */
static int run_replays(report_t *r)
{
    size_t np = r->a->npolicies, stride = np + r->a->peers.count, n = r->ntraces * stride;
    replay_result_t *results = calloc(n ? n : 1, sizeof *results);
    replay_scratch_t scratch;
    if (!results || replay_scratch_init(&scratch, largest_span(r)) < 0) {
        free(results);
        return -1;
    }
    for (size_t t = 0; t < r->ntraces; t++)
        for (size_t p = 0; p < np; p++) {
            progress_say(&r->progress, "%s: replay %zu/%zu: %s", r->traces[t].name, p + 1, np,
                     r->a->policies[p]->name);
            replay_run(&r->traces[t], r->a->policies[p], &r->a->opt, &scratch,
                       &results[t * stride + p]);
        }
    replay_scratch_fini(&scratch);
    int status = 0;
    if (r->a->peers.count) {
        progress_say(&r->progress, "playing the traces on %zu real allocators", r->a->peers.count);
        if (peerrun_all(r->traces, r->ntraces, &r->a->peers, &r->a->opt, results, stride, np))
            status = -1;
    }
    for (size_t i = 0; i < n; i++)
        r->failed |= !results[i].ok;
    for (size_t t = 0; t < r->ntraces && status == 0; t++)
        status = htmlpage_add_rows(&r->page, t, &results[t * stride], stride);
    free(results);
    return status;
}

/* ---- Phase 2: curves ---- */

static int by_footprint(const void *x, const void *y)
{
    const replay_result_t *a = *(const replay_result_t *const *)x;
    const replay_result_t *b = *(const replay_result_t *const *)y;
    if (a->peak_footprint != b->peak_footprint)
        return a->peak_footprint < b->peak_footprint ? -1 : 1;
    return a < b ? -1 : a > b; /* the row given first */
}

/* The rows worth a curve, least footprint first: the CURVES_LEAST smallest footprints,
 * then the verdict's picks, hkfit and libc. Returns how many (<= MAX_CURVES). */
static size_t choose_curves(const htmlpage_trace_t *s, const replay_result_t **out)
{
    verdict_t v;
    verdict_pick(s->rows, htmlpage_lab_rows(s), &v);
    const replay_result_t *extra[] = {v.fastest, v.trade, htmlpage_find_row(s, "hkfit"),
                                      htmlpage_find_row(s, "libc")};
    const replay_result_t **ok = malloc((s->nrows ? s->nrows : 1) * sizeof *ok);
    size_t nok = 0, n = 0;
    if (!ok)
        return 0;
    for (size_t i = 0; i < s->nrows; i++)
        if (htmlpage_lab_policy(&s->rows[i]) && s->rows[i].peak_footprint > 0)
            ok[nok++] = &s->rows[i];
    qsort(ok, nok, sizeof *ok, by_footprint);
    for (size_t i = 0; i < nok && n < MAX_CURVES; i++) {
        bool wanted = i < CURVES_LEAST;
        for (size_t k = 0; k < sizeof extra / sizeof *extra; k++)
            wanted |= extra[k] == ok[i];
        if (wanted)
            out[n++] = ok[i];
    }
    free(ok);
    return n;
}

static int run_curves(report_t *r)
{
    timeline_scratch_t sc;
    timeline_point_t *points = malloc(CURVE_BUCKETS * sizeof *points);
    if (!points || timeline_scratch_init(&sc, largest_span(r), CURVE_BUCKETS) < 0) {
        free(points);
        return -1;
    }
    int status = 0;
    for (size_t t = 0; t < r->ntraces && status == 0; t++) {
        const htmlpage_trace_t *s = &r->page.traces[t];
        const replay_result_t *picks[MAX_CURVES];
        size_t n = choose_curves(s, picks);
        unsigned nb = timeline_buckets(s->trace->num_ops, CURVE_BUCKETS);
        for (size_t i = 0; i < n && status == 0; i++) {
            char why[160], note[256];
            const lab_policy_t *p = picks[i]->policy;
            progress_say(&r->progress, "%s: curve %zu/%zu: %s", s->trace->name, i + 1, n, p->name);
            if (timeline_measure(s->trace, p, r->a->opt.align, CURVE_BUCKETS, &sc, points, why,
                                 sizeof why) == 0) {
                status = htmlpage_add_curve(&r->page, t, p->name, points, nb);
                continue;
            }
            snprintf(note, sizeof note, "No curve for %s: %s.", p->name, why);
            status = htmlpage_note_curves(&r->page, t, note);
        }
    }
    timeline_scratch_fini(&sc);
    free(points);
    return status;
}

/* ---- Phase 3: maps (htmlmaps.h) ---- */

static void map_progress(void *ctx, const trace_t *t, size_t i, size_t n, const char *policy)
{
    progress_say(&((report_t *)ctx)->progress, "%s: map %zu/%zu: %s", t->name, i + 1, n, policy);
}

static int run_maps(report_t *r)
{
    htmlmaps_options_t o = {r->a->opt.align, r->a->columns, r->a->maps_list ? r->a->maps : NULL,
                            r->a->nmaps,     map_progress,  r};
    int status = 0;
    for (size_t t = 0; t < r->ntraces && status == 0; t++)
        status = htmlmaps_add(&r->page, t, &o);
    return status;
}

/* ---- Phase 4 and the command ---- */

static int count_sites(report_t *r)
{
    for (size_t t = 0; t < r->ntraces; t++)
        if (htmlpage_count_sites(&r->page, t) < 0)
            return -1;
    return 0;
}

/* Runs every phase and writes the page to out. Returns an exit status. */
static int build(report_t *r, FILE *out, const char *path)
{
    int status = run_replays(r);
    if (status == 0)
        status = run_curves(r);
    if (status == 0)
        status = run_maps(r);
    if (status == 0)
        status = count_sites(r);
    progress_clear(&r->progress);
    if (status < 0) {
        fputs("heapkit: out of memory for the report\n", stderr);
        return EXIT_BAD_INPUT;
    }
    if (htmlpage_write(out, &r->page) < 0) {
        fprintf(stderr, "heapkit: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    return r->failed ? EXIT_POLICY_FAILED : EXIT_OK;
}

/* Loads every trace (reporting each bad one), opens the output, builds the page. */
static int run(const args_t *a, char **paths, size_t ntraces)
{
    report_t r = {.a = a, .ntraces = ntraces};
    progress_init(&r.progress, "heapkit report", false);
    int status = EXIT_OK;
    r.traces = calloc(ntraces, sizeof *r.traces);
    if (!r.traces || htmlpage_init(&r.page, &a->opt, r.traces, ntraces) < 0) {
        free(r.traces);
        fputs("heapkit: out of memory\n", stderr);
        return EXIT_BAD_INPUT;
    }
    for (size_t i = 0; i < ntraces; i++)
        if (trace_load(paths[i], &r.traces[i]) < 0)
            status = EXIT_BAD_INPUT;
    FILE *out = status ? NULL : a->output ? fopen(a->output, "w") : stdout;
    const char *name = a->output ? a->output : "the page";
    if (!status && !out) {
        fprintf(stderr, "heapkit: cannot open %s for writing: %s\n", a->output, strerror(errno));
        status = EXIT_BAD_INPUT;
    }
    if (out)
        status = build(&r, out, name);
    if (out && a->output && fclose(out) != 0 && status != EXIT_BAD_INPUT) {
        fprintf(stderr, "heapkit: cannot write %s: %s\n", a->output, strerror(errno));
        status = EXIT_BAD_INPUT;
    }
    if (out && a->output && status == EXIT_BAD_INPUT)
        remove(a->output); /* no half-written page */
    htmlpage_free(&r.page);
    for (size_t i = 0; i < ntraces; i++)
        trace_free(&r.traces[i]);
    free(r.traces);
    return status;
}

int htmlreport_main(int argc, char **argv)
{
    args_t a = {
        .opt = {.align = 16, .check_every = 0, .timing_runs = DEFAULT_TIMING_RUNS},
        .policy_list = "all",
        .columns = DEFAULT_COLUMNS,
    };
    int status = parse_args(argc, argv, &a);
    if (status < 0)
        status = run(&a, argv + optind, (size_t)(argc - optind));
    free(a.policies);
    free(a.maps);
    peers_free(&a.peers);
    return status;
}
