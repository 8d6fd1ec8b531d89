/*
 * test_rawevent.c -- the raw log's slots read back (tools/rawevent.h): what each slot
 * kind decodes to, seq steps and bases, cut events, and every R3/R5 breach the reader
 * must refuse.
 */
#include "harness.h"
#include "rawevent.h"

#include <string.h>

typedef struct log {
    unsigned char bytes[1024];
    size_t len, slot;
} log_t;

static void put_words(log_t *l, uint64_t lo, uint64_t hi, uint64_t callsite)
{
    rawlog_slot_t s = {.lo = lo, .hi = hi, .callsite = callsite};
    memcpy(l->bytes + l->len, &s, l->slot);
    l->len += l->slot;
}

/* An event slot: dseq, size, the low 48 bits of addr, op with its flags, ash. */
static void put_slot(log_t *l, uint32_t dseq, uint64_t addr, uint32_t size, unsigned op,
                     unsigned ash, uint64_t callsite)
{
    put_words(l, dseq | (uint64_t)size << 32,
              (addr & RAWLOG_ADDR_MASK) | (uint64_t)op << 48 | (uint64_t)ash << 56, callsite);
}

static void put_wide(log_t *l, uint64_t size, uint64_t aux) { put_words(l, size, aux, 0); }
static void put_far(log_t *l, uint64_t addr, uint64_t time) { put_words(l, addr, time, 0); }

static void put_thread(log_t *l, uint64_t thread, uint64_t base)
{
    put_words(l, base, thread | (uint64_t)RAWLOG_THREAD << 48, 0);
}

/* Decodes every whole event of l; returns how many, the last status in *status. */
static int decode_all(const log_t *l, bool tsc, rawlog_event_t *out, int max, int *status)
{
    rawev_file_t f;
    rawev_init(&f, l->slot, tsc);
    size_t at = 0, used;
    const char *why = NULL;
    int n = 0;
    while (n < max &&
           (*status = rawev_next(&f, l->bytes + at, l->len - at, &out[n], &used, &why)) == 1) {
        at += used;
        n++;
    }
    return n;
}

static void each_kind(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_thread(&l, 3, 10);
    put_slot(&l, 0, 0x1000, 24, RAWLOG_MALLOC, 0, 0);
    put_slot(&l, 1, 0x2000, 64, RAWLOG_ALIGNED, 6, 0);
    put_slot(&l, 1, 0x3000, 100, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 100, 0x1000);
    put_thread(&l, 5, 12);
    put_slot(&l, 1, 0x4000, RAWLOG_SIZE_WIDE, RAWLOG_MALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, (uint64_t)5 << 32, 0);
    put_slot(&l, 1, 0x4000, 0, RAWLOG_FREE, 0, 0);
    put_thread(&l, 5, (uint64_t)1 << 40); /* a step too long for dseq */
    put_slot(&l, 7, 0x5000, 8, RAWLOG_MALLOC | RAWLOG_FAR, 0, 0);
    put_far(&l, (uint64_t)0xabc << 48 | 0x5000, 0);
    put_slot(&l, UINT32_MAX, 0x6000, 8, RAWLOG_CALLOC, 0, 0);
    rawlog_event_t e[8];
    int status;
    int n = decode_all(&l, true, e, 8, &status);
    REQUIRE("seven events", n == 7);
    CHECK("the log ends cleanly", status == 0);
    CHECK("malloc: the seq is the thread slot's base", e[0].op == RAWLOG_MALLOC &&
              e[0].addr == 0x1000 && e[0].size == 24 && e[0].thread == 3 && e[0].seq == 10 &&
              e[0].time == 10 && e[0].aux == 0);
    CHECK("aligned: aux from the shift, seq one on", e[1].op == RAWLOG_ALIGNED &&
                                                         e[1].aux == 64 && e[1].seq == 11);
    CHECK("realloc: old block from the wide slot", e[2].op == RAWLOG_REALLOC &&
                                                       e[2].aux == 0x1000 && e[2].size == 100 &&
                                                       e[2].addr == 0x3000 && e[2].seq == 12);
    CHECK("a thread slot changes the thread and the base",
          e[3].thread == 5 && e[2].thread == 3 && e[3].seq == 13);
    CHECK("a size of 4 GiB or more from the wide slot", e[3].size == (uint64_t)5 << 32);
    CHECK("free", e[4].op == RAWLOG_FREE && e[4].addr == 0x4000 && e[4].seq == 14);
    CHECK("a new base within the fill", e[5].seq == ((uint64_t)1 << 40) + 7);
    CHECK("an address of 2^48 or more from the far slot",
          e[5].addr == ((uint64_t)0xabc << 48 | 0x5000) && e[5].op == RAWLOG_MALLOC);
    CHECK("the longest step", e[6].seq == ((uint64_t)1 << 40) + 7 + UINT32_MAX &&
                                  e[6].op == RAWLOG_CALLOC && e[6].addr == 0x6000);
}

