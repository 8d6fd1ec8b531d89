/*
 * rawread.h -- reads a recording directory (tools/recorder/rawlog.h) after the program
 *              has ended, and turns each process image into a trace.
 *
 * Design:      raw_dir_open() reads every image's meta file and finds its event files;
 *              raw_image_trace() merges the image's event files in seq order (each file
 *              is already in order: R1), feeds the calls to an addrtrace builder, and
 *              resolves call sites. A forked child first gets the blocks it inherited:
 *              its parent image's live set at the fork (recursively, for a child of a
 *              child), as allocations at time 0.
 */
#ifndef HK_TOOLS_RAWREAD_H
#define HK_TOOLS_RAWREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rawevent.h"
#include "recorder/rawlog.h"
#include "trace.h"

typedef struct raw_image {
    char     name[48]; /* "<pid>.<k>" */
    uint64_t pid, ppid, k;
    uint64_t event_size;
    bool     callsites;
    char    *exe, *cmdline, *ended, *error;
    uint64_t start_ns;
    bool     tsc;                 /* "clock tsc": seq and time are time stamp counts */
    uint64_t start_tsc, end_ns, end_tsc; /* the pairs that turn counts into nanoseconds */
    uint64_t tick_ns, tick_tsc;          /* the last pair written when a buffer filled */
    char     forked_from[48]; /* "<pid>.<k>" of the parent image, "" when not forked */
    uint64_t fork_seq;
    uint64_t events_stated, dropped; /* what the recorder counted ("events", "dropped") */
    char    *maps;                   /* /proc/self/maps at the end (with call sites) */
    size_t   maps_len;
    char   **ev_paths;
    size_t   ev_count;
} raw_image_t;

typedef struct raw_dir {
    char        *path;
    raw_image_t *images; /* sorted by pid, then k */
    size_t       count;
    size_t       unreadable; /* images whose meta file could not be read (said on stderr) */
} raw_dir_t;

typedef struct raw_summary {
    uint64_t events;          /* events read from the files */
    uint64_t inherited;       /* blocks a forked child started with */
    uint64_t unknown_frees, implicit_frees, unknown_reallocs, unfinished_reallocs; /* repairs
                                                                            (addrtrace.h) */
    uint64_t oversized;       /* allocations above TRACE_MAX_SIZE, left out (with their frees) */
} raw_summary_t;

/* Returns 0, or -1 after a message ("heapkit: DIR: ..."). */
int  raw_dir_open(raw_dir_t *d, const char *path);
void raw_dir_close(raw_dir_t *d);

/* Builds the trace of image i into *out. Returns 0, or -1 after a message naming the
 * file (a log that breaks rawlog.h's invariants is refused, not guessed at). */
int raw_image_trace(const raw_dir_t *d, size_t i, trace_t *out, raw_summary_t *sum);

/* The meta file of one image, as far as it is written (`heapkit record` reads the start
 * of it while the program runs). Returns 0, or -1 after a message. raw_image_free frees
 * what it holds. */
int  raw_meta_read(raw_image_t *img, const char *path);
void raw_image_free(raw_image_t *img);

/* The trace of an image built event by event, as raw_image_trace does from the files,
 * for a caller that has the events in seq order another way (rawlive.h: while the program
 * runs). img (its start, event size, call sites) must stay until finish or drop.
 * ns_per_tick: the rate of a tsc image's stamps, or 0 for the one of img's pairs. Each op
 * goes to `stream` (trace_stream_op) as it is made and is not kept: *out gets the counts
 * and the meta, never an op (addrtrace.h: at_set_stream).
 * event: one decoded with rawevent.h. finish completes it with the final meta of image i of d
 * (how it ended; call sites named through its maps) and frees rb, like raw_image_trace
 * (-1 after a message, *out then empty); drop frees rb and *out. */
typedef struct raw_build raw_build_t;
raw_build_t *raw_build_open(const raw_image_t *img, trace_t *out, double ns_per_tick,
                            trace_stream_t *stream);
int          raw_build_event(raw_build_t *rb, const rawlog_event_t *e, const char *path);
/* The slots of an event that comes a few events later (n bytes there): its map lookups
 * are started now. */
void         raw_build_prefetch(const raw_build_t *rb, const void *slots, size_t n);
/* The fast path of a caller feeding one event file: the plain slots (rawevent.h:
 * rawev_plain) at p, as many as follow one another there (n bytes), fed as events of the
 * file read by dec, each after the one before (R1: seq above *last_seq, when *any). It
 * stops at anything else (a thread or wide slot, the bytes' end, a seq out of order, an
 * allocation failure) for the caller's general path; returns the bytes fed, and
 * *last_seq, *any follow the last event fed. */
size_t       raw_build_plain(raw_build_t *rb, rawev_file_t *dec, const unsigned char *p,
                             size_t n, const char *path, uint64_t *last_seq, bool *any);
int          raw_build_finish(raw_build_t *rb, const raw_dir_t *d, size_t i, raw_summary_t *sum);
void         raw_build_drop(raw_build_t *rb);

#endif
