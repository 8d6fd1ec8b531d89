/*
 * trace_write.c -- writes a trace_t in either format (trace.h, docs/TRACE-FORMAT.md).
 *
 * Design:      Lines are formatted by hand into a 64 KiB buffer and handed to zlib in
 *              blocks (gzopen "wb" compresses, "wbT" writes plain text through the same
 *              calls), because traces of millions of ops would spend most of their time in
 *              a printf per line. Text values of the header (program, command, how the
 *              process ended, call sites) are made single-line and printable here, so
 *              whatever a recorded process put in its argv, the file stays one item per
 *              line and within the reader's line limit.
 * Complexity:  O(ops).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lines.h"
#include "trace.h"

#define OUT_BUF ((size_t)64 << 10)
#define TEXT_MAX (LINES_MAX_BYTES - 64) /* room for the key and the index */

typedef struct out {
    gzFile      file;
    const char *path;
    char        buf[OUT_BUF];
    size_t      len;
    bool        failed;
} out_t;

static void out_flush(out_t *o)
{
    if (o->len && !o->failed && gzwrite(o->file, o->buf, (unsigned)o->len) != (int)o->len)
        o->failed = true;
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

static void out_u64(out_t *o, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out_bytes(o, tmp + n, sizeof tmp - n);
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

static void hkt_header(out_t *o, const trace_t *t)
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
    out_key_number(o, "peak-live", trace_peak_live(t, NULL));
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

static void hkt_op(out_t *o, const trace_t *t, uint32_t i)
{
    const trace_op_t *op = &t->ops[i];
    uint64_t dt = t->time && i > 0 ? t->time[i] - t->time[i - 1] : 0;
    out_u64(o, dt);
    out_char(o, ' ');
    out_u64(o, t->thread ? t->thread[i] : 0);
    out_char(o, ' ');
    out_char(o, (char)op->kind);
    out_char(o, ' ');
    out_u64(o, op->id);
    if (op->kind != TRACE_FREE) {
        out_char(o, ' ');
        out_u64(o, op->size);
    }
    if (op->kind == TRACE_ALIGNED) {
        out_char(o, ' ');
        out_u64(o, (uint64_t)1 << op->align_shift);
    }
    if (t->callsite && t->callsite[i]) {
        out_str(o, " @");
        out_u64(o, t->callsite[i] - 1);
    }
    out_char(o, '\n');
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

int trace_write(const trace_t *t, const char *path, trace_format_t format, bool compress,
                size_t *lost)
{
    out_t *o = malloc(sizeof *o);
    size_t lost_ops = 0;
    if (!o) {
        fprintf(stderr, "heapkit: %s: out of memory\n", path);
        return -1;
    }
    o->len = 0;
    o->failed = false;
    o->path = path;
    errno = 0;
    o->file = gzopen(path, compress ? "wb6" : "wbT");
    if (!o->file) {
        fprintf(stderr, "heapkit: %s: cannot create: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        free(o);
        return -1;
    }
    if (format == TRACE_FORMAT_HKT) {
        hkt_header(o, t);
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
    out_flush(o);
    int err = gzclose(o->file);
    bool failed = o->failed || err != Z_OK;
    free(o);
    if (failed) {
        fprintf(stderr, "heapkit: %s: cannot write: %s\n", path,
                errno ? strerror(errno) : "write error");
        return -1;
    }
    if (lost)
        *lost = lost_ops;
    return 0;
}