static void counter_clock_and_callsites(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE + 8};
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_CALLOC | RAWLOG_FAR, 0, 0xabc);
    put_far(&l, 0x1000, 123456789);
    put_slot(&l, 2, 0x2000, 9, RAWLOG_REALLOC | RAWLOG_WIDE | RAWLOG_FAR, 0, 0xdef);
    put_wide(&l, 9, 0x1000);
    put_far(&l, 0x2000, 123456800);
    rawlog_event_t e[2];
    int status;
    REQUIRE("two events", decode_all(&l, false, e, 2, &status) == 2);
    CHECK("time from the far slot", e[0].time == 123456789 && e[0].seq == 1);
    CHECK("call site", e[0].callsite == 0xabc && e[0].op == RAWLOG_CALLOC);
    CHECK("wide and far slots together", e[1].seq == 3 && e[1].time == 123456800 &&
                                             e[1].aux == 0x1000 && e[1].size == 9 &&
                                             e[1].callsite == 0xdef);
}

static void cut_events(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_thread(&l, 2, 6);
    put_slot(&l, 1, 0x1000, 10, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 10, 0x800);
    rawev_file_t f;
    rawlog_event_t e;
    size_t used = 99;
    const char *why = NULL;
    rawev_init(&f, l.slot, true);
    CHECK("half a slot: nothing", rawev_next(&f, l.bytes, 10, &e, &used, &why) == 0 && used == 0);
    CHECK("the thread slot and the event slot without its wide slot: the thread read",
          rawev_next(&f, l.bytes, 2 * l.slot + 5, &e, &used, &why) == 0 && used == l.slot &&
              f.thread == 2 && f.base == 6);
    CHECK("then the whole pair",
          rawev_next(&f, l.bytes + l.slot, 2 * l.slot, &e, &used, &why) == 1 &&
              used == 2 * l.slot && e.aux == 0x800 && e.seq == 7 && f.base == 7);
}

/* One broken log: the first event must be refused with a reason. */
static void refused(const char *name, const log_t *l, bool tsc)
{
    rawev_file_t f;
    rawlog_event_t e;
    size_t used;
    const char *why = NULL;
    rawev_init(&f, l->slot, tsc);
    CHECK(name, rawev_next(&f, l->bytes, l->len, &e, &used, &why) == -1 && why && *why);
}

static void breaches(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    refused("R5: an event before any thread slot", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, 9, 0, 0);
    refused("R3: unknown op", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_REALLOC, 0, 0);
    put_slot(&l, 2, 0x1000, 8, RAWLOG_FREE, 0, 0);
    refused("R3: a realloc without its wide slot", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    put_slot(&l, 2, 0x1000, 8, RAWLOG_FREE, 0, 0);
    refused("R3: the counter clock without the far slot", &l, false);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, RAWLOG_SIZE_WIDE, RAWLOG_MALLOC, 0, 0);
    refused("R3: a wide size without its wide slot", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_ALIGNED, 64, 0);
    refused("R3: alignment 2^64", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 9, 0);
    refused("R3: the two slots disagree on the size", &l, true);

    l.len = 0;
    put_thread(&l, 0, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC | RAWLOG_FAR, 0, 0);
    put_far(&l, (uint64_t)1 << 48 | 0x2000, 0);
    refused("R3: the two slots disagree on the address", &l, true);

    l.len = 0;
    put_thread(&l, (uint64_t)1 << 40, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    refused("R3: a thread number above 2^32", &l, true);

    l.len = 0;
    put_words(&l, 0, (uint64_t)RAWLOG_THREAD << 48 | (uint64_t)1 << 56, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    refused("R3: a thread slot with a byte that must be 0", &l, true);
}

static void peek(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_slot(&l, 1, 0x3000, 8, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 8, 0x1000);
    uint64_t addr, old;
    rawev_peek(l.bytes, l.len, l.slot, &addr, &old);
    CHECK("peek: both addresses of a realloc", addr == 0x3000 && old == 0x1000);
    rawev_peek(l.bytes, l.slot, l.slot, &addr, &old);
    CHECK("peek: the wide slot not there yet", addr == 0x3000 && old == 0);
}

int main(void)
{
    each_kind();
    counter_clock_and_callsites();
    cut_events();
    breaches();
    peek();
    return hk_test_summary();
}
