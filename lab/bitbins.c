/*
 * bitbins.c -- the checker of bitbins.h: M1, M2 and L1-L3 as numbered there.
 *
 * It reads only the map, the heads and the nodes the policy's size_of callback vouches
 * for, so a damaged link is reported, not followed out of the heap.
 */
#include "bitbins.h"

/* M1 and M2: the map says exactly which bins are non-empty. */
static void check_map(const lab_binshape_t *sh, lab_binnode_t *const *head, const uint64_t *map,
                      const char *id, lab_report_t *r)
{
    unsigned words = lab_binmap_words(sh);
    for (unsigned i = 0; i < words * 64; i++) {
        bool want = i < sh->nbins && head[i] != NULL;
        LAB_EXPECT(r, lab_binmap_test(map, i) == want, "%s: map bit of bin %u is %d, bin %s", id,
                   i, (int)lab_binmap_test(map, i), want ? "non-empty" : "empty");
    }
    if (!lab_binmap_summary(sh))
        return;
    for (unsigned w = 0; w < 64; w++) {
        bool want = w < words && map[w] != 0;
        LAB_EXPECT(r, ((map[words] >> w) & 1) == want, "%s: summary bit of map word %u is wrong",
                   id, w);
    }
}

/* L1-L3 for bin i; counts its nodes into *nodes and stops past limit. */
static void check_list(const lab_binshape_t *sh, lab_binnode_t *const *head, unsigned i,
                       lab_binsize_fn size_of, const void *ctx, size_t limit, size_t *nodes,
                       const char *id, lab_report_t *r)
{
    const lab_binnode_t *prev = NULL;
    size_t last = 0;
    for (const lab_binnode_t *n = head[i]; n; prev = n, n = n->next) {
        if (++*nodes > limit) {
            lab_report_add(r, "%s: the lists hold more than %zu nodes (a cycle?)", id, limit);
            return;
        }
        size_t size = size_of(ctx, n);
        if (size == 0) {
            lab_report_add(r, "%s: bin %u links %p, not a free block", id, i, (const void *)n);
            return;
        }
        LAB_EXPECT(r, n->prev == prev, "%s: bin %u: node %p has prev %p, not %p", id, i,
                   (const void *)n, (const void *)n->prev, (const void *)prev);
        LAB_EXPECT(r, lab_bin_of(sh, size) == i, "%s: bin %u holds a block of %zu bytes", id, i,
                   size);
        LAB_EXPECT(r, i < sh->sorted_from || size >= last, "%s: bin %u is not sorted at %p", id,
                   i, (const void *)n);
        last = size;
    }
}

size_t lab_bins_check(const lab_binshape_t *sh, lab_binnode_t *const *head, const uint64_t *map,
                      lab_binsize_fn size_of, const void *ctx, size_t limit, const char *id,
                      lab_report_t *r)
{
    size_t nodes = 0;
    LAB_EXPECT(r, sh->nbins >= 1 && sh->nbins <= LAB_BINS_MAX, "%s: %u bins", id, sh->nbins);
    if (sh->nbins < 1 || sh->nbins > LAB_BINS_MAX)
        return 0;
    check_map(sh, head, map, id, r);
    for (unsigned i = 0; i < sh->nbins && nodes <= limit; i++)
        check_list(sh, head, i, size_of, ctx, limit, &nodes, id, r);
    return nodes;
}
