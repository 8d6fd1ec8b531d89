/*
 * trace.c -- reads CS:APP malloc-lab traces (plain or gzip) and validates them fully.
 *
 * Design:      Line oriented, through zlib's gzgets (which reads uncompressed files too),
 *              so every error names FILE:LINE. Blank lines are skipped anywhere. The
 *              header is four lines of one number each; only the middle two (num_ids,
 *              num_ops) mean the same thing in every version of the lab, so only they
 *              are interpreted (docs/TRACE-FORMAT.md). The id life cycle is simulated
 *              while reading, so a loaded trace never frees a dead id or allocates a
 *              live one. Nothing read from the file is trusted for sizing memory: arrays
 *              grow with what the body actually contains.
 * Complexity:  O(bytes of the file); memory O(ops + largest id).
 */
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- Line reader ---- */

#define LINE_MAX_BYTES 512 /* far longer than any valid trace line */

typedef struct reader {
    gzFile      file;
    const char *path;
    unsigned    line; /* number of the line in `text` (1-based) */
    char        text[LINE_MAX_BYTES];
} reader_t;

static void __attribute__((format(printf, 2, 3))) report(const reader_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heapkit: %s:%u: ", r->path, r->line ? r->line : 1);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static const char *skip_blanks(const char *s)
{
    while (*s && is_blank(*s))
        s++;
    return s;
}

/* A short printable excerpt of untrusted text for a message (non-printables become '?'). */
typedef struct excerpt {
    char text[24];
} excerpt_t;

static excerpt_t excerpt_of(const char *s)
{
    excerpt_t e;
    size_t n = 0;
    for (; s[n] && n < sizeof e.text - 4; n++)
        e.text[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
    if (s[n]) {
        memcpy(e.text + n, "...", 3);
        n += 3;
    }
    e.text[n] = '\0';
    return e;
}

static void trim_line_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
}

/* zlib prefixes its messages with the path, which ours already carry. */
static const char *zlib_message(const reader_t *r, const char *msg)
{
    size_t n = strlen(r->path);
    if (strncmp(msg, r->path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

/* Reads the next non-blank line into r->text. Returns 1, 0 at end of file, -1 on error
 * (already reported). */
static int next_line(reader_t *r)
{
    for (;;) {
        if (!gzgets(r->file, r->text, sizeof r->text)) {
            int err;
            const char *msg = gzerror(r->file, &err);
            if (err == Z_OK || err == Z_STREAM_END)
                return 0;
            r->line++;
            report(r, "read error: %s", err == Z_ERRNO ? strerror(errno) : zlib_message(r, msg));
            return -1;
        }
        r->line++;
        size_t len = strlen(r->text);
        if (len == sizeof r->text - 1 && r->text[len - 1] != '\n' && !gzeof(r->file)) {
            report(r, "line longer than %d bytes: not a trace", LINE_MAX_BYTES - 2);
            return -1;
        }
        trim_line_end(r->text);
        if (*skip_blanks(r->text))
            return 1;
    }
}

/* ---- Numbers ---- */

/* Parses a non-negative decimal at *s (after blanks), advancing *s. `what` names the
 * field in messages. Values above `max` are rejected. Returns 0 or -1 (reported). */
static int parse_number(reader_t *r, const char **s, const char *what, uint64_t max,
                        uint64_t *out)
{
    const char *start = skip_blanks(*s), *p = start;
    if (*p == '-') {
        report(r, "negative %s", what);
        return -1;
    }
    if (*p < '0' || *p > '9') {
        if (*p)
            report(r, "expected %s, found '%s'", what, excerpt_of(p).text);
        else
            report(r, "missing %s", what);
        return -1;
    }
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) {
            report(r, "%s is absurdly large", what);
            return -1;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p && !is_blank(*p)) {
        report(r, "expected %s, found '%s'", what, excerpt_of(start).text);
        return -1;
    }
    if (v > max) {
        report(r, "%s %llu is absurd (limit %llu)", what, (unsigned long long)v,
               (unsigned long long)max);
        return -1;
    }
    *out = v;
    *s = p;
    return 0;
}

static int expect_line_end(reader_t *r, const char *s)
{
    s = skip_blanks(s);
    if (*s) {
        report(r, "unexpected text '%s' at the end of the line", excerpt_of(s).text);
        return -1;
    }
    return 0;
}

/* ---- Header ---- */

static const char *const header_field[4] = {
    "header line 1 (suggested heap size, or weight)",
    "header line 2 (number of ids)",
    "header line 3 (number of ops)",
    "header line 4 (weight, or a driver-specific number)",
};

static int read_header(reader_t *r, trace_t *t)
{
    for (int i = 0; i < 4; i++) {
        int got = next_line(r);
        if (got < 0)
            return -1;
        if (got == 0) {
            report(r, "bad header: the file ends after %d of its 4 numbers", i);
            return -1;
        }
        const char *s = r->text;
        uint64_t max = (i == 1 || i == 2) ? TRACE_MAX_COUNT : UINT64_MAX;
        if (parse_number(r, &s, header_field[i], max, &t->header[i]) < 0 ||
            expect_line_end(r, s) < 0)
            return -1;
    }
    t->num_ids = (uint32_t)t->header[1];
    t->num_ops = (uint32_t)t->header[2];
    return 0;
}

/* ---- Id life cycle ---- */

/* Per id: the line that made it live (0 = not live) and the line that last freed it. */
typedef struct id_state {
    uint32_t *born;
    uint32_t *died;
    uint32_t  capacity;
} id_state_t;

static int ids_reserve(id_state_t *ids, uint32_t id)
{
    if (id < ids->capacity)
        return 0;
    uint64_t cap = ids->capacity ? ids->capacity : 1024;
    while (cap <= id)
        cap *= 2;
    uint32_t *born = realloc(ids->born, cap * sizeof *born);
    if (!born)
        return -1;
    ids->born = born;
    uint32_t *died = realloc(ids->died, cap * sizeof *died);
    if (!died)
        return -1;
    ids->died = died;
    memset(born + ids->capacity, 0, (cap - ids->capacity) * sizeof *born);
    memset(died + ids->capacity, 0, (cap - ids->capacity) * sizeof *died);
    ids->capacity = (uint32_t)cap;
    return 0;
}

static void report_dead_id(reader_t *r, const char *what, uint32_t id, uint32_t died)
{
    if (died)
        report(r, "%s of id %u, which was already freed (line %u)", what, id, died);
    else
        report(r, "%s of id %u, which was never allocated", what, id);
}

/* Applies op to the life cycle, rejecting what a real program could not do. */
static int track_op(reader_t *r, id_state_t *ids, const trace_op_t *op)
{
    uint32_t id = op->id;
    if (ids_reserve(ids, id) < 0) {
        report(r, "out of memory");
        return -1;
    }
    switch (op->kind) {
    case TRACE_ALLOC:
        if (ids->born[id]) {
            report(r, "allocation of id %u, which is already live (allocated at line %u)", id,
                   ids->born[id]);
            return -1;
        }
        ids->born[id] = r->line;
        return 0;
    case TRACE_REALLOC:
    case TRACE_FREE:
        if (!ids->born[id]) {
            report_dead_id(r, op->kind == TRACE_FREE ? "free" : "realloc", id, ids->died[id]);
            return -1;
        }
        if (op->kind == TRACE_FREE || op->size == 0) { /* realloc(p, 0) frees p */
            ids->born[id] = 0;
            ids->died[id] = r->line;
        }
        return 0;
    }
    return 0;
}

/* ---- Ops ---- */

static int parse_op(reader_t *r, const trace_t *t, trace_op_t *op)
{
    const char *s = skip_blanks(r->text);
    char kind = *s++;
    if ((kind != 'a' && kind != 'r' && kind != 'f') || (*s && !is_blank(*s))) {
        report(r, "unknown op '%s' (expected a, r or f)", excerpt_of(skip_blanks(r->text)).text);
        return -1;
    }
    uint64_t id, size = 0;
    if (parse_number(r, &s, "id", UINT64_MAX, &id) < 0)
        return -1;
    if (id >= t->num_ids) {
        report(r, "id %llu out of range: the header declares %u ids", (unsigned long long)id,
               t->num_ids);
        return -1;
    }
    if (kind != 'f' && parse_number(r, &s, "size", TRACE_MAX_SIZE, &size) < 0)
        return -1;
    if (expect_line_end(r, s) < 0)
        return -1;
    *op = (trace_op_t){.size = (size_t)size, .id = (uint32_t)id, .kind = (uint8_t)kind};
    return 0;
}

static int grow_ops(reader_t *r, trace_t *t, uint32_t *capacity)
{
    uint64_t cap = *capacity ? (uint64_t)*capacity * 2 : 4096;
    if (cap > t->num_ops)
        cap = t->num_ops;
    trace_op_t *ops = realloc(t->ops, cap * sizeof *ops);
    uint32_t *lines = ops ? realloc(t->lines, cap * sizeof *lines) : NULL;
    if (ops)
        t->ops = ops;
    if (!lines) {
        report(r, "out of memory reading %llu ops", (unsigned long long)cap);
        return -1;
    }
    t->lines = lines;
    *capacity = (uint32_t)cap;
    return 0;
}

static int read_ops(reader_t *r, trace_t *t)
{
    id_state_t ids = {0};
    uint32_t count = 0, capacity = 0;
    int got, status = 0;
    while (status == 0 && (got = next_line(r)) != 0) {
        if (got < 0 || count == t->num_ops) {
            if (got > 0)
                report(r, "trailing garbage: the header announces %u ops, and this line "
                          "follows them", t->num_ops);
            status = -1;
            break;
        }
        if (count == capacity && grow_ops(r, t, &capacity) < 0) {
            status = -1;
            break;
        }
        trace_op_t *op = &t->ops[count];
        status = parse_op(r, t, op);
        if (status == 0)
            status = track_op(r, &ids, op);
        if (status == 0) {
            t->lines[count++] = r->line;
            if (op->id >= t->id_span)
                t->id_span = op->id + 1;
        }
    }
    if (status == 0 && count < t->num_ops) {
        report(r, "truncated: the header announces %u ops, the file has only %u", t->num_ops,
               count);
        status = -1;
    }
    free(ids.born);
    free(ids.died);
    return status;
}

/* ---- Public ---- */

int trace_load(const char *path, trace_t *t)
{
    memset(t, 0, sizeof *t);
    reader_t r = {.path = path};
    errno = 0;
    r.file = gzopen(path, "rb");
    if (!r.file) {
        fprintf(stderr, "heapkit: %s: cannot open: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        return -1;
    }
    int status = read_header(&r, t);
    if (status == 0)
        status = read_ops(&r, t);
    gzclose(r.file);
    if (status == 0) {
        t->path = strdup(path);
        if (!t->path) {
            fprintf(stderr, "heapkit: %s: out of memory\n", path);
            status = -1;
        }
    }
    if (status < 0) {
        trace_free(t);
        return -1;
    }
    const char *slash = strrchr(t->path, '/');
    t->name = slash ? slash + 1 : t->path;
    return 0;
}

void trace_free(trace_t *t)
{
    free(t->path);
    free(t->ops);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

int trace_is_graded(const trace_t *t)
{
    return strstr(t->name, "-bal.rep") != NULL && strncmp(t->name, "short1", 6) != 0 &&
           strncmp(t->name, "short2", 6) != 0;
}
