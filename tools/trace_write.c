/*
 * trace_write.c -- writes a trace_t in either format (trace.h, docs/TRACE-FORMAT.md).
 *
 * Design:      Lines are formatted by hand into a 1 MiB buffer and handed to zlib in
 *              blocks (gzopen "wb<level>" compresses, "wbT" writes plain text through the
 *              same calls), because traces of millions of ops would spend most of their time
 *              in a printf per line. Compression runs on a thread of its own, one buffer
 *              behind the formatting (two buffers, handed over under a mutex): deflate is
 *              most of the cost of writing a recorded trace, and `heapkit record` makes the
 *              user wait for it after the program ends. Text values of the header (program, command, how the
 *              process ended, call sites) are made single-line and printable here, so
 *              whatever a recorded process put in its argv, the file stays one item per
 *              line and within the reader's line limit.
 * Complexity:  O(ops).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lines.h"
#include "trace.h"

#define OUT_BUF ((size_t)1 << 20)
#define TEXT_MAX (LINES_MAX_BYTES - 64) /* room for the key and the index */

typedef struct out {
    gzFile          file;
    const char     *path;
    char           *buf;       /* the buffer being filled: bufs[cur] */
    size_t          len;
    char           *bufs[2];
    size_t          lens[2];
    int             cur;
    /* the compressing thread: */
    pthread_t       writer;
    bool            threaded;
    pthread_mutex_t lock;
    pthread_cond_t  changed;
    int             pending;   /* buffer handed over and not written yet, -1: none */
    bool            finishing; /* no more buffers will come */
    bool            failed;    /* a write failed (read under lock) */
} out_t;

static bool write_block(out_t *o, int i)
{
    return o->lens[i] == 0 || gzwrite(o->file, o->bufs[i], (unsigned)o->lens[i]) == (int)o->lens[i];
}

static void *writer_main(void *arg)
{
    out_t *o = arg;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (o->pending < 0 && !o->finishing)
            pthread_cond_wait(&o->changed, &o->lock);
        if (o->pending < 0)
            break;
        int i = o->pending;
        pthread_mutex_unlock(&o->lock);
        bool ok = write_block(o, i);
        pthread_mutex_lock(&o->lock);
        o->failed |= !ok;
        o->pending = -1;
        pthread_cond_broadcast(&o->changed);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

/* Hands the full buffer over (or writes it here, without a thread) and starts the other. */
static void out_flush(out_t *o)
{
    o->lens[o->cur] = o->len;
    if (!o->threaded) {
        o->failed |= !write_block(o, o->cur);
    } else {
        pthread_mutex_lock(&o->lock);
        while (o->pending >= 0)
            pthread_cond_wait(&o->changed, &o->lock);
        o->pending = o->cur;
        pthread_cond_broadcast(&o->changed);
        pthread_mutex_unlock(&o->lock);
        o->cur ^= 1;
    }
    o->buf = o->bufs[o->cur];
    o->len = 0;
}

/* Writes what is left and stops the thread. Returns false when any write failed. */
static bool out_finish(out_t *o)
{
    out_flush(o);
    if (o->threaded) {
        pthread_mutex_lock(&o->lock);
        o->finishing = true;
        pthread_cond_broadcast(&o->changed);
        pthread_mutex_unlock(&o->lock);
        pthread_join(o->writer, NULL);
    }
    return !o->failed;
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

static out_t *out_open(const char *path, int level)
{
    out_t *o = calloc(1, sizeof *o);
    if (!o || !(o->bufs[0] = malloc(OUT_BUF)) || !(o->bufs[1] = malloc(OUT_BUF))) {
        if (o)
            free(o->bufs[0]);
        free(o);
        fprintf(stderr, "heapkit: %s: out of memory\n", path);
        return NULL;
    }
    char mode[8];
    snprintf(mode, sizeof mode, level > 0 ? "wb%d" : "wbT", level > 9 ? 9 : level);
    errno = 0;
    o->file = gzopen(path, mode);
    if (!o->file) {
        fprintf(stderr, "heapkit: %s: cannot create: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        free(o->bufs[0]);
        free(o->bufs[1]);
        free(o);
        return NULL;
    }
    o->path = path;
    o->buf = o->bufs[0];
    o->pending = -1;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->changed, NULL);
    /* plain text is written as fast as it is formatted: no thread needed */
    o->threaded = level > 0 && pthread_create(&o->writer, NULL, writer_main, o) == 0;
    return o;
}

static int out_close(out_t *o, bool ok)
{
    ok &= out_finish(o);
    int err = gzclose(o->file);
    if (!ok || err != Z_OK)
        fprintf(stderr, "heapkit: %s: cannot write: %s\n", o->path,
                errno ? strerror(errno) : "write error");
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->changed);
    free(o->bufs[0]);
    free(o->bufs[1]);
    bool failed = !ok || err != Z_OK;
    free(o);
    return failed ? -1 : 0;
}

int trace_write(const trace_t *t, const char *path, trace_format_t format, int level,
                size_t *lost)
{
    size_t lost_ops = 0;
    out_t *o = out_open(path, level);
    if (!o)
        return -1;
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
    if (out_close(o, true) < 0)
        return -1;
    if (lost)
        *lost = lost_ops;
    return 0;
}
