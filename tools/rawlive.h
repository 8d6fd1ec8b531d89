/*
 * rawlive.h -- the trace of CMD's process built while CMD runs: `heapkit record` reads
 *              the raw log as the recorder writes it (rawlog.h), so that after CMD ends
 *              only its last events are left to convert, and the user waits for them
 *              alone (the programs are single-threaded; the machine has another core).
 *
 * Design:      Optimistic. The events of the image are merged in seq order as they
 *              reach their files, turned into trace ops (rawread.h: raw_build) and
 *              formatted and compressed at once (trace.h: trace_stream), not kept: the
 *              trace it finishes holds the header's counts and meta, no op. A thread's
 *              buffer reaches its file only when full (or at the end), so a quiet
 *              thread's buffer can hold events older than ones already converted: the
 *              first event that arrives below what was already converted, or anything
 *              else this reading cannot take exactly (a cut event, too many event files,
 *              an error, the live image missing at the end), makes it give up, and that
 *              image is then converted after CMD ended from the files, as every other
 *              image is (rawread.h): the same ops, in every case. Only the first image
 *              of CMD's own process is followed (a forked child needs its parent's live
 *              set at the fork; an exec'd image follows an image that ended).
 * Time stamps: with "clock tsc" the stamps become nanoseconds through a rate this
 *              process measures itself (its own clock and counter, 20 ms apart at
 *              least, before the first event is converted); the post-run conversion
 *              takes it from the recorder's start and end pairs. Both are the same
 *              constant counter's rate, to a few parts in a million.
 * Invariants:  L1 every converted event has seq >= every event converted before it;
 *              L2 within one event file, seq strictly increases (R1); L3 an event is
 *              converted only when all of its bytes were read. Any break: given up.
 */
#ifndef HK_TOOLS_RAWLIVE_H
#define HK_TOOLS_RAWLIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "rawread.h"
#include "trace.h"

typedef struct raw_live raw_live_t;

/* Follows image "<pid>.0" of the recording in dir. NULL when it cannot (out of memory). */
raw_live_t *raw_live_open(const char *dir, uint64_t pid);
/* Converts what was written since the last step. True when there was something. */
bool raw_live_step(raw_live_t *l);
/* Is img the image followed? */
bool raw_live_follows(const raw_live_t *l, const raw_image_t *img);
/* Still converting (has not given up). */
bool raw_live_on(const raw_live_t *l);
/* After CMD ended: if image i of d is the one followed and the live conversion held to
 * the end, converts the rest and completes *out as raw_image_trace would, but for its ops
 * (num_ops counts them; the arrays are NULL: they are in the stream) (returns 0), or
 * -1 after a message as raw_image_trace; 1: not this image, or given up (*out untouched:
 * convert it from the files). */
int raw_live_finish(raw_live_t *l, const raw_dir_t *d, size_t i, trace_t *out,
                    raw_summary_t *sum);
/* Writes the trace finished above to path (trace_stream_close: *peak gets its peak live
 * bytes). 0, or -1 after a message. */
int raw_live_write(raw_live_t *l, const trace_t *t, const char *path, uint64_t *peak);
/* Why it gave up ("" when it did not). */
const char *raw_live_why(const raw_live_t *l);
void        raw_live_close(raw_live_t *l);

#endif
