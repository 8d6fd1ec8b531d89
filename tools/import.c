/*
 * import.c -- `heapkit import mtrace LOG -o OUT`: a glibc malloc trace (MALLOC_TRACE,
 *             written by mtrace()) into a heapkit-trace.
 *
 * Design:      glibc's log names blocks by address, one call per line, optionally after
 *              "@ <caller> ", where the caller is "file:(symbol+0xoff)[0xaddr]",
 *              "file:[0xaddr]" or "[0xaddr]":
 *                  + ADDR SIZE      malloc, calloc, memalign, realloc(NULL, n)
 *                  - ADDR           free, realloc(p, 0)
 *                  < OLD            realloc(OLD, ...) ... the first half of a realloc,
 *                  > NEW SIZE       ... its second half (NEW may equal OLD)
 *                  ! ADDR SIZE      a realloc that failed (changes nothing)
 *                  = Start / = End  tracing switched on / off
 *              The calls go through the same address -> id builder as the recorder's log
 *              (addrtrace.h), so its repairs (frees of blocks allocated before tracing
 *              started, say) are counted and reported the same way. The log has no
 *              threads, times or alignments: the trace has one thread, every op at time
 *              0, and aligned allocations are plain ones. Callers become the call-site
 *              table, as glibc wrote them.
 * Errors:      a line that is none of the above is an error naming LOG:LINE (exit 2).
 */
#include "import.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtrace.h"
#include "lines.h"
#include "trace.h"

static const char import_usage[] =
    "usage: heapkit import mtrace LOG -o OUT\n"
    "\n"
    "Converts a glibc malloc trace (the file MALLOC_TRACE names, written once the program\n"
    "calls mtrace(); glibc >= 2.34 needs LD_PRELOAD=libc_malloc_debug.so.0 too) into a\n"
    "heapkit-trace (docs/TRACE-FORMAT.md), gzip or plain as `heapkit convert` decides.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the trace to write (compressed when it ends in .gz or .hkt)\n"
    "  -h, --help         this text\n";

/* ---- Callers ---- */

typedef struct callers {
    addrmap_t index;  /* caller address -> call site + 1 */
    char    **text;
    uint32_t  count, capacity;
} callers_t;

/* "@ file:(sym+0x1c)[0x7f...] " -> call site of the text before '[', keyed by the address;
 * only allocations keep theirs (`keep`), as in recorded traces. Advances *s past it.
 * Returns the call site + 1, 0 when there is none or it is not kept, -1 on error. */
static long parse_caller(lines_t *in, callers_t *c, const char **s)
{
    const char *p = *s;
    if (p[0] != '@' || p[1] != ' ')
        return 0;
    const char *open = strrchr(p, '['), *close = open ? strchr(open, ']') : NULL;
    if (!open || !close || close[1] != ' ') {
        lines_report(in, "a caller without its [address]: '%s'", lines_excerpt(p).text);
        return -1;
    }
    char *end;
    uint64_t addr = strtoull(open + 1, &end, 16);
    *s = close + 2;
    bool keep = **s == '+' || **s == '>';
    if (end != close || addr == 0 || !keep)
        return 0; /* not an address we can key: keep the call, drop the caller */
    uint32_t v;
    if (addrmap_get(&c->index, addr, &v))
        return v;
    if (c->count == c->capacity) {
        uint32_t cap = c->capacity ? c->capacity * 2 : 64;
        char **grown = realloc(c->text, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->text = grown;
        c->capacity = cap;
    }
    size_t n = (size_t)(open - (p + 2));
    char *text = malloc(n + 24);
    if (!text)
        return -1;
    if (n && p[2 + n - 1] == ':')
        n--; /* "file:[0x..]": the address alone says where */
    snprintf(text, n + 24, "%.*s%s0x%llx", (int)n, p + 2, n ? " " : "", (unsigned long long)addr);
    c->text[c->count++] = text;
    if (!addrmap_put(&c->index, addr, c->count))
        return -1;
    return c->count;
}

/* ---- Lines ---- */

static int hex(lines_t *in, const char **s, const char *what, uint64_t *out)
{
    const char *p = lines_skip_blanks(*s);
    char *end;
    if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X')) {
        lines_report(in, "expected %s (0x...), found '%s'", what, lines_excerpt(p).text);
        return -1;
    }
    errno = 0;
    *out = strtoull(p + 2, &end, 16);
    if (errno == ERANGE) {
        lines_report(in, "%s '%s' is absurdly large", what, lines_excerpt(p).text);
        return -1;
    }
    if (end == p + 2 || (*end && !lines_is_blank(*end))) {
        lines_report(in, "expected %s (0x...), found '%s'", what, lines_excerpt(p).text);
        return -1;
    }
    *s = end;
    return 0;
}

