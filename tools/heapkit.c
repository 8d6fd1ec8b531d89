/*
 * heapkit.c -- the `heapkit` command: subcommand dispatch, usage, and the replay command.
 *
 * Design:      main() only dispatches. `replay` parses its options, finds the peers it
 *              is asked for (peers.h), loads and validates every trace before replaying
 *              any (a bad input costs nothing), allocates all bookkeeping before the
 *              first heap is opened (replay.h says why), runs every (trace, policy) pair,
 *              then every (trace, peer) pair (peerrun.h), and prints the report at the end.
 * Exit status: 0 everything passed, 1 some policy failed, 2 bad usage or bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "convert.h"
#include "gen.h"
#include "htmlreport.h"
#include "import.h"
#include "peerrun.h"
#include "peers.h"
#include "record.h"
#include "map.h"
#include "policy.h"
#include "progress.h"
#include "replay.h"
#include "report.h"
#include "trace.h"

enum { EXIT_OK = 0, EXIT_POLICY_FAILED = 1, EXIT_BAD_INPUT = 2 };

#define DEFAULT_TIMING_RUNS 5

/* ---- Usage ---- */

static const char main_usage[] =
    "usage: heapkit COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  policies               list the lab's allocation policies\n"
    "  replay [OPTIONS] TRACE...\n"
    "                         replay allocation traces (CS:APP or recorded) against\n"
    "                         policies or real allocators, check every block, measure\n"
    "                         space and speed\n"
    "  gen [OPTIONS]          write a seeded synthetic trace (heapkit gen --help)\n"
    "  record [-o OUT] [--] CMD [ARGS...]\n"
    "                         run CMD and record every allocation it makes (a trace)\n"
    "  convert IN -o OUT      convert a trace between the CS:APP and heapkit formats\n"
    "  import mtrace LOG -o OUT\n"
    "                         a glibc malloc trace (MALLOC_TRACE) into a heapkit-trace\n"
    "  map [OPTIONS] TRACE    draw one policy's heap over a trace as SVG (heapkit map --help)\n"
    "  report [OPTIONS] TRACE... -o PAGE.html\n"
    "                         which policy fits a program, and why: one HTML page\n"
    "  help                   this text\n"
    "\n"
    "`heapkit replay --help` describes the replay options and columns.\n";

static const char replay_usage[] =
    "usage: heapkit replay [OPTIONS] TRACE...\n"
    "\n"
    "Replays each TRACE (CS:APP .rep or heapkit-trace .hkt, plain or gzip-compressed;\n"
    "see docs/TRACE-FORMAT.md) against each selected lab policy and real allocator\n"
    "(peer), in the order the ops were recorded. Every trace is validated before\n"
    "anything runs.\n"
    "\n"
    "options:\n"
    "  --policy LIST      policy names separated by commas, `all` or `none` (default all,\n"
    "                     or none when --peer is given); `heapkit policies` lists them\n"
    "  --peer LIST        play each trace on real allocators, through their malloc,\n"
    "                     calloc, aligned_alloc, realloc and free: glibc, heapkit,\n"
    "                     jemalloc, tcmalloc, mimalloc (Debian packages libjemalloc2,\n"
    "                     libtcmalloc-minimal4, libmimalloc2.0), separated by commas, or\n"
    "                     `all` (the installed ones); rows are named peer:NAME\n"
    "  --threads MODE     peers: `one` (default) plays every op on one thread in the\n"
    "                     recorded order; `recorded` plays each recorded thread on a\n"
    "                     thread of its own, each op after the previous op on its block\n"
    "  --callgrind        peers: also run each once under valgrind's callgrind and report\n"
    "                     the allocator's instructions per op (instr/op)\n"
    "  --align N          payload alignment to configure and check: 8 or 16 (default 16)\n"
    "  --check-every N    run the policy's heap check every N ops (default 0: only at\n"
    "                     the end, where it always runs)\n"
    "  --repeat N         timing runs per trace and policy, 0-99 (default 5; 0: none);\n"
    "                     for a peer, N player processes (0: one, untimed)\n"
    "  --json, --csv      machine-readable output instead of the table\n"
    "  -h, --help         this text\n"
    "\n"
    "columns: ops; peak-live = max sum of requested sizes of live blocks; footprint =\n"
    "high-water bytes held from the memory source (the system's, for libc); util =\n"
    "peak-live / footprint; int-frag = block bytes - live payload and ext-frag =\n"
    "footprint - block bytes, both when the footprint reached its peak; grow = growth\n"
    "calls (sbrk + map); Kops/s = ops / time per replay in the median timing run (a\n"
    "run replays the trace on fresh heaps, without checks, for at least 5 ms);\n"
    "verdict = ok, or FAIL with the op number and reason.\n"
    "peer rows: footprint = peak resident memory (VmHWM) of the player above its RSS\n"
    "just before the first op, median of the runs; final-rss = RSS at the end above the\n"
    "same baseline; Kops/s from the median wall time; fragmentation and grow unknown;\n"
    "instr/op = the allocator's instructions per op (--callgrind).\n"
    "\n"
    "exit status: 0 all passed, 1 some policy or peer failed, 2 bad usage or bad input\n"
    "(including a named peer that is not installed).\n"
    "environment: HEAPKIT_LIBRARY, HEAPKIT_PLAYER name the heapkit peer's library and\n"
    "the player (default: beside this heapkit, or in ../lib/ and ../lib/heapkit/).\n";

