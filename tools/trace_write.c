/*
 * trace_write.c -- writes a trace_t in either format (trace.h, docs/TRACE-FORMAT.md).
 *
 * Design:      Lines are formatted by hand into 1 MiB blocks, because traces of millions
 *              of ops would spend most of their time in a printf per line, and the blocks
 *              go to a gzsink (gzsink.h), which compresses them on worker threads while
 *              the next ones are formatted: deflate is most of the cost of writing a
 *              recorded trace, and `heapkit record` makes the user wait for it. Text values of the header (program, command, how the
 *              process ended, call sites) are made single-line and printable here, so
 *              whatever a recorded process put in its argv, the file stays one item per
 *              line and within the reader's line limit.
 * Complexity:  O(ops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gzsink.h"
#include "lines.h"
#include "trace.h"

#define OUT_BUF  GZSINK_BLOCK
#define TEXT_MAX (LINES_MAX_BYTES - 64) /* room for the key and the index */

typedef struct out {
    gzsink_t *sink;
    char     *buf; /* the block being filled */
    size_t    len;
} out_t;

static void out_flush(out_t *o)
{
    gzsink_commit(o->sink, o->len);
    o->buf = gzsink_block(o->sink);
    o->len = 0;
}

static void out_bytes(out_t *o, const char *s, size_t n)
{
    if (o->len + n > OUT_BUF)
        out_flush(o);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(out_t *o, const char *s) { out_bytes(o, s, strlen(s)); }

static char *dec_backwards(char *end, uint64_t v);

static void out_u64(out_t *o, uint64_t v)
{
    char tmp[24], *first = dec_backwards(tmp + sizeof tmp, v);
    out_bytes(o, first, (size_t)(tmp + sizeof tmp - first));
}

static void out_char(out_t *o, char c) { out_bytes(o, &c, 1); }

/* A header text value: control bytes become '?', and it is cut at TEXT_MAX bytes. */
static void out_text(out_t *o, const char *s)
{
    size_t n = 0;
    for (; s[n] && n < TEXT_MAX; n++)
        out_char(o, (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n]);
}

static void out_key_text(out_t *o, const char *key, const char *value)
{
    if (!value)
        return;
    out_str(o, key);
    out_char(o, ' ');
    out_text(o, value);
    out_char(o, '\n');
}

static void out_key_number(out_t *o, const char *key, uint64_t v)
{
    out_str(o, key);
    out_char(o, ' ');
    out_u64(o, v);
    out_char(o, '\n');
}

/* ---- heapkit-trace 1 ---- */

static void hkt_header(out_t *o, const trace_t *t, uint64_t peak_live)
{
    out_str(o, "heapkit-trace 1\n");
    out_key_text(o, "program", t->meta.program);
    out_key_text(o, "command", t->meta.command);
    if (t->meta.pid)
        out_key_number(o, "pid", t->meta.pid);
    if (t->meta.parent)
        out_key_number(o, "parent", t->meta.parent);
    out_key_text(o, "ended", t->meta.ended);
    out_key_number(o, "threads", t->num_threads ? t->num_threads : 1);
    out_key_number(o, "ids", t->num_ids > t->id_span ? t->num_ids : t->id_span);
    out_key_number(o, "peak-live", peak_live);
    if (t->num_callsites) {
        out_key_number(o, "callsites", t->num_callsites);
        for (uint32_t i = 0; i < t->num_callsites; i++) {
            out_str(o, "s ");
            out_u64(o, i);
            out_char(o, ' ');
            out_text(o, t->callsites[i] ? t->callsites[i] : "?");
            out_char(o, '\n');
        }
    }
    out_key_number(o, "ops", t->num_ops);
}

static const char dec_pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";

/* Decimal digits of v ending at `end` (written backwards, two at a time); returns the
 * first. The op lines are most of a recorded trace's bytes: this is its hot loop. */
static char *dec_backwards(char *end, uint64_t v)
{
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = dec_pairs[d + 1];
        *--end = dec_pairs[d];
    }
    if (v >= 10) {
        *--end = dec_pairs[v * 2 + 1];
        *--end = dec_pairs[v * 2];
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

static unsigned dec_digits(uint64_t v)
{
    unsigned n = 1;
    for (; v >= 10000; v /= 10000)
        n += 4;
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Two digits of v < 100 at `at`. */
static inline char *put_pair(char *at, unsigned v)
{
    at[0] = dec_pairs[v * 2];
    at[1] = dec_pairs[v * 2 + 1];
    return at + 2;
}

/* Straight into the line: the digits are counted first (a copy of a variable length
 * was a memcpy call per number, the op lines' largest cost after the digits). Below
 * 10^4 (the thread, time steps, ids and sizes of a busy program, nearly every number)
 * the digits are placed without a loop or a count: the general path was a third of
 * the op lines' cost. */
static inline char *put_dec(char *at, uint64_t v)
{
    if (v < 10) {
        *at = (char)('0' + v);
        return at + 1;
    }
    if (v < 100)
        return put_pair(at, (unsigned)v);
    if (v < 1000) {
        *at = (char)('0' + v / 100);
        return put_pair(at + 1, (unsigned)(v % 100));
    }
    if (v < 10000)
        return put_pair(put_pair(at, (unsigned)(v / 100)), (unsigned)(v % 100));
    char *end = at + dec_digits(v);
    dec_backwards(end, v);
    return end;
}

#define OP_LINE_MAX 128 /* 5 numbers of at most 20 digits, blanks, letters, '@', newline */

/* One op line into o: its time since the op before, trace thread, and call site + 1 (0:
 * none). */
static inline void put_op(out_t *o, const trace_op_t *op, uint64_t dt, uint32_t thread,
                          uint32_t callsite)
{
    if (o->len + OP_LINE_MAX > OUT_BUF)
        out_flush(o);
    char *at = o->buf + o->len;
    at = put_dec(at, dt);
    *at++ = ' ';
    at = put_dec(at, thread);
    *at++ = ' ';
    *at++ = (char)op->kind;
    *at++ = ' ';
    at = put_dec(at, op->id);
    if (op->kind != TRACE_FREE) {
        *at++ = ' ';
        at = put_dec(at, op->size);
    }
    if (op->kind == TRACE_ALIGNED) {
        *at++ = ' ';
        at = put_dec(at, (uint64_t)1 << op->align_shift);
    }
    if (callsite) {
        *at++ = ' ';
        *at++ = '@';
        at = put_dec(at, callsite - 1);
    }
    *at++ = '\n';
    o->len = (size_t)(at - o->buf);
}

static void hkt_op(out_t *o, const trace_t *t, uint32_t i)
{
    put_op(o, &t->ops[i], t->time && i > 0 ? t->time[i] - t->time[i - 1] : 0,
           t->thread ? t->thread[i] : 0, t->callsite ? t->callsite[i] : 0);
}

/* ---- heapkit-trace 1, op lines first ---- */

struct trace_stream {
    out_t    *body; /* a held sink (gzsink.h): the op lines, compressed as they come */
    uint32_t  done; /* ops formatted so far */
    uint64_t  time; /* of the last one */
    int       level;
    uint64_t  live, peak;
};

/* The peak of live bytes, followed op by op: trace_peak_live's count without its pass
 * over every op after the end, when the user is waiting. The size a free or a realloc
 * takes off comes from the caller, whose address map holds it (addrtrace.h). */
static void stream_count(trace_stream_t *s, const trace_op_t *op, uint64_t freed)
{
    s->live -= freed;
    if (op->kind != TRACE_FREE)
        s->live += op->size;
    if (s->live > s->peak)
        s->peak = s->live;
}

static out_t *out_wrap(gzsink_t *sink)
{
    out_t *o = calloc(1, sizeof *o);
    if (!o) {
        fprintf(stderr, "heapkit: out of memory\n");
        return NULL;
    }
    o->sink = sink;
    o->buf = gzsink_block(sink);
    return o;
}

trace_stream_t *trace_stream_open(int level)
{
    trace_stream_t *s = calloc(1, sizeof *s);
    gzsink_t *sink = s ? gzsink_open_held(level) : NULL;
    if (!sink || !(s->body = out_wrap(sink))) {
        if (sink)
            gzsink_close(sink);
        free(s);
        return NULL;
    }
    s->level = level;
    return s;
}

void trace_stream_op(trace_stream_t *s, const trace_op_t *op, uint32_t thread, uint64_t time,
                     uint32_t callsite, uint64_t freed)
{
    stream_count(s, op, freed);
    put_op(s->body, op, s->done ? time - s->time : 0, thread, callsite);
    s->time = time;
    s->done++;
}

static out_t *out_open(const char *path, int level);
static int    out_close(out_t *o);

int trace_stream_close(trace_stream_t *s, const trace_t *t, const char *path, uint64_t *peak)
{
    bool miscounted = s->done != t->num_ops;
    *peak = s->peak;
    out_t *body = s->body, *o = miscounted ? NULL : out_open(path, s->level);
    if (miscounted) /* a caller's bug: a header that does not count its op lines */
        fprintf(stderr, "heapkit: %s: %u ops formatted, the header says %u\n", path,
                s->done, t->num_ops);
    free(s);
    if (body->len)
        gzsink_commit(body->sink, body->len);
    if (!o) {
        gzsink_close(body->sink);
        free(body);
        return -1;
    }
    hkt_header(o, t, *peak);
    gzsink_commit(o->sink, o->len); /* the header, then the op lines as compressed */
    o->buf = gzsink_block(o->sink);
    o->len = 0;
    gzsink_splice(o->sink, body->sink);
    free(body);
    return out_close(o);
}

void trace_stream_drop(trace_stream_t *s)
{
    if (!s)
        return;
    gzsink_close(s->body->sink);
    free(s->body);
    free(s);
}

/* ---- CS:APP ---- */

static void rep_line_number(out_t *o, uint64_t v)
{
    out_u64(o, v);
    out_char(o, '\n');
}

static void rep_op(out_t *o, const trace_op_t *op, size_t *lost)
{
    char kind = (char)op->kind;
    if (kind == TRACE_CALLOC || kind == TRACE_ALIGNED) {
        kind = TRACE_ALLOC;
        (*lost)++;
    }
    out_char(o, kind);
    out_char(o, ' ');
    out_u64(o, op->id);
    if (kind != TRACE_FREE) {
        out_char(o, ' ');
        out_u64(o, op->size);
    }
    out_char(o, '\n');
}

/* ---- Public ---- */

static out_t *out_open(const char *path, int level)
{
    gzsink_t *sink = gzsink_open(path, level);
    out_t *o = sink ? out_wrap(sink) : NULL;
    if (sink && !o)
        gzsink_close(sink);
    return o;
}

static int out_close(out_t *o)
{
    if (o->len)
        gzsink_commit(o->sink, o->len);
    int status = gzsink_close(o->sink);
    free(o);
    return status;
}

int trace_write(const trace_t *t, const char *path, trace_format_t format, int level,
                size_t *lost)
{
    size_t lost_ops = 0;
    out_t *o = out_open(path, level);
    if (!o)
        return -1;
    if (format == TRACE_FORMAT_HKT) {
        hkt_header(o, t, trace_peak_live(t, NULL));
        for (uint32_t i = 0; i < t->num_ops; i++)
            hkt_op(o, t, i);
    } else {
        bool from_rep = t->format == TRACE_FORMAT_REP;
        rep_line_number(o, from_rep ? t->header[0] : 1);
        rep_line_number(o, t->num_ids > t->id_span ? t->num_ids : t->id_span);
        rep_line_number(o, t->num_ops);
        rep_line_number(o, from_rep ? t->header[3] : 1);
        for (uint32_t i = 0; i < t->num_ops; i++)
            rep_op(o, &t->ops[i], &lost_ops);
    }
    if (out_close(o) < 0)
        return -1;
    if (lost)
        *lost = lost_ops;
    return 0;
}
