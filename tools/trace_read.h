/*
 * trace_read.h -- what the two trace parsers (trace.c: CS:APP, trace_hkt.c: heapkit)
 *                 share: the loader that appends validated ops to a trace_t.
 *
 * Design:      A parser turns each line into a trace_op_t (plus thread, time and call
 *              site for recorded traces) and hands it to loader_add(), which simulates
 *              the id life cycle (trace.h promises a loaded trace never frees a dead id
 *              or allocates a live one) and grows the arrays with what the body actually
 *              contains: nothing read from the header is trusted for sizing memory.
 */
#ifndef HK_TOOLS_TRACE_READ_H
#define HK_TOOLS_TRACE_READ_H

#include "lines.h"
#include "trace.h"

typedef struct loader {
    lines_t   in;
    trace_t  *t;
    uint32_t  count;    /* ops appended so far */
    uint32_t  capacity; /* ops the arrays hold */
    bool      threads, times, callsites; /* which parallel arrays the trace has */
    /* id life cycle: the line that made each id live (0 = not live), the line that last
     * freed it */
    uint32_t *born, *died;
    uint64_t  id_capacity;
} loader_t;

/* Fails (reporting trailing garbage) when the announced number of ops has been read. */
int loader_room(loader_t *l);
/* Appends op (read from the current line) with its thread, time and call site + 1 (used
 * only when the loader keeps those arrays). Returns 0 or -1 (reported). */
int loader_add(loader_t *l, const trace_op_t *op, uint32_t thread, uint64_t time,
               uint32_t callsite);
/* Fails unless exactly t->num_ops ops were appended; reports at the current line. */
int loader_expect_count(loader_t *l);

/* Reads the rest of a heapkit-trace file; the first line has been read. trace_hkt.c */
int trace_hkt_parse(loader_t *l);

/* Copies s into a fresh string (NULL when out of memory, reported). */
char *loader_strdup(loader_t *l, const char *s);

#endif