#define usage_error(...) cli_usage_error("replay", __VA_ARGS__)

/* ---- policies ---- */

static int policies_main(void)
{
    for (const lab_policy_t *const *p = lab_policies; *p; p++)
        printf("%-16s %s\n", (*p)->name, (*p)->description);
    return EXIT_OK;
}

/* ---- replay: options ---- */

typedef struct replay_args {
    replay_options_t    opt;
    report_format_t     format;
    const char         *policy_list; /* NULL: not given */
    const char         *peer_list;   /* NULL: no peers */
    peer_set_t          peers;
    const lab_policy_t *const *policies; /* the selection */
    const lab_policy_t **owned;          /* its storage, unless it is lab_policies */
    size_t              policy_count;
} replay_args_t;

/* Resolves a comma list of names (or `all`) into args->policies. Returns 0 or an exit
 * status. */
static int select_policies(replay_args_t *args)
{
    size_t registered = 0;
    while (lab_policies[registered])
        registered++;
    if (!args->policy_list) /* lab policies by default, peers alone when peers are asked */
        args->policy_list = args->peer_list ? "none" : "all";
    if (strcmp(args->policy_list, "none") == 0)
        return 0;
    if (strcmp(args->policy_list, "all") == 0) {
        args->policies = lab_policies;
        args->policy_count = registered;
        return 0;
    }
    size_t names = 1;
    for (const char *s = args->policy_list; *s; s++)
        names += *s == ',';
    args->owned = malloc(names * sizeof *args->owned);
    args->policies = args->owned;
    char *list = strdup(args->policy_list);
    if (!args->owned || !list) {
        free(list);
        fputs("heapkit: out of memory\n", stderr);
        return EXIT_BAD_INPUT;
    }
    char *rest = list;
    for (char *name; (name = strsep(&rest, ",")) != NULL;) {
        const lab_policy_t *p = lab_policy_find(name);
        if (!p) {
            usage_error("unknown policy '%s' (`heapkit policies` lists them)", name);
            free(list);
            return EXIT_BAD_INPUT;
        }
        args->owned[args->policy_count++] = p;
    }
    free(list);
    return 0;
}

static int parse_replay_option(replay_args_t *args, int opt, const char *arg)
{
    unsigned long v;
    switch (opt) {
    case 'p':
        args->policy_list = arg;
        return 0;
    case 'a':
        if (!cli_number(arg, 0, 16, &v) || (v != 8 && v != 16))
            return usage_error("--align must be 8 or 16, not '%s'", arg);
        args->opt.align = v;
        return 0;
    case 'c':
        if (!cli_number(arg, 0, UINT32_MAX, &v))
            return usage_error("--check-every needs a number of ops, not '%s'", arg);
        args->opt.check_every = v;
        return 0;
    case 'r':
        if (!cli_number(arg, 0, REPLAY_MAX_TIMING_RUNS, &v))
            return usage_error("--repeat needs a number from 0 to 99, not '%s'", arg);
        args->opt.timing_runs = (unsigned)v;
        return 0;
    case 'P':
        args->peer_list = arg;
        return 0;
    case 't':
        if (strcmp(arg, "one") != 0 && strcmp(arg, "recorded") != 0)
            return usage_error("--threads must be one or recorded, not '%s'", arg);
        args->opt.threads_recorded = strcmp(arg, "recorded") == 0;
        return 0;
    case 'g':
        args->opt.callgrind = true;
        return 0;
    case 'j':
    case 'v':
        if (args->format != REPORT_TABLE)
            return usage_error("--json and --csv exclude each other");
        args->format = opt == 'j' ? REPORT_JSON : REPORT_CSV;
        return 0;
    }
    return EXIT_BAD_INPUT;
}