typedef struct importer {
    lines_t     in;
    addrtrace_t b;
    callers_t   callers;
    uint64_t    pending_old; /* after '<': the block being reallocated */
    bool        pending;
} importer_t;

static int call_line(importer_t *im, char op, const char *s, uint32_t cs)
{
    uint64_t addr, size = 0;
    if (hex(&im->in, &s, "an address", &addr) < 0 ||
        ((op == '+' || op == '>' || op == '!') && hex(&im->in, &s, "a size", &size) < 0) ||
        lines_expect_end(&im->in, s) < 0)
        return -1;
    if (size > TRACE_MAX_SIZE) {
        lines_report(&im->in, "size %llu is absurd (limit 2^40)", (unsigned long long)size);
        return -1;
    }
    if (im->pending != (op == '>')) {
        lines_report(&im->in, im->pending ? "a realloc's '<' line is not followed by its '>'"
                                          : "a '>' line without the '<' line before it");
        return -1;
    }
    switch (op) {
    case '+':
        at_alloc(&im->b, TRACE_ALLOC, addr, size, 0, 0, 0, cs);
        break;
    case '-':
        at_free(&im->b, addr, 0, 0);
        break;
    case '<':
        im->pending_old = addr;
        im->pending = true;
        break;
    case '>':
        if (addr != im->pending_old)
            at_release(&im->b, im->pending_old, 0, 0);
        at_realloc(&im->b, im->pending_old, addr, size, 0, 0, cs);
        im->pending = false;
        break;
    default: /* '!': a failed realloc changed nothing */
        break;
    }
    return 0;
}

static int import_line(importer_t *im)
{
    const char *s = im->in.text;
    if (s[0] == '=' && s[1] == ' ')
        return 0; /* "= Start", "= End" */
    long cs = parse_caller(&im->in, &im->callers, &s);
    if (cs < 0)
        return -1;
    char op = *s;
    if (!strchr("+-<>!", op) || !op || !lines_is_blank(s[1])) {
        lines_report(&im->in, "not a glibc malloc trace line: '%s'",
                     lines_excerpt(im->in.text).text);
        return -1;
    }
    return call_line(im, op, s + 1, (uint32_t)cs);
}

/* ---- Public ---- */

static int import_mtrace(const char *log, const char *out_path)
{
    importer_t im;
    memset(&im, 0, sizeof im);
    trace_t t;
    at_init(&im.b, &t, true);
    int status = lines_open(&im.in, log) < 0 ? -1 : 0, got = 0;
    while (status == 0 && (got = lines_next(&im.in)) > 0)
        status = import_line(&im);
    if (status == 0 && got < 0)
        status = -1;
    if (im.in.file)
        lines_close(&im.in);
    if (status == 0 && at_finish(&im.b) < 0) {
        fprintf(stderr, "heapkit: %s: out of memory\n", log);
        status = -1;
    }
    if (status == 0) {
        t.callsites = im.callers.text; /* the trace owns the texts now */
        t.num_callsites = im.callers.count;
        im.callers.text = NULL;
        bool compress = strstr(out_path, ".gz") || strstr(out_path, ".hkt");
        status = trace_write(&t, out_path, TRACE_FORMAT_HKT, compress ? TRACE_GZIP_SMALL : 0, NULL);
    }
    if (status == 0) {
        fprintf(stderr, "heapkit: %s: %u ops from %s", out_path, t.num_ops, log);
        if (im.b.unknown_frees || im.b.implicit_frees || im.b.unknown_reallocs)
            fprintf(stderr, "; repaired: %llu frees of blocks allocated before tracing began "
                            "(dropped), %llu allocations over live blocks, %llu reallocs of "
                            "unknown blocks",
                    (unsigned long long)im.b.unknown_frees,
                    (unsigned long long)im.b.implicit_frees,
                    (unsigned long long)im.b.unknown_reallocs);
        fputc('\n', stderr);
    }
    for (uint32_t i = 0; i < im.callers.count && im.callers.text; i++)
        free(im.callers.text[i]);
    free(im.callers.text);
    addrmap_free(&im.callers.index);
    at_fini(&im.b);
    trace_free(&t);
    return status < 0 ? 2 : 0;
}

int import_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = NULL;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(import_usage, stdout);
            return 0;
        }
        if (opt != 'o') {
            fprintf(stderr, "heapkit: %s '%s'\n(try `heapkit import --help`)\n",
                    opt == ':' ? "option needs a value:" : "unknown option", argv[optind - 1]);
            return 2;
        }
        out = optarg;
    }
    if (argc - optind != 2 || strcmp(argv[optind], "mtrace") != 0 || !out) {
        fputs("heapkit: usage: heapkit import mtrace LOG -o OUT\n", stderr);
        return 2;
    }
    return import_mtrace(argv[optind + 1], out);
}
