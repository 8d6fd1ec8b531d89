/*
 * trace.h -- CS:APP malloc-lab traces (.rep), read and validated into an array of ops.
 *
 * Design:      trace_load() reads a whole trace (plain or gzip) and checks it completely
 *              before anything is replayed: the header, every line, and the id life cycle
 *              (no free/realloc of a dead id, no allocation of a live id). A trace that
 *              loads is therefore safe to replay against any allocator without further
 *              validation. The format and its header variants are in docs/TRACE-FORMAT.md.
 *              The op array is compact and contiguous so the timing pass walks it cheaply.
 */
#ifndef HK_TOOLS_TRACE_H
#define HK_TOOLS_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* Largest request a trace may contain (2^32 bytes); bigger sizes are rejected as absurd. */
#define TRACE_MAX_SIZE ((uint64_t)1 << 32)
/* Header counts above this are rejected as absurd (ids are stored in 32 bits). */
#define TRACE_MAX_COUNT ((uint64_t)UINT32_MAX)

typedef enum trace_kind {
    TRACE_ALLOC = 'a',   /* a id size: ptr[id] = malloc(size) */
    TRACE_REALLOC = 'r', /* r id size: ptr[id] = realloc(ptr[id], size); size 0 frees */
    TRACE_FREE = 'f',    /* f id:      free(ptr[id]) */
} trace_kind_t;

typedef struct trace_op {
    size_t   size; /* request size in bytes (0 for free) */
    uint32_t id;
    uint8_t  kind; /* trace_kind_t */
} trace_op_t;

typedef struct trace {
    char       *path;      /* as given on the command line */
    const char *name;      /* basename of path, for tables */
    uint64_t    header[4]; /* the four header numbers as written */
    uint32_t    num_ids;   /* header[1]: every id is < num_ids */
    uint32_t    num_ops;   /* header[2]: exactly this many ops follow */
    uint32_t    id_span;   /* 1 + largest id used (0 when there are no ops): sizes bookkeeping */
    trace_op_t *ops;       /* num_ops ops */
    uint32_t   *lines;     /* lines[i] = line number of ops[i], for messages */
} trace_t;

/* Reads and validates `path`. On success returns 0 and fills *t. On failure prints
 * "heapkit: FILE:LINE: message" (or "heapkit: FILE: message") to stderr, leaves *t
 * empty and returns -1. */
int trace_load(const char *path, trace_t *t);
void trace_free(trace_t *t);

/* True for the 11 CS:APP malloc-lab traces its driver grades: a "-bal.rep" file name,
 * but not the two tiny debugging traces short1 and short2 (the lab's targets are means
 * over these; our generated traces are not graded). */
int trace_is_graded(const trace_t *t);

#endif