/* Returns -1 when the options are fine, else an exit status (0 after --help). */
static int parse_replay_args(int argc, char **argv, replay_args_t *args)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'}, {"align", required_argument, NULL, 'a'},
        {"check-every", required_argument, NULL, 'c'},
        {"repeat", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"csv", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {"peer", required_argument, NULL, 'P'}, {"threads", required_argument, NULL, 't'},
        {"callgrind", no_argument, NULL, 'g'}, {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(replay_usage, stdout);
            return EXIT_OK;
        }
        if (opt == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        if (opt == '?')
            return usage_error("unknown option '%s'", argv[optind - 1]);
        int status = parse_replay_option(args, opt, optarg);
        if (status)
            return status;
    }
    if (optind == argc)
        return usage_error("replay needs at least one trace file");
    int status = select_policies(args);
    if (status == 0 && args->peer_list)
        status = peers_select(args->peer_list, &args->peers);
    if (status == 0 && args->policy_count + args->peers.count == 0)
        status = usage_error("nothing to replay on: no policy and no peer selected");
    return status ? status : -1;
}

/* ---- replay: running ---- */

/* Loads every trace, reporting each bad one. Returns 0 or EXIT_BAD_INPUT. */
static int load_traces(char **paths, size_t count, trace_t *traces)
{
    int status = 0;
    for (size_t i = 0; i < count; i++)
        if (trace_load(paths[i], &traces[i]) < 0)
            status = EXIT_BAD_INPUT;
    return status;
}

static int run_all(const replay_args_t *args, trace_t *traces, size_t ntraces)
{
    uint32_t span = 0;
    for (size_t i = 0; i < ntraces; i++)
        span = traces[i].id_span > span ? traces[i].id_span : span;
    size_t stride = args->policy_count + args->peers.count;
    size_t nresults = ntraces * stride;
    replay_result_t *results = calloc(nresults ? nresults : 1, sizeof *results);
    replay_scratch_t scratch;
    if (!results || replay_scratch_init(&scratch, span) < 0) {
        free(results);
        fputs("heapkit: out of memory for the replay bookkeeping\n", stderr);
        return EXIT_BAD_INPUT;
    }
    /* Everything is allocated: from here on, heaps open and close with nothing in between
     * touching the system allocator. */
    bool failed = false;
    progress_t progress;
    progress_init(&progress, "heapkit replay", false);
    for (size_t t = 0; t < ntraces; t++)
        for (size_t p = 0; p < args->policy_count; p++) {
            replay_result_t *r = &results[t * stride + p];
            progress_say(&progress, "%s (%zu/%zu): %s (%zu/%zu)", traces[t].name, t + 1, ntraces,
                         args->policies[p]->name, p + 1, args->policy_count);
            replay_run(&traces[t], args->policies[p], &args->opt, &scratch, r);
            failed |= !r->ok;
        }
    replay_scratch_fini(&scratch);
    if (args->peers.count)
        progress_say(&progress, "playing %zu trace%s on %zu real allocators", ntraces,
                     ntraces == 1 ? "" : "s", args->peers.count);
    if (args->peers.count && peerrun_all(traces, ntraces, &args->peers, &args->opt, results,
                                         stride, args->policy_count) != 0) {
        progress_clear(&progress);
        free(results);
        return EXIT_BAD_INPUT;
    }
    progress_clear(&progress);
    for (size_t i = 0; i < nresults; i++)
        failed |= !results[i].ok;
    int written = report_write(stdout, args->format, &args->opt, results, nresults);
    free(results);
    if (written < 0) {
        fputs("heapkit: cannot write the report\n", stderr);
        return EXIT_BAD_INPUT;
    }
    return failed ? EXIT_POLICY_FAILED : EXIT_OK;
}

static int replay_main(int argc, char **argv)
{
    replay_args_t args = {
        .opt = {.align = 16, .check_every = 0, .timing_runs = DEFAULT_TIMING_RUNS},
        .format = REPORT_TABLE,
    };
    int status = parse_replay_args(argc, argv, &args);
    if (status >= 0) {
        free(args.owned);
        peers_free(&args.peers);
        return status;
    }
    size_t ntraces = (size_t)(argc - optind);
    trace_t *traces = calloc(ntraces, sizeof *traces);
    if (!traces) {
        fputs("heapkit: out of memory\n", stderr);
        status = EXIT_BAD_INPUT;
    } else {
        status = load_traces(argv + optind, ntraces, traces);
        if (status == 0)
            status = run_all(&args, traces, ntraces);
        for (size_t i = 0; i < ntraces; i++)
            trace_free(&traces[i]);
    }
    free(traces);
    free(args.owned);
    peers_free(&args.peers);
    return status;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "policies") == 0)
        return policies_main();
    if (strcmp(cmd, "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    if (strcmp(cmd, "gen") == 0)
        return gen_main(argc - 1, argv + 1);
    if (strcmp(cmd, "record") == 0)
        return record_main(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return import_main(argc - 1, argv + 1);
    if (strcmp(cmd, "convert") == 0)
        return convert_main(argc - 1, argv + 1);
    if (strcmp(cmd, "map") == 0)
        return map_main(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return htmlreport_main(argc - 1, argv + 1);
    fprintf(stderr, "heapkit: unknown command '%s'\n%s", cmd, main_usage);
    return EXIT_BAD_INPUT;
}
