/*
 * hkfit_pcache.c -- the page cache of hkfit (format and invariant in hkfit_pcache.h): filling
 *                   an entry on a miss, keeping entries exact as runs come and go, and its
 *                   check.
 */
#include "hkfit_pcache.h"

void hkfit_pc_fill(hkfit_t *h, pcache_t *e, size_t k)
{
    uint8_t *lo_run = NULL, *hi_end = NULL;
    if (hkfit_page_may_hold_run(h, k))
        hkfit_page_runs(h, k, &lo_run, &hi_end);
    *e = (pcache_t){(uint32_t)(k + 1), lo_run ? pc_rel(h, k, lo_run) : 0,
                    hi_end ? pc_rel(h, k, hi_end) : 0};
}

void hkfit_pc_update(hkfit_t *h, uint8_t *s, bool add)
{
    for (size_t k = page_of(h, s), b = page_of(h, s + sz(s) - 1); k <= b; k++) {
        pcache_t *e = pc_entry(h, k);
        if (e->page != k + 1)
            continue;
        int16_t so = pc_rel(h, k, s), eo = pc_rel(h, k, s + sz(s));
        if (add && e->lo == e->hi) {
            e->lo = so;
            e->hi = eo;
        } else if (add) {
            e->lo = so < e->lo ? so : e->lo;
            e->hi = eo > e->hi ? eo : e->hi;
        } else if (e->lo == so || e->hi == eo) {
            e->page = 0; /* refilled from the index on the next lookup */
        }
    }
}

void hkfit_pcache_check(const hkfit_t *h, lab_report_t *r)
{
    for (size_t i = 0; i < PC_N; i++) {
        const pcache_t *e = &h->pc[i];
        if (!e->page)
            continue;
        size_t k = e->page - 1;
        uint8_t *lo_run, *hi_end, *ps = page_start(h, k);
        hkfit_page_runs(h, k, &lo_run, &hi_end);
        LAB_EXPECT(r, k % PC_N == i && pc_at(h, k, e->lo) == (lo_run ? lo_run : ps) &&
                          pc_at(h, k, e->hi) == (hi_end ? hi_end : ps),
                   "H6: page cache entry %zu (page %zu) holds runs [%p, %p), not the page's", i,
                   k, (void *)pc_at(h, k, e->lo), (void *)pc_at(h, k, e->hi));
    }
}
