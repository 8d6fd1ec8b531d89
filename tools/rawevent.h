/*
 * rawevent.h -- the slots of one event file (recorder/rawlog.h) read back as events.
 *
 * Design:      Both readers of the raw log, rawread.c (mapped files, after the end) and
 *              rawlive.c (files read as they grow), go through rawev_next, so the slot
 *              layout is decoded and checked (R3, R5) in one place. The state a file
 *              carries from slot to slot is its thread (the last RAWLOG_THREAD slot).
 *              R1 stays with the callers, which merge files and say which is out of order.
 */
#ifndef HK_TOOLS_RAWEVENT_H
#define HK_TOOLS_RAWEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder/rawlog.h"

typedef struct rawev_file {
    size_t   slot;      /* the image's event-size: RAWLOG_EVENT_SIZE, + 8 with call sites */
    bool     tsc;       /* "clock tsc": an event's time is its seq */
    bool     started;   /* a RAWLOG_THREAD slot was read (R5) */
    uint32_t thread;    /* of the events from here on */
} rawev_file_t;

/* The common event: one slot after the file's thread slot, with the counter clock (no
 * wide slot: not a realloc, a size below RAWLOG_SIZE_WIDE). True when s is one, and then
 * it holds R3 and R5: its fields are the event's (rawlog.h), its thread f->thread, its
 * time its seq. Inline: the converters' fast paths test every slot with it. */
static inline bool rawev_plain(const rawev_file_t *f, const rawlog_slot_t *s)
{
    return f->started && f->tsc && s->op >= RAWLOG_MALLOC && s->op <= RAWLOG_REALLOC_BEGIN &&
           s->op != RAWLOG_REALLOC && s->size != RAWLOG_SIZE_WIDE &&
           (s->op != RAWLOG_ALIGNED || s->align_shift < 64);
}

/* A reader at the start of a file of an image with this slot size and clock. */
void rawev_init(rawev_file_t *f, size_t slot, bool tsc);

/* The next event in the n bytes at p (p at a slot boundary), RAWLOG_THREAD slots before
 * it read on the way. Returns 1: *e holds it and *used the bytes up to its end; 0: the
 * bytes end before a whole event, *used the RAWLOG_THREAD slots read (the caller may
 * skip them; the rest is a cut event, or one still being written); -1: the slots break
 * R3 or R5, *why says how (*used 0). */
int rawev_next(rawev_file_t *f, const unsigned char *p, size_t n, rawlog_event_t *e,
               size_t *used, const char **why);

/* The addresses of the event at p (n bytes there) that a reader will look up: its addr
 * and, for a realloc whose wide slot is within n, the old block (else 0). For prefetching
 * only: a slot that is not an event gives whatever it holds. */
void rawev_peek(const unsigned char *p, size_t n, size_t slot, uint64_t *addr,
                uint64_t *old);

#endif
