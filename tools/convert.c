/*
 * convert.c -- `heapkit convert IN -o OUT`: a trace from either format into either format.
 *
 * Design:      Load (which validates completely, as for replay), then trace_write. The
 *              output format follows --to, else the output's name: "*.rep" and "*.rep.gz"
 *              are CS:APP traces, anything else heapkit-trace. The output is compressed
 *              when its name ends in ".gz" or ".hkt" (recorded traces are large and
 *              compress ~6x), unless --gzip / --plain say otherwise. What the classic
 *              format cannot hold is said on stderr, never dropped silently.
 * Exit status: 0 converted, 2 bad usage, bad input, or the output could not be written.
 */
#include "convert.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

static const char convert_usage[] =
    "usage: heapkit convert [OPTIONS] IN -o OUT\n"
    "\n"
    "Converts a trace between the CS:APP malloc-lab format (.rep) and heapkit's recorded\n"
    "format (heapkit-trace, .hkt); either may be gzip-compressed. IN is validated as\n"
    "for replay. See docs/TRACE-FORMAT.md.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the file to write\n"
    "  --to rep|hkt       output format (default: rep when OUT ends in .rep or .rep.gz,\n"
    "                     else hkt)\n"
    "  --gzip, --plain    compress or not (default: compress when OUT ends in .gz or .hkt)\n"
    "  -h, --help         this text\n"
    "\n"
    "Converting to rep keeps op, id and size: calloc and aligned allocations become\n"
    "plain allocations, and threads, times and call sites are dropped (said on stderr).\n";

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "heapkit: %s%s%s%s\n(try `heapkit convert --help`)\n", what,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

typedef struct convert_args {
    const char *in, *out;
    int         format;   /* -1: from the name */
    int         compress; /* -1: from the name */
} convert_args_t;

/* Returns -1 when the arguments are fine, else an exit status. */
static int parse_args(int argc, char **argv, convert_args_t *a)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"to", required_argument, NULL, 't'},
        {"gzip", no_argument, NULL, 'z'},         {"plain", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(convert_usage, stdout);
            return 0;
        case 'o':
            a->out = optarg;
            break;
        case 't':
            if (strcmp(optarg, "rep") != 0 && strcmp(optarg, "hkt") != 0)
                return usage_error("--to must be rep or hkt, not", optarg);
            a->format = strcmp(optarg, "rep") == 0 ? TRACE_FORMAT_REP : TRACE_FORMAT_HKT;
            break;
        case 'z':
        case 'p':
            a->compress = opt == 'z';
            break;
        case ':':
            return usage_error("option needs a value:", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return usage_error(optind == argc ? "convert needs one input trace"
                                          : "convert takes one input trace, not several",
                           NULL);
    if (!a->out)
        return usage_error("convert needs an output file (-o OUT)", NULL);
    a->in = argv[optind];
    return -1;
}

int convert_main(int argc, char **argv)
{
    convert_args_t a = {.format = -1, .compress = -1};
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    trace_format_t format = a.format >= 0 ? (trace_format_t)a.format
                            : ends_with(a.out, ".rep") || ends_with(a.out, ".rep.gz")
                                ? TRACE_FORMAT_REP
                                : TRACE_FORMAT_HKT;
    bool compress = a.compress >= 0 ? a.compress == 1
                                    : ends_with(a.out, ".gz") || ends_with(a.out, ".hkt");
    trace_t t;
    if (trace_load(a.in, &t) < 0)
        return 2;
    size_t lost = 0;
    status = trace_write(&t, a.out, format, compress ? TRACE_GZIP_SMALL : 0, &lost) < 0 ? 2 : 0;
    if (status == 0 && format == TRACE_FORMAT_REP && t.format == TRACE_FORMAT_HKT) {
        fprintf(stderr, "heapkit: %s: %u ops written in the CS:APP format", a.out, t.num_ops);
        if (lost)
            fprintf(stderr, "; %zu calloc or aligned allocations became plain ones", lost);
        fprintf(stderr, "; threads (%u), times and call sites (%u) dropped\n", t.num_threads,
                t.num_callsites);
    }
    trace_free(&t);
    return status;
}
