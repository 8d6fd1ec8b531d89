/*
 * trace_hkt.c -- reads heapkit's recorded trace format, "heapkit-trace 1"
 *                (docs/TRACE-FORMAT.md), into a trace_t.
 *
 * Design:      The header is `key value` lines ending with `ops N`; keys are known, each
 *              appears at most once, and the numbers that bound the body (threads, ids,
 *              callsites, ops) are required to be there before any op. The call-site
 *              table (`s` lines) sits in the header, so the body can be checked against
 *              it line by line. Every op line is
 *                  <dt> <thread> <kind> <id> [<size> [<align>]] [@<callsite>]
 *              and is validated completely (numbers, ranges, alignment a power of two,
 *              the id life cycle through the loader) before the next line is read.
 * Complexity:  O(bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "trace_read.h"

#define HKT_VERSION 1

/* ---- Header ---- */

typedef enum key_type { KEY_TEXT, KEY_NUMBER } key_type_t;

typedef struct header_key {
    const char *name;
    key_type_t  type;
    uint64_t    max;      /* KEY_NUMBER */
    bool        required;
} header_key_t;

enum { K_PROGRAM, K_COMMAND, K_ENDED, K_PID, K_PARENT, K_THREADS, K_IDS, K_CALLSITES,
       K_PEAK_LIVE, K_COUNT };

static const header_key_t keys[K_COUNT] = {
    [K_PROGRAM] = {"program", KEY_TEXT, 0, false},
    [K_COMMAND] = {"command", KEY_TEXT, 0, false},
    [K_ENDED] = {"ended", KEY_TEXT, 0, false},
    [K_PID] = {"pid", KEY_NUMBER, UINT32_MAX, false},
    [K_PARENT] = {"parent", KEY_NUMBER, UINT32_MAX, false},
    [K_THREADS] = {"threads", KEY_NUMBER, TRACE_MAX_COUNT, true},
    [K_IDS] = {"ids", KEY_NUMBER, TRACE_MAX_COUNT, true},
    [K_CALLSITES] = {"callsites", KEY_NUMBER, TRACE_MAX_COUNT, false},
    [K_PEAK_LIVE] = {"peak-live", KEY_NUMBER, UINT64_MAX, false},
};

typedef struct header {
    bool     seen[K_COUNT];
    uint64_t number[K_COUNT];
} header_t;

static int check_version(loader_t *l)
{
    const char *s = l->in.text + 13; /* after "heapkit-trace" */
    uint64_t version;
    if (!lines_is_blank(*s)) {
        lines_report(&l->in, "expected 'heapkit-trace %d', found '%s'", HKT_VERSION,
                     lines_excerpt(l->in.text).text);
        return -1;
    }
    if (lines_number(&l->in, &s, "format version", UINT32_MAX, &version) < 0 ||
        lines_expect_end(&l->in, s) < 0)
        return -1;
    if (version != HKT_VERSION) {
        lines_report(&l->in, "heapkit-trace version %llu: this heapkit reads version %d",
                     (unsigned long long)version, HKT_VERSION);
        return -1;
    }
    return 0;
}

/* Splits "key rest" at the first blank: returns the key's length, *rest after blanks. */
static size_t split_key(const char *line, const char **rest)
{
    size_t n = 0;
    while (line[n] && !lines_is_blank(line[n]))
        n++;
    *rest = lines_skip_blanks(line + n);
    return n;
}

static int find_key(const char *line, size_t n)
{
    for (int k = 0; k < K_COUNT; k++)
        if (strlen(keys[k].name) == n && memcmp(keys[k].name, line, n) == 0)
            return k;
    return -1;
}

static int store_text(loader_t *l, int k, const char *value)
{
    char **dest = k == K_PROGRAM ? &l->t->meta.program
                  : k == K_COMMAND ? &l->t->meta.command
                                   : &l->t->meta.ended;
    *dest = loader_strdup(l, value);
    return *dest ? 0 : -1;
}

/* An `s <index> <text>` line: the next entry of the call-site table, which grows with
 * the lines actually present (the declared count is checked when the header ends). */
