/*
 * rawevent.c -- event file slots into events (see rawevent.h and recorder/rawlog.h).
 *
 * Design:      Slots are copied out with memcpy (a mapped file promises no alignment
 *              beyond the slot size, and a read buffer none at all), checked against
 *              R3 and R5, and widened into a rawlog_event_t.
 */
#include "rawevent.h"

#include <string.h>

void rawev_init(rawev_file_t *f, size_t slot, bool tsc)
{
    memset(f, 0, sizeof *f);
    f->slot = slot;
    f->tsc = tsc;
}

static bool known_op(unsigned op) { return op >= RAWLOG_MALLOC && op <= RAWLOG_REALLOC_BEGIN; }

/* R3 of one event slot, before its wide slot is read. NULL when it holds. */
static const char *check_slot(const rawev_file_t *f, const rawlog_slot_t *s)
{
    unsigned op = s->op & ~RAWLOG_WIDE;
    bool wide = (s->op & RAWLOG_WIDE) != 0;
    if (!known_op(op))
        return "an unknown op (R3)";
    if (op == RAWLOG_ALIGNED && s->align_shift >= 64)
        return "an alignment of 2^64 or more (R3)";
    if (!wide && (op == RAWLOG_REALLOC || s->size == RAWLOG_SIZE_WIDE || !f->tsc))
        return "an event without the wide slot it needs (R3)";
    return NULL;
}

static void widen(const rawev_file_t *f, const rawlog_slot_t *s, rawlog_event_t *e)
{
    unsigned op = s->op & ~RAWLOG_WIDE;
    e->seq = s->seq;
    e->time = s->seq;
    e->addr = s->addr;
    e->size = s->size;
    e->aux = op == RAWLOG_ALIGNED ? (uint64_t)1 << s->align_shift : 0;
    e->thread = f->thread;
    e->op = (uint8_t)op;
    e->callsite = s->callsite;
}

/* The common event first, checked at once: the general loop below costs more. */
int rawev_next(rawev_file_t *f, const unsigned char *p, size_t n, rawlog_event_t *e,
               size_t *used, const char **why)
{
    size_t at = 0;
    rawlog_slot_t s;
    if (n >= f->slot) {
        memcpy(&s, p, RAWLOG_EVENT_SIZE);
        if (rawev_plain(f, &s)) {
            s.callsite = 0;
            if (f->slot > RAWLOG_EVENT_SIZE)
                memcpy(&s.callsite, p + RAWLOG_EVENT_SIZE, sizeof s.callsite);
            widen(f, &s, e);
            *used = f->slot;
            return 1;
        }
    }
    *used = 0;
    for (;; at += f->slot) { /* constant-size copies: moves, not calls (~1/3 of the cost) */
        if (n - at < f->slot) {
            *used = at;
            return 0;
        }
        memcpy(&s, p + at, RAWLOG_EVENT_SIZE);
        if (s.op != RAWLOG_THREAD)
            break;
        if (s.addr > UINT32_MAX) {
            *why = "a thread number above 2^32 (R3)";
            return -1;
        }
        f->thread = (uint32_t)s.addr;
        f->started = true;
    }
    s.callsite = 0;
    if (f->slot > RAWLOG_EVENT_SIZE)
        memcpy(&s.callsite, p + at + RAWLOG_EVENT_SIZE, sizeof s.callsite);
    *why = !f->started ? "no thread before its first event (R5)" : check_slot(f, &s);
    if (*why)
        return -1;
    widen(f, &s, e);
    size_t len = f->slot;
    if (s.op & RAWLOG_WIDE) {
        if (n - at < 2 * f->slot) {
            *used = at;
            return 0;
        }
        rawlog_wide_t w;
        memcpy(&w, p + at + f->slot, RAWLOG_EVENT_SIZE);
        if (s.size != RAWLOG_SIZE_WIDE && w.size != s.size) {
            *why = "an event whose two slots disagree on its size (R3)";
            return -1;
        }
        e->size = w.size;
        if (e->op == RAWLOG_REALLOC)
            e->aux = w.aux;
        if (!f->tsc)
            e->time = w.time;
        len += f->slot;
    }
    *used = at + len;
    return 1;
}

void rawev_peek(const unsigned char *p, size_t n, size_t slot, uint64_t *addr, uint64_t *old)
{
    rawlog_slot_t s;
    *addr = *old = 0;
    if (n < RAWLOG_EVENT_SIZE)
        return;
    memcpy(&s, p, RAWLOG_EVENT_SIZE);
    *addr = s.addr;
    if (s.op == (RAWLOG_REALLOC | RAWLOG_WIDE) && n >= 2 * slot)
        memcpy(old, p + slot + offsetof(rawlog_wide_t, aux), sizeof *old);
}
