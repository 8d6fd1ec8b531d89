/*
 * hkfit_run.c -- runs of hkfit (format and invariants in hkfit_run.h): sizing and placing a
 *                new run, releasing an empty one, and the free-list walk that confirms a
 *                double free.
 */
#include "hkfit_run.h"

#define RECIP(u) ((uint32_t)((((uint64_t)1 << 32) + 8 * (u) - 1) / (8 * (u))))
#define RECIP8(u) RECIP(u), RECIP(u + 1), RECIP(u + 2), RECIP(u + 3), RECIP(u + 4), RECIP(u + 5), \
                  RECIP(u + 6), RECIP(u + 7)
const uint32_t hkfit_recip[NCLASS] = {0,          RECIP8(1),  RECIP8(9),  RECIP8(17),
                                      RECIP8(25), RECIP8(33), RECIP8(41), RECIP8(49),
                                      RECIP8(57)};

/* A span for a run of `slot`-byte slots: the wanted size, else a hole it can fill. */
static uint8_t *run_span(hkfit_t *h, size_t slot)
{
    size_t cap = h->class_live[slot / 8] / CAP_DIV, max_cap = RUN_MAX_BYTES / slot;
    if (cap > max_cap)
        cap = max_cap;
    if (cap < RUN_MIN_CAP)
        cap = RUN_MIN_CAP;
    size_t want = round_to(HDR + RUN_HDR + cap * slot, h->gran);
    size_t least = round_to(HDR + RUN_HDR + slot, h->gran);
    uint8_t *f = hkfit_find_fit(h, want);
    if (!f && least < want)
        f = hkfit_find_fit(h, least); /* a hole the run can fill instead of growing */
    if (f) {
        bin_remove(h, f);
        /* a remainder too small for another run would only be a dead hole: take it */
        return hkfit_carve(h, f, sz(f) < want + least ? sz(f) : want, F_RUN);
    }
    return hkfit_grow(h, want, F_RUN);
}

uint8_t *hkfit_run_new(hkfit_t *h, size_t slot)
{
    if (!hkfit_rix_reserve(h))
        return NULL;
    uint8_t *s = run_span(h, slot);
    if (!s)
        return NULL;
    *run_of(s) = (run_t){.units = (uint16_t)(slot / 8), .free_head = NO_SLOT};
    hkfit_rix_add(h, s);
    partial_push(h, s);
    h->run_slots += run_cap(s);
    h->run_slot_bytes += run_cap(s) * slot;
    return s;
}

__attribute__((noinline, cold)) bool hkfit_slot_on_free_list(uint8_t *s, size_t idx)
{
    run_t *r = run_of(s);
    size_t k = 0;
    for (unsigned i = r->free_head; i != NO_SLOT && k <= r->fresh; k++) {
        if (i == idx)
            return true;
        i = (unsigned)(ld(slots(s) + i * slot_size(r)) & 0xffff);
    }
    return false;
}

__attribute__((noinline)) void hkfit_run_release(hkfit_t *h, uint8_t *s)
{
    size_t cap = run_cap(s);
    partial_drop(h, s);
    h->run_slots -= cap;
    h->run_slot_bytes -= cap * slot_size(run_of(s));
    hkfit_rix_del(h, s);
    hkfit_span_release(h, s);
}
