/*
 * rawevent.c -- event file slots into events (see rawevent.h and recorder/rawlog.h).
 *
 * Design:      Slots are copied out with memcpy (a mapped file promises no alignment
 *              beyond the slot size, and a read buffer none at all), checked against
 *              R3 and R5, and widened into a rawlog_event_t; the seq is the file's base
 *              plus the slot's step, and becomes the base once the whole event is there.
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

/* One slot at p; the call site word only where the image writes it. */
static void load(const rawev_file_t *f, const unsigned char *p, rawlog_slot_t *s)
{
    memcpy(s, p, RAWLOG_EVENT_SIZE);
    s->callsite = 0;
    if (f->slot > RAWLOG_EVENT_SIZE)
        memcpy(&s->callsite, p + RAWLOG_EVENT_SIZE, sizeof s->callsite);
}

/* R3 of one event slot, before its wide and far slots are read. NULL when it holds. */
static const char *check_slot(const rawev_file_t *f, const rawlog_slot_t *s)
{
    unsigned op = rawlog_op(s) & RAWLOG_OP_MASK;
    bool wide = (rawlog_op(s) & RAWLOG_WIDE) != 0, far = (rawlog_op(s) & RAWLOG_FAR) != 0;
    if (!known_op(op))
        return "an unknown op (R3)";
    if (op == RAWLOG_ALIGNED && rawlog_ash(s) >= 64)
        return "an alignment of 2^64 or more (R3)";
    if (!wide && (op == RAWLOG_REALLOC || rawlog_size(s) == RAWLOG_SIZE_WIDE))
        return "an event without the wide slot it needs (R3)";
    if (!far && !f->tsc)
        return "an event without the far slot it needs (R3)";
    return NULL;
}

/* Reads the thread slot s into f; NULL, or why it breaks R3. */
static const char *thread_slot(rawev_file_t *f, const rawlog_slot_t *s)
{
    uint64_t thread = s->hi & ~((uint64_t)0xff << 48);
    if (thread > UINT32_MAX)
        return "a thread number above 2^32 (R3)";
    f->thread = (uint32_t)thread;
    f->base = s->lo;
    f->started = true;
    return NULL;
}

/* The wide and far slots after the event slot, n bytes from p on (the event slot at p).
 * Returns the event's bytes, 0 when they are not all there, or -1 (*why). */
static long extra_slots(const rawev_file_t *f, const rawlog_slot_t *s, const unsigned char *p,
                        size_t n, rawlog_event_t *e, const char **why)
{
    unsigned op = rawlog_op(s);
    size_t len = f->slot + ((op & RAWLOG_WIDE) ? f->slot : 0) + ((op & RAWLOG_FAR) ? f->slot : 0);
    if (n < len)
        return 0;
    rawlog_slot_t x;
    size_t at = f->slot;
    if (op & RAWLOG_WIDE) {
        memcpy(&x, p + at, RAWLOG_EVENT_SIZE);
        if (rawlog_size(s) != RAWLOG_SIZE_WIDE && x.lo != rawlog_size(s)) {
            *why = "an event whose two slots disagree on its size (R3)";
            return -1;
        }
        e->size = x.lo;
        if (e->op == RAWLOG_REALLOC)
            e->aux = x.hi;
        at += f->slot;
    }
    if (op & RAWLOG_FAR) {
        memcpy(&x, p + at, RAWLOG_EVENT_SIZE);
        if ((x.lo & RAWLOG_ADDR_MASK) != rawlog_addr(s)) {
            *why = "an event whose two slots disagree on its address (R3)";
            return -1;
        }
        e->addr = x.lo;
        if (!f->tsc)
            e->time = x.hi;
    }
    return (long)len;
}

/* The common event first, checked at once: the general loop below costs more. */
int rawev_next(rawev_file_t *f, const unsigned char *p, size_t n, rawlog_event_t *e,
               size_t *used, const char **why)
{
    size_t at = 0;
    rawlog_slot_t s;
    if (n >= f->slot) {
        load(f, p, &s);
        if (rawev_plain(f, &s)) {
            rawev_plain_event(f, &s, e);
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
        load(f, p + at, &s);
        if (rawlog_op(&s) != RAWLOG_THREAD)
            break;
        if ((*why = thread_slot(f, &s)) != NULL)
            return -1;
    }
    *why = !f->started ? "no thread before its first event (R5)" : check_slot(f, &s);
    if (*why)
        return -1;
    unsigned op = rawlog_op(&s) & RAWLOG_OP_MASK;
    uint64_t seq = f->base + rawlog_dseq(&s);
    *e = (rawlog_event_t){.seq = seq, .time = seq, .addr = rawlog_addr(&s),
                          .size = rawlog_size(&s),
                          .aux = op == RAWLOG_ALIGNED ? (uint64_t)1 << rawlog_ash(&s) : 0,
                          .thread = f->thread, .op = (uint8_t)op, .callsite = s.callsite};
    long len = extra_slots(f, &s, p + at, n - at, e, why);
    if (len <= 0) {
        *used = len < 0 ? 0 : at;
        return (int)len;
    }
    f->base = seq;
    *used = at + (size_t)len;
    return 1;
}

void rawev_peek(const unsigned char *p, size_t n, size_t slot, uint64_t *addr, uint64_t *old)
{
    rawlog_slot_t s;
    *addr = *old = 0;
    if (n < RAWLOG_EVENT_SIZE)
        return;
    memcpy(&s, p, RAWLOG_EVENT_SIZE);
    *addr = rawlog_addr(&s);
    if ((rawlog_op(&s) & (RAWLOG_OP_MASK | RAWLOG_WIDE)) == (RAWLOG_REALLOC | RAWLOG_WIDE) &&
        n >= 2 * slot)
        memcpy(old, p + slot + offsetof(rawlog_slot_t, hi), sizeof *old);
}
