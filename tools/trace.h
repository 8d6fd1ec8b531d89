/*
 * trace.h -- allocation traces, read and validated into an array of ops: the CS:APP
 *            malloc-lab format (.rep) and heapkit's own recorded format (.hkt).
 *
 * Design:      trace_load() reads a whole trace (either format, plain or gzip; the first
 *              line tells which) and checks it completely before anything is replayed:
 *              the header, every line, and the id life cycle (no free/realloc of a dead
 *              id, no allocation of a live id). A trace that loads is therefore safe to
 *              replay against any allocator without further validation. Both formats are
 *              specified in docs/TRACE-FORMAT.md.
 *              The op array is compact and contiguous so the timing pass walks it cheaply;
 *              what only recorded traces carry (thread, time, call site of each op) lives
 *              in parallel arrays that stay NULL for a classic trace.
 *              trace_write() writes a trace in either format, so a trace converts both
 *              ways (a classic trace loses thread, time, call sites and alignment).
 */
#ifndef HK_TOOLS_TRACE_H
#define HK_TOOLS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest request a trace may contain (2^40 bytes); bigger sizes are rejected as absurd.
 * The CS:APP reader keeps its historical 2^32. */
#define TRACE_MAX_SIZE     ((uint64_t)1 << 40)
#define TRACE_MAX_REP_SIZE ((uint64_t)1 << 32)
/* Header counts above this are rejected as absurd (ids are stored in 32 bits). */
#define TRACE_MAX_COUNT ((uint64_t)UINT32_MAX)
/* Largest alignment an aligned allocation may ask for: 2^30 (1 GiB). */
#define TRACE_MAX_ALIGN_SHIFT 30

typedef enum trace_kind {
    TRACE_ALLOC = 'a',   /* a id size:       ptr[id] = malloc(size) */
    TRACE_CALLOC = 'c',  /* c id size:       ptr[id] = calloc(1, size) (zeroed) */
    TRACE_ALIGNED = 'm', /* m id size align: ptr[id] = aligned_alloc(align, size) */
    TRACE_REALLOC = 'r', /* r id size:       ptr[id] = realloc(ptr[id], size); size 0 frees */
    TRACE_FREE = 'f',    /* f id:            free(ptr[id]) */
} trace_kind_t;

typedef enum trace_format {
    TRACE_FORMAT_REP, /* CS:APP malloc lab */
    TRACE_FORMAT_HKT, /* heapkit-trace 1 */
} trace_format_t;

typedef struct trace_op {
    size_t   size;        /* request size in bytes (0 for free) */
    uint32_t id;
    uint8_t  kind;        /* trace_kind_t */
    uint8_t  align_shift; /* TRACE_ALIGNED: log2 of the alignment; else 0 */
} trace_op_t;

/* What a recorded trace says about the process it came from (all optional). */
typedef struct trace_meta {
    char    *program;  /* executable path */
    char    *command;  /* the command line, escaped as in the file */
    char    *ended;    /* how the process ended: "exit 0", "signal 11", ... */
    uint64_t pid, parent; /* 0 = unknown */
    uint64_t peak_live;   /* the recorder's count of peak live bytes; 0 = not stated */
    bool     has_peak_live;
} trace_meta_t;

typedef struct trace {
    char          *path;      /* as given on the command line */
    const char    *name;      /* basename of path, for tables */
    trace_format_t format;
    uint64_t       header[4]; /* .rep: the four header numbers as written */
    uint32_t       num_ids;   /* every id is < num_ids */
    uint32_t       num_ops;   /* exactly this many ops */
    uint32_t       id_span;   /* 1 + largest id used (0 when there are no ops): sizes bookkeeping */
    trace_op_t    *ops;       /* num_ops ops, in the order they happened */
    uint32_t      *lines;     /* lines[i] = line number of ops[i], for messages */
    /* Recorded traces only (NULL / 0 / 1 for a classic one): */
    uint32_t       num_threads; /* every thread index is < num_threads; >= 1 */
    uint32_t      *thread;      /* thread of each op; NULL when all ops are on thread 0 */
    uint64_t      *time;        /* nanoseconds since the first op; NULL when not recorded */
    uint32_t      *callsite;    /* call site of each op + 1 (0 = none); NULL when none */
    uint32_t       num_callsites;
    char         **callsites;   /* num_callsites descriptions ("func+0x1c (libfoo.so)") */
    trace_meta_t   meta;
} trace_t;

/* Reads and validates `path`. On success returns 0 and fills *t. On failure prints
 * "heapkit: FILE:LINE: message" (or "heapkit: FILE: message") to stderr, leaves *t
 * empty and returns -1. */
int  trace_load(const char *path, trace_t *t);
void trace_free(trace_t *t);

/* Writes t to path in `format`, gzip-compressed at `level` (1 fastest .. 9 smallest; 0:
 * plain text). A classic trace keeps only op, id and size: calloc and aligned allocations
 * become plain ones (their count is returned in *lost, when not NULL). Returns 0, or -1
 * after printing a message. */
#define TRACE_GZIP_FAST  1 /* what `heapkit record` writes: the user waits for it */
#define TRACE_GZIP_SMALL 6 /* convert and import: zlib's default */
int trace_write(const trace_t *t, const char *path, trace_format_t format, int level,
                size_t *lost);

/* A heapkit-trace written while its ops are still being made: the op lines are
 * formatted and compressed as they come, and the header, which counts them, is written
 * before them at the close. open: NULL after a message. op: formats the next op (its
 * trace thread, its time in nanoseconds since the first op, never decreasing, and its
 * call site + 1, 0 for none), which nothing keeps afterwards; freed: for a free or a
 * realloc, the size its id had until then (the caller knows it: the stream keeps no
 * per-id state), else 0. close: writes path with the
 * header of t, whose num_ops must be the ops given (its op arrays are not read: they may
 * be NULL), returns 0 or -1 after a message, sets *peak to the peak live bytes (counted
 * as the ops came) and frees the stream; drop frees it without writing. */
typedef struct trace_stream trace_stream_t;
trace_stream_t *trace_stream_open(int level);
void            trace_stream_op(trace_stream_t *s, const trace_op_t *op, uint32_t thread,
                                uint64_t time, uint32_t callsite, uint64_t freed);
int             trace_stream_close(trace_stream_t *s, const trace_t *t, const char *path,
                                   uint64_t *peak);
void            trace_stream_drop(trace_stream_t *s);

/* The peak of the sum of requested sizes of live blocks over the trace, and the time of
 * its op index. An independent reading of the file is in tests (it must agree). */
uint64_t trace_peak_live(const trace_t *t, uint32_t *at);

/* True for the 11 CS:APP malloc-lab traces its driver grades: a "-bal.rep" file name,
 * but not the two tiny debugging traces short1 and short2 (the lab's targets are means
 * over these; our generated traces are not graded). */
int trace_is_graded(const trace_t *t);

#endif