static int callsite_line(loader_t *l, header_t *h, const char *rest)
{
    trace_t *t = l->t;
    if (!h->seen[K_CALLSITES]) {
        lines_report(&l->in, "call-site line before the 'callsites' line");
        return -1;
    }
    uint64_t index;
    if (lines_number(&l->in, &rest, "call-site index", TRACE_MAX_COUNT, &index) < 0)
        return -1;
    if (index != t->num_callsites) {
        lines_report(&l->in, "call site %llu out of order (expected %u)",
                     (unsigned long long)index, t->num_callsites);
        return -1;
    }
    if (index >= h->number[K_CALLSITES]) {
        lines_report(&l->in, "call site %llu beyond the %llu the header declares",
                     (unsigned long long)index, (unsigned long long)h->number[K_CALLSITES]);
        return -1;
    }
    if ((index & (index - 1)) == 0) { /* 0, 1, 2, 4, ...: double the table */
        char **grown = realloc(t->callsites, (size_t)(index ? 2 * index : 1) * sizeof *grown);
        if (!grown) {
            lines_report(&l->in, "out of memory");
            return -1;
        }
        t->callsites = grown;
    }
    t->callsites[index] = loader_strdup(l, lines_skip_blanks(rest));
    if (!t->callsites[index])
        return -1;
    t->num_callsites++;
    return 0;
}

static int number_key(loader_t *l, header_t *h, int k, const char *rest)
{
    uint64_t v;
    if (lines_number(&l->in, &rest, keys[k].name, keys[k].max, &v) < 0 ||
        lines_expect_end(&l->in, rest) < 0)
        return -1;
    h->number[k] = v;
    return 0;
}

static int header_line(loader_t *l, header_t *h)
{
    const char *rest;
    size_t n = split_key(l->in.text, &rest);
    if (n == 1 && l->in.text[0] == 's')
        return callsite_line(l, h, rest);
    int k = find_key(l->in.text, n);
    if (k < 0) {
        lines_report(&l->in, "unknown header line '%s'", lines_excerpt(l->in.text).text);
        return -1;
    }
    if (h->seen[k]) {
        lines_report(&l->in, "second '%s' line in the header", keys[k].name);
        return -1;
    }
    h->seen[k] = true;
    return keys[k].type == KEY_TEXT ? store_text(l, k, rest) : number_key(l, h, k, rest);
}

/* The `ops N` line ends the header: everything the body is checked against must be known. */
static int end_header(loader_t *l, header_t *h, const char *rest)
{
    trace_t *t = l->t;
    uint64_t ops;
    if (lines_number(&l->in, &rest, "number of ops", TRACE_MAX_COUNT, &ops) < 0 ||
        lines_expect_end(&l->in, rest) < 0)
        return -1;
    for (int k = 0; k < K_COUNT; k++)
        if (keys[k].required && !h->seen[k]) {
            lines_report(&l->in, "the header has no '%s' line", keys[k].name);
            return -1;
        }
    if (t->num_callsites < h->number[K_CALLSITES]) {
        lines_report(&l->in, "the header declares %llu call sites and lists %u",
                     (unsigned long long)h->number[K_CALLSITES], t->num_callsites);
        return -1;
    }
    if (h->number[K_THREADS] == 0 && ops > 0) {
        lines_report(&l->in, "ops without threads: the header declares 0 threads");
        return -1;
    }
    t->num_ops = (uint32_t)ops;
    t->num_ids = (uint32_t)h->number[K_IDS];
    t->num_threads = h->number[K_THREADS] ? (uint32_t)h->number[K_THREADS] : 1;
    t->meta.pid = h->number[K_PID];
    t->meta.parent = h->number[K_PARENT];
    t->meta.peak_live = h->number[K_PEAK_LIVE];
    t->meta.has_peak_live = h->seen[K_PEAK_LIVE];
    l->threads = t->num_threads > 1;
    l->times = true;
    l->callsites = t->num_callsites > 0;
    return 0;
}

static int read_header(loader_t *l)
{
    header_t h = {0};
    if (check_version(l) < 0)
        return -1;
    for (;;) {
        int got = lines_next(&l->in);
        if (got < 0)
            return -1;
        if (got == 0) {
            lines_report(&l->in, "the header does not end: no 'ops' line");
            return -1;
        }
        const char *rest;
        size_t n = split_key(l->in.text, &rest);
        if (n == 3 && memcmp(l->in.text, "ops", 3) == 0)
            return end_header(l, &h, rest);
        if (header_line(l, &h) < 0)
            return -1;
    }
}

