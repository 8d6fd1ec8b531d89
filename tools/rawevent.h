/*
 * rawevent.h -- the slots of one event file (recorder/rawlog.h) read back as events.
 *
 * Design:      Both readers of the raw log, rawread.c (mapped files, after the end) and
 *              rawlive.c (files read as they grow), go through rawev_next, so the slot
 *              layout is decoded and checked (R3, R5) in one place. The state a file
 *              carries from slot to slot is its thread (the last thread slot) and the
 *              base its next event's dseq counts from (the seq of the event before).
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
    uint64_t base;      /* the seq the next event's dseq counts from */
} rawev_file_t;

/* The common event: one slot after the file's thread slot, with the counter clock (no
 * wide or far slot: not a realloc, a size below RAWLOG_SIZE_WIDE, an address below
 * 2^48). True when s is one, and then it holds R3 and R5: its seq is f->base + dseq, its
 * other fields the event's (rawlog.h), its thread f->thread, its time its seq. Inline:
 * the converters' fast paths test every slot with it. */
static inline bool rawev_plain(const rawev_file_t *f, const rawlog_slot_t *s)
{
    unsigned op = rawlog_op(s); /* a flag makes it more than any plain op */
    return f->started && f->tsc && op >= RAWLOG_MALLOC && op <= RAWLOG_REALLOC_BEGIN &&
           op != RAWLOG_REALLOC && rawlog_size(s) != RAWLOG_SIZE_WIDE &&
           (op != RAWLOG_ALIGNED || rawlog_ash(s) < 64);
}

/* A plain slot's event (rawev_plain holds), and the base moved on to its seq. */
static inline void rawev_plain_event(rawev_file_t *f, const rawlog_slot_t *s,
                                     rawlog_event_t *e)
{
    unsigned op = rawlog_op(s);
    uint64_t seq = f->base + rawlog_dseq(s);
    *e = (rawlog_event_t){.seq = seq, .time = seq, .addr = rawlog_addr(s),
                          .size = rawlog_size(s),
                          .aux = op == RAWLOG_ALIGNED ? (uint64_t)1 << rawlog_ash(s) : 0,
                          .thread = f->thread, .op = (uint8_t)op, .callsite = s->callsite};
    f->base = seq;
}

/* A reader at the start of a file of an image with this slot size and clock. */
void rawev_init(rawev_file_t *f, size_t slot, bool tsc);

/* The next event in the n bytes at p (p at a slot boundary), thread slots before it
 * read on the way. Returns 1: *e holds it and *used the bytes up to its end; 0: the
 * bytes end before a whole event, *used the RAWLOG_THREAD slots read (the caller may
 * skip them; the rest is a cut event, or one still being written); -1: the slots break
 * R3 or R5, *why says how (*used 0). */
int rawev_next(rawev_file_t *f, const unsigned char *p, size_t n, rawlog_event_t *e,
               size_t *used, const char **why);

/* The addresses of the event at p (n bytes there) that a reader will look up: its addr
 * (48 bits) and, for a realloc whose wide slot is within n, the old block (else 0). For
 * prefetching only: a slot that is not an event gives whatever it holds. */
void rawev_peek(const unsigned char *p, size_t n, size_t slot, uint64_t *addr,
                uint64_t *old);

#endif
