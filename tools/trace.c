/*
 * trace.c -- loads traces of either format (trace.h), validates them fully, and reads
 *            the CS:APP malloc-lab format itself.
 *
 * Design:      The first non-blank line tells the format: "heapkit-trace" starts a
 *              recorded trace (trace_hkt.c parses the rest), anything else is the first
 *              header number of a CS:APP trace. Every line goes through lines.h, so every
 *              error names FILE:LINE. The CS:APP header is four lines of one number each;
 *              only the middle two (num_ids, num_ops) mean the same thing in every version
 *              of the lab, so only they are interpreted (docs/TRACE-FORMAT.md). The id
 *              life cycle is simulated by the loader while reading, so a loaded trace never
 *              frees a dead id or allocates a live one.
 * Complexity:  O(bytes of the file); memory O(ops + largest id).
 */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_read.h"

/* ---- Loader: id life cycle ---- */

/* Ids may be sparse, but not absurdly: a trace of n ops names at most n blocks, and the
 * replay keeps arrays indexed by id, so an id far beyond that would cost gigabytes for
 * nothing (two lines could ask for 32 GB). */
static uint64_t id_limit(const loader_t *l) { return 2 * (uint64_t)l->t->num_ops + (1u << 20); }

static int ids_reserve(loader_t *l, uint32_t id)
{
    if (id < l->id_capacity)
        return 0;
    uint64_t cap = l->id_capacity ? l->id_capacity : 1024;
    while (cap <= id)
        cap *= 2;
    uint32_t *born = realloc(l->born, cap * sizeof *born);
    if (!born)
        return -1;
    l->born = born;
    uint32_t *died = realloc(l->died, cap * sizeof *died);
    if (!died)
        return -1;
    l->died = died;
    memset(born + l->id_capacity, 0, (cap - l->id_capacity) * sizeof *born);
    memset(died + l->id_capacity, 0, (cap - l->id_capacity) * sizeof *died);
    l->id_capacity = cap;
    return 0;
}

static void report_dead_id(loader_t *l, const char *what, uint32_t id, uint32_t died)
{
    if (died)
        lines_report(&l->in, "%s of id %u, which was already freed (line %u)", what, id, died);
    else
        lines_report(&l->in, "%s of id %u, which was never allocated", what, id);
}

/* Applies op to the life cycle, rejecting what a real program could not do. */
static int track_op(loader_t *l, const trace_op_t *op)
{
    uint32_t id = op->id, line = (uint32_t)l->in.line;
    if (id >= id_limit(l)) {
        lines_report(&l->in, "id %u is absurd for a trace of %u ops (limit %llu): renumber its "
                             "ids densely", id, l->t->num_ops, (unsigned long long)id_limit(l));
        return -1;
    }
    if (ids_reserve(l, id) < 0) {
        lines_report(&l->in, "out of memory");
        return -1;
    }
    switch (op->kind) {
    case TRACE_REALLOC:
    case TRACE_FREE:
        if (!l->born[id]) {
            report_dead_id(l, op->kind == TRACE_FREE ? "free" : "realloc", id, l->died[id]);
            return -1;
        }
        if (op->kind == TRACE_FREE || op->size == 0) { /* realloc(p, 0) frees p */
            l->born[id] = 0;
            l->died[id] = line;
        }
        return 0;
    default: /* every allocation */
        if (l->born[id]) {
            lines_report(&l->in, "allocation of id %u, which is already live (allocated at "
                                 "line %u)", id, l->born[id]);
            return -1;
        }
        l->born[id] = line;
        return 0;
    }
}

/* ---- Loader: arrays ---- */

static int grow_array(void **array, size_t elem, uint32_t cap)
{
    void *p = realloc(*array, (size_t)cap * elem);
    if (!p)
        return -1;
    *array = p;
    return 0;
}

static int grow_ops(loader_t *l)
{
    trace_t *t = l->t;
    uint64_t cap = l->capacity ? (uint64_t)l->capacity * 2 : 4096;
    if (cap > t->num_ops)
        cap = t->num_ops;
    uint32_t c = (uint32_t)cap;
    if (grow_array((void **)&t->ops, sizeof *t->ops, c) < 0 ||
        grow_array((void **)&t->lines, sizeof *t->lines, c) < 0 ||
        (l->threads && grow_array((void **)&t->thread, sizeof *t->thread, c) < 0) ||
        (l->times && grow_array((void **)&t->time, sizeof *t->time, c) < 0) ||
        (l->callsites && grow_array((void **)&t->callsite, sizeof *t->callsite, c) < 0)) {
        lines_report(&l->in, "out of memory reading %u ops", c);
        return -1;
    }
    l->capacity = c;
    return 0;
}

int loader_room(loader_t *l)
{
    if (l->count < l->t->num_ops)
        return 0;
    lines_report(&l->in, "trailing garbage: the header announces %u ops, and this line "
                         "follows them", l->t->num_ops);
    return -1;
}

int loader_add(loader_t *l, const trace_op_t *op, uint32_t thread, uint64_t time,
               uint32_t callsite)
{
    trace_t *t = l->t;
    if (loader_room(l) < 0)
        return -1;
    if (l->count == l->capacity && grow_ops(l) < 0)
        return -1;
    if (track_op(l, op) < 0)
        return -1;
    uint32_t i = l->count++;
    t->ops[i] = *op;
    t->lines[i] = (uint32_t)l->in.line;
    if (l->threads)
        t->thread[i] = thread;
    if (l->times)
        t->time[i] = time;
    if (l->callsites)
        t->callsite[i] = callsite;
    if (op->id >= t->id_span)
        t->id_span = op->id + 1;
    return 0;
}

