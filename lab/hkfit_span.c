/*
 * hkfit_span.c -- spans of hkfit (format and invariants in hkfit_span.h): best fit over the
 *                 bins, carving, exact growth at the break, release with coalescing and
 *                 trimming.
 */
#include "hkfit_span.h"

uint8_t *hkfit_find_fit(hkfit_t *h, size_t s)
{
    uint8_t *best = NULL;
    size_t best_size = SIZE_MAX;
    unsigned b = bin_of(s);
    for (int pass = 0; pass < 2 && !best; pass++) {
        if (pass == 1 && (b = lab_bin_next(&span_bins, h->binmap, b + 1)) >= NBINS)
            break;
        int k = 0;
        for (lab_binnode_t *n = h->bins[b]; n && k < FIT_WALK; n = n->next, k++) {
            uint8_t *f = span_of_node(n);
            size_t z = sz(f);
            if (z >= s && z < best_size) {
                best = f;
                best_size = z;
                if (z == s)
                    break;
            }
        }
    }
    return best;
}

uint8_t *hkfit_carve(hkfit_t *h, uint8_t *f, size_t s, uint64_t fl)
{
    size_t z = sz(f);
    if (z - s >= MIN_SPAN) {
        uint8_t *rest = f + s;
        set_tag(rest, z - s, F_PREV);
        st(rest + (z - s) - 8, z - s);
        bin_insert(h, rest);
        z = s;
    } else if (f + z < hi(h)) {
        set_prev_bit(f + z, true);
    }
    set_tag(f, z, F_ALLOC | F_PREV | fl);
    return f;
}

uint8_t *hkfit_grow(hkfit_t *h, size_t s, uint64_t fl)
{
    if (h->mem->brk < h->pad && !lab_mem_sbrk(h->mem, h->pad - h->mem->brk))
        return NULL;
    uint8_t *s0 = lab_mem_sbrk(h->mem, s);
    h->top = lab_mem_hi(h->mem);
    if (!s0)
        return NULL;
    set_tag(s0, s, F_ALLOC | F_PREV | fl);
    return s0;
}

uint8_t *hkfit_span_alloc(hkfit_t *h, size_t s, uint64_t fl)
{
    uint8_t *f = hkfit_find_fit(h, s);
    if (!f)
        return hkfit_grow(h, s, fl);
    bin_remove(h, f);
    return hkfit_carve(h, f, s, fl);
}

void hkfit_span_release(hkfit_t *h, uint8_t *s)
{
    size_t z = sz(s);
    bool prev_alloc = (flags(s) & F_PREV) != 0;
    uint8_t *n = s + z;
    if (n < hi(h) && !(flags(n) & F_ALLOC)) {
        bin_remove(h, n);
        z += sz(n);
        st(n, 0);
    }
    if (!prev_alloc) {
        uint8_t *p = s - ld(s - 8);
        bin_remove(h, p);
        z += sz(p);
        st(s, 0);
        s = p;
    }
    if (s + z == hi(h)) {
        st(s, 0); /* no stale tag above the break for a later double free to find */
        lab_mem_trim(h->mem, z);
        h->top = lab_mem_hi(h->mem);
        return;
    }
    set_tag(s, z, F_PREV);
    st(s + z - 8, z);
    set_prev_bit(s + z, false);
    bin_insert(h, s);
}
