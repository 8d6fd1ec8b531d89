/*
 * hkfit_index.c -- hkfit's run index, the sorted list of run spans that the page cache is
 *                  filled from, and the zone bits that spare a cache miss its search.
 *
 * Layout:
 *
 *   index span: | tag | rix[0] | rix[1] | ... | rix[rix_n - 1] | unused up to rix_cap |
 *               an ordinary allocated span of the region (counted in the footprint, META in
 *               the walk); rix[i] = (run span - base) / 8, ascending; grown by doubling
 *               into a new span; released with the last run.
 *   zones:      bit z of zones[] (policy state, 2 KiB for LAB_DEFAULT_LIMIT, not counted)
 *               for region bytes [base + z * 256 KiB, base + (z + 1) * 256 KiB)
 *
 * Invariants:  H6 (its index and zone part) the run index lists exactly the run spans,
 *                 sorted by address; every run span is smaller than RUN_SPAN_MAX; the bit
 *                 of a zone is set iff a run overlaps it
 *              hkfit_check.c verifies the index against its walk of the spans;
 *              hkfit_zones_check() verifies the zone bits.
 * Cost:        lookup O(log runs); adding or removing a run O(runs) (a memmove of 4-byte
 *              entries), rare next to the slot operations.
 */
#include "hkfit_pcache.h"

/* Number of index entries <= o. */
static size_t rix_upper(const hkfit_t *h, uint32_t o)
{
    size_t a = 0, b = h->rix_n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (h->rix[m] <= o)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

/* The runs overlapping page k, from the index: a binary search for the first, then the
 * runs that start inside the page (*lo_run = NULL and *hi_end = NULL when there are none). */
void hkfit_page_runs(const hkfit_t *h, size_t k, uint8_t **lo_run, uint8_t **hi_end)
{
    uint8_t *ps = page_start(h, k), *pe = ps + LAB_PAGE_SIZE;
    size_t i = rix_upper(h, off8(h, ps));
    *lo_run = *hi_end = NULL;
    if (i > 0) {
        uint8_t *s = at8(h, h->rix[i - 1]);
        if (s + sz(s) > ps)
            *lo_run = s, *hi_end = s + sz(s);
    }
    for (; i < h->rix_n && at8(h, h->rix[i]) < pe; i++) {
        uint8_t *s = at8(h, h->rix[i]);
        if (!*lo_run)
            *lo_run = s;
        *hi_end = s + sz(s);
    }
}

/* ---- Zones: which 256 KiB parts of the region hold runs at all ---- */

static size_t zone_of(const hkfit_t *h, const uint8_t *p)
{
    return (size_t)(p - h->base) >> ZONE_SHIFT;
}
static bool zone_bit(const hkfit_t *h, size_t z)
{
    return (h->zones[z / 64] >> (z % 64)) & 1;
}

/* False when no run overlaps page k, which a page cache miss then needs no search for
 * (zones beyond ZONE_N have no bit: maybe). */
bool hkfit_page_may_hold_run(const hkfit_t *h, size_t k)
{
    size_t z = k >> (ZONE_SHIFT - PAGE_SHIFT);
    return z >= ZONE_N || zone_bit(h, z);
}

/* Does a run of the index overlap [a, b)? */
static bool runs_overlap(const hkfit_t *h, const uint8_t *a, const uint8_t *b)
{
    size_t i = rix_upper(h, off8(h, a));
    if (i > 0 && at8(h, h->rix[i - 1]) + sz(at8(h, h->rix[i - 1])) > a)
        return true;
    return i < h->rix_n && at8(h, h->rix[i]) < b;
}

/* Sets the zone bits of run s, just added to the index. */
static void zones_add(hkfit_t *h, const uint8_t *s)
{
    for (size_t z = zone_of(h, s), last = zone_of(h, s + sz(s) - 1); z <= last && z < ZONE_N;
         z++)
        h->zones[z / 64] |= (uint64_t)1 << (z % 64);
}

/* Clears the zone bits of run s, just removed from index entry i, where no other run
 * overlaps the zone. Runs do not overlap and the index is sorted, so the only candidates
 * are s's neighbours in the index, now entries i - 1 and i. */
static void zones_del(hkfit_t *h, const uint8_t *s, size_t i)
{
    const uint8_t *below = i > 0 ? at8(h, h->rix[i - 1]) : NULL;
    const uint8_t *below_end = below ? below + sz(below) : NULL;
    const uint8_t *above = i < h->rix_n ? at8(h, h->rix[i]) : NULL;
    for (size_t z = zone_of(h, s), last = zone_of(h, s + sz(s) - 1); z <= last && z < ZONE_N;
         z++) {
        const uint8_t *zs = h->base + (z << ZONE_SHIFT), *ze = zs + ((size_t)1 << ZONE_SHIFT);
        if (!(below_end && below_end > zs) && !(above && above < ze))
            h->zones[z / 64] &= ~((uint64_t)1 << (z % 64));
    }
}

/* ---- Adding and removing runs ---- */

bool hkfit_rix_reserve(hkfit_t *h)
{
    if (h->rix_n < h->rix_cap)
        return true;
    size_t cap = h->rix_cap ? h->rix_cap * 2 : 16;
    uint8_t *s = hkfit_span_alloc(h, span_for(h, cap * sizeof *h->rix), 0);
    if (!s)
        return false;
    uint32_t *t = (uint32_t *)(void *)(s + HDR);
    if (h->rix_n)
        memcpy(t, h->rix, h->rix_n * sizeof *t);
    if (h->rix_span)
        hkfit_span_release(h, h->rix_span);
    h->rix_span = s;
    h->rix = t;
    h->rix_cap = cap;
    return true;
}

void hkfit_rix_add(hkfit_t *h, uint8_t *s)
{
    uint32_t o = off8(h, s);
    size_t i = rix_upper(h, o);
    memmove(&h->rix[i + 1], &h->rix[i], (h->rix_n - i) * sizeof *h->rix);
    h->rix[i] = o;
    h->rix_n++;
    hkfit_pc_update(h, s, true);
    zones_add(h, s);
}

void hkfit_rix_del(hkfit_t *h, uint8_t *s)
{
    size_t i = rix_upper(h, off8(h, s)) - 1;
    hkfit_pc_update(h, s, false);
    memmove(&h->rix[i], &h->rix[i + 1], (h->rix_n - i - 1) * sizeof *h->rix);
    h->rix_n--;
    zones_del(h, s, i);
    if (h->rix_n == 0) {
        uint8_t *x = h->rix_span;
        h->rix_span = NULL;
        h->rix = NULL;
        h->rix_cap = 0;
        hkfit_span_release(h, x);
    }
}

void hkfit_zones_check(const hkfit_t *h, lab_report_t *r)
{
    size_t used_zones = h->top > h->base ? zone_of(h, h->top - 1) + 1 : 0;
    for (size_t z = 0; z < ZONE_N; z++) {
        if (z >= used_zones && z % 64 == 0 && !h->zones[z / 64]) {
            z += 63; /* a clear word beyond the break */
            continue;
        }
        const uint8_t *zs = h->base + (z << ZONE_SHIFT);
        bool want = z < used_zones && runs_overlap(h, zs, zs + ((size_t)1 << ZONE_SHIFT));
        LAB_EXPECT(r, zone_bit(h, z) == want, "H6: bit of zone %zu is %d, runs there: %d", z,
                   (int)zone_bit(h, z), (int)want);
    }
}
