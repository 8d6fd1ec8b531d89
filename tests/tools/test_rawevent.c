/*
 * test_rawevent.c -- the raw log's slots read back (tools/rawevent.h): what each slot
 * kind decodes to, cut events, and every R3/R5 breach the reader must refuse.
 */
#include "harness.h"
#include "rawevent.h"

#include <string.h>

typedef struct log {
    unsigned char bytes[1024];
    size_t len, slot;
} log_t;

static void put_slot(log_t *l, uint64_t seq, uint64_t addr, uint32_t size, uint8_t op, uint8_t ash,
                     uint64_t callsite)
{
    rawlog_slot_t s = {
        .seq = seq, .addr = addr, .size = size, .op = op, .align_shift = ash, .callsite = callsite};
    memcpy(l->bytes + l->len, &s, l->slot);
    l->len += l->slot;
}

static void put_wide(log_t *l, uint64_t size, uint64_t aux, uint64_t time)
{
    rawlog_wide_t w = {.size = size, .aux = aux, .time = time};
    memcpy(l->bytes + l->len, &w, l->slot);
    l->len += l->slot;
}

static void put_thread(log_t *l, uint64_t thread)
{
    put_slot(l, 0, thread, 0, RAWLOG_THREAD, 0, 0);
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
    put_thread(&l, 3);
    put_slot(&l, 10, 0x1000, 24, RAWLOG_MALLOC, 0, 0);
    put_slot(&l, 11, 0x2000, 64, RAWLOG_ALIGNED, 6, 0);
    put_slot(&l, 12, 0x3000, 100, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 100, 0x1000, 0);
    put_thread(&l, 5);
    put_slot(&l, 13, 0x4000, RAWLOG_SIZE_WIDE, RAWLOG_MALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, (uint64_t)5 << 32, 0, 0);
    put_slot(&l, 14, 0x4000, 0, RAWLOG_FREE, 0, 0);
    rawlog_event_t e[8];
    int status;
    int n = decode_all(&l, true, e, 8, &status);
    REQUIRE("five events", n == 5);
    CHECK("the log ends cleanly", status == 0);
    CHECK("malloc", e[0].op == RAWLOG_MALLOC && e[0].addr == 0x1000 && e[0].size == 24 &&
                        e[0].thread == 3 && e[0].seq == 10 && e[0].time == 10 && e[0].aux == 0);
    CHECK("aligned: aux from the shift", e[1].op == RAWLOG_ALIGNED && e[1].aux == 64);
    CHECK("realloc: old block from the wide slot", e[2].op == RAWLOG_REALLOC &&
                                                       e[2].aux == 0x1000 && e[2].size == 100 &&
                                                       e[2].addr == 0x3000);
    CHECK("a thread slot changes the thread", e[3].thread == 5 && e[2].thread == 3);
    CHECK("a size of 4 GiB or more from the wide slot", e[3].size == (uint64_t)5 << 32);
    CHECK("free", e[4].op == RAWLOG_FREE && e[4].addr == 0x4000 && e[4].seq == 14);
}

static void counter_clock_and_callsites(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE + 8};
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_CALLOC | RAWLOG_WIDE, 0, 0xabc);
    put_wide(&l, 8, 0, 123456789);
    rawlog_event_t e[2];
    int status;
    REQUIRE("one event", decode_all(&l, false, e, 2, &status) == 1);
    CHECK("time from the wide slot", e[0].time == 123456789 && e[0].seq == 1);
    CHECK("call site", e[0].callsite == 0xabc && e[0].op == RAWLOG_CALLOC);
}

static void cut_events(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_thread(&l, 2);
    put_slot(&l, 7, 0x1000, 10, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 10, 0x800, 0);
    rawev_file_t f;
    rawlog_event_t e;
    size_t used = 99;
    const char *why = NULL;
    rawev_init(&f, l.slot, true);
    CHECK("half a slot: nothing", rawev_next(&f, l.bytes, 10, &e, &used, &why) == 0 && used == 0);
    CHECK("the thread slot and the event slot without its wide slot: the thread read",
          rawev_next(&f, l.bytes, 2 * l.slot + 5, &e, &used, &why) == 0 && used == l.slot &&
              f.thread == 2);
    CHECK("then the whole pair",
          rawev_next(&f, l.bytes + l.slot, 2 * l.slot, &e, &used, &why) == 1 &&
              used == 2 * l.slot && e.aux == 0x800);
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
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, 9, 0, 0);
    refused("R3: unknown op", &l, true);

    l.len = 0;
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_REALLOC, 0, 0);
    put_slot(&l, 2, 0x1000, 8, RAWLOG_FREE, 0, 0);
    refused("R3: a realloc without its wide slot", &l, true);

    l.len = 0;
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    refused("R3: the counter clock without the wide slot", &l, false);

    l.len = 0;
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, RAWLOG_SIZE_WIDE, RAWLOG_MALLOC, 0, 0);
    refused("R3: a wide size without its wide slot", &l, true);

    l.len = 0;
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_ALIGNED, 64, 0);
    refused("R3: alignment 2^64", &l, true);

    l.len = 0;
    put_thread(&l, 0);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 9, 0, 0);
    refused("R3: the two slots disagree on the size", &l, true);

    l.len = 0;
    put_thread(&l, (uint64_t)1 << 40);
    put_slot(&l, 1, 0x1000, 8, RAWLOG_MALLOC, 0, 0);
    refused("R3: a thread number above 2^32", &l, true);
}

static void peek(void)
{
    log_t l = {.slot = RAWLOG_EVENT_SIZE};
    put_slot(&l, 1, 0x3000, 8, RAWLOG_REALLOC | RAWLOG_WIDE, 0, 0);
    put_wide(&l, 8, 0x1000, 0);
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