/* ---- Ops ---- */

static int parse_kind(loader_t *l, const char **s, uint8_t *kind)
{
    const char *p = lines_skip_blanks(*s);
    if (!strchr("acmrf", *p) || !*p || (p[1] && !lines_is_blank(p[1]))) {
        lines_report(&l->in, "unknown op '%s' (expected a, c, m, r or f)",
                     lines_excerpt(p).text);
        return -1;
    }
    *kind = (uint8_t)*p;
    *s = p + 1;
    return 0;
}

static int parse_align(loader_t *l, const char **s, uint8_t *shift)
{
    uint64_t align;
    if (lines_number(&l->in, s, "alignment", (uint64_t)1 << TRACE_MAX_ALIGN_SHIFT, &align) < 0)
        return -1;
    if (align == 0 || (align & (align - 1))) {
        lines_report(&l->in, "alignment %llu is not a power of two", (unsigned long long)align);
        return -1;
    }
    uint8_t k = 0;
    while (((uint64_t)1 << k) < align)
        k++;
    *shift = k;
    return 0;
}

/* An optional "@<callsite>" after an allocation: *cs = index + 1, or 0. */
static int parse_callsite(loader_t *l, const char **s, uint8_t kind, uint32_t *cs)
{
    const char *p = lines_skip_blanks(*s);
    *cs = 0;
    if (*p != '@')
        return 0;
    if (kind == TRACE_FREE) {
        lines_report(&l->in, "a free has no call site");
        return -1;
    }
    p++;
    uint64_t index;
    if (lines_number(&l->in, &p, "call site", UINT32_MAX - 1, &index) < 0)
        return -1;
    if (index >= l->t->num_callsites) {
        lines_report(&l->in, "call site %llu out of range: the header declares %u",
                     (unsigned long long)index, l->t->num_callsites);
        return -1;
    }
    *cs = (uint32_t)index + 1;
    *s = p;
    return 0;
}

typedef struct op_line {
    trace_op_t op;
    uint32_t   thread, callsite;
    uint64_t   dt;
} op_line_t;

static int parse_op(loader_t *l, op_line_t *o)
{
    const trace_t *t = l->t;
    const char *s = l->in.text;
    uint64_t thread, id, size = 0;
    memset(o, 0, sizeof *o);
    if (lines_number(&l->in, &s, "time delta", (uint64_t)1 << 62, &o->dt) < 0 ||
        lines_number(&l->in, &s, "thread", TRACE_MAX_COUNT, &thread) < 0 ||
        parse_kind(l, &s, &o->op.kind) < 0 ||
        lines_number(&l->in, &s, "id", TRACE_MAX_COUNT, &id) < 0)
        return -1;
    if (thread >= t->num_threads) {
        lines_report(&l->in, "thread %llu out of range: the header declares %u threads",
                     (unsigned long long)thread, t->num_threads);
        return -1;
    }
    if (id >= t->num_ids) {
        lines_report(&l->in, "id %llu out of range: the header declares %u ids",
                     (unsigned long long)id, t->num_ids);
        return -1;
    }
    if (o->op.kind != TRACE_FREE &&
        lines_number(&l->in, &s, "size", TRACE_MAX_SIZE, &size) < 0)
        return -1;
    if (o->op.kind == TRACE_ALIGNED && parse_align(l, &s, &o->op.align_shift) < 0)
        return -1;
    if (parse_callsite(l, &s, o->op.kind, &o->callsite) < 0 || lines_expect_end(&l->in, s) < 0)
        return -1;
    o->op.size = (size_t)size;
    o->op.id = (uint32_t)id;
    o->thread = (uint32_t)thread;
    return 0;
}

int trace_hkt_parse(loader_t *l)
{
    if (read_header(l) < 0)
        return -1;
    uint64_t time = 0;
    int got;
    while ((got = lines_next(&l->in)) > 0) {
        op_line_t o;
        if (loader_room(l) < 0 || parse_op(l, &o) < 0)
            return -1;
        time = l->count == 0 ? 0 : time + o.dt; /* the first op is time 0 */
        if (loader_add(l, &o.op, o.thread, time, o.callsite) < 0)
            return -1;
    }
    return got < 0 ? -1 : loader_expect_count(l);
}