int loader_expect_count(loader_t *l)
{
    if (l->count < l->t->num_ops) {
        lines_report(&l->in, "truncated: the header announces %u ops, the file has only %u",
                     l->t->num_ops, l->count);
        return -1;
    }
    return 0;
}

char *loader_strdup(loader_t *l, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        lines_report(&l->in, "out of memory");
    return copy;
}

/* ---- CS:APP traces ---- */

static const char *const header_field[4] = {
    "header line 1 (suggested heap size, or weight)",
    "header line 2 (number of ids)",
    "header line 3 (number of ops)",
    "header line 4 (weight, or a driver-specific number)",
};

/* The four header numbers; the first line has been read already. */
static int rep_header(loader_t *l)
{
    trace_t *t = l->t;
    for (int i = 0; i < 4; i++) {
        int got = i == 0 ? 1 : lines_next(&l->in);
        if (got < 0)
            return -1;
        if (got == 0) {
            lines_report(&l->in, "bad header: the file ends after %d of its 4 numbers", i);
            return -1;
        }
        const char *s = l->in.text;
        uint64_t max = (i == 1 || i == 2) ? TRACE_MAX_COUNT : UINT64_MAX;
        if (lines_number(&l->in, &s, header_field[i], max, &t->header[i]) < 0 ||
            lines_expect_end(&l->in, s) < 0)
            return -1;
    }
    t->num_ids = (uint32_t)t->header[1];
    t->num_ops = (uint32_t)t->header[2];
    return 0;
}

static int rep_op(loader_t *l, trace_op_t *op)
{
    lines_t *in = &l->in;
    const char *s = in->text;
    char kind = *s++;
    if ((kind != 'a' && kind != 'r' && kind != 'f') || (*s && !lines_is_blank(*s))) {
        lines_report(in, "unknown op '%s' (expected a, r or f)", lines_excerpt(in->text).text);
        return -1;
    }
    uint64_t id, size = 0;
    if (lines_number(in, &s, "id", UINT64_MAX, &id) < 0)
        return -1;
    if (id >= l->t->num_ids) {
        lines_report(in, "id %llu out of range: the header declares %u ids",
                     (unsigned long long)id, l->t->num_ids);
        return -1;
    }
    if (kind != 'f' && lines_number(in, &s, "size", TRACE_MAX_REP_SIZE, &size) < 0)
        return -1;
    if (lines_expect_end(in, s) < 0)
        return -1;
    *op = (trace_op_t){.size = (size_t)size, .id = (uint32_t)id, .kind = (uint8_t)kind};
    return 0;
}

static int rep_parse(loader_t *l)
{
    if (rep_header(l) < 0)
        return -1;
    int got;
    while ((got = lines_next(&l->in)) > 0) {
        trace_op_t op;
        if (loader_room(l) < 0 || rep_op(l, &op) < 0 || loader_add(l, &op, 0, 0, 0) < 0)
            return -1;
    }
    return got < 0 ? -1 : loader_expect_count(l);
}

/* ---- Public ---- */

static int parse(loader_t *l)
{
    int got = lines_next(&l->in);
    if (got < 0)
        return -1;
    if (got == 0) {
        lines_report(&l->in, "bad header: the file is empty");
        return -1;
    }
    if (strncmp(l->in.text, "heapkit-trace", 13) == 0) {
        l->t->format = TRACE_FORMAT_HKT;
        return trace_hkt_parse(l);
    }
    l->t->format = TRACE_FORMAT_REP;
    return rep_parse(l);
}

int trace_load(const char *path, trace_t *t)
{
    memset(t, 0, sizeof *t);
    t->num_threads = 1;
    loader_t l = {.t = t};
    if (lines_open(&l.in, path) < 0)
        return -1;
    int status = parse(&l);
    lines_close(&l.in);
    free(l.born);
    free(l.died);
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
    free(t->thread);
    free(t->time);
    free(t->callsite);
    for (uint32_t i = 0; i < t->num_callsites && t->callsites; i++)
        free(t->callsites[i]);
    free(t->callsites);
    free(t->meta.program);
    free(t->meta.command);
    free(t->meta.ended);
    memset(t, 0, sizeof *t);
}

uint64_t trace_peak_live(const trace_t *t, uint32_t *at)
{
    /* sizes of live ids: the loader guaranteed every free names a live id */
    size_t *size = calloc(t->id_span ? t->id_span : 1, sizeof *size);
    uint64_t live = 0, peak = 0;
    uint32_t peak_at = 0;
    if (!size)
        return 0;
    for (uint32_t i = 0; i < t->num_ops; i++) {
        const trace_op_t *op = &t->ops[i];
        if (op->kind == TRACE_FREE || op->kind == TRACE_REALLOC) {
            live -= size[op->id];
            size[op->id] = 0;
        }
        if (op->kind != TRACE_FREE) {
            size[op->id] = op->size;
            live += op->size;
        }
        if (live > peak) {
            peak = live;
            peak_at = i;
        }
    }
    free(size);
    if (at)
        *at = peak_at;
    return peak;
}

int trace_is_graded(const trace_t *t)
{
    return strstr(t->name, "-bal.rep") != NULL && strncmp(t->name, "short1", 6) != 0 &&
           strncmp(t->name, "short2", 6) != 0;
}
