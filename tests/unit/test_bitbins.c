/*
 * test_bitbins.c -- the bins helper (lab/bitbins.h) on its own: size -> bin for the shapes
 * the policies use, push / link-after / remove with the map in step, the first non-empty
 * bin at or above i across map words, and lab_bins_check() catching each of M1, M2 and
 * L1-L3 in a state damaged on purpose.
 *
 * Design:      Free blocks are entries of a static array (a size and a node); the size
 *              callback vouches only for nodes inside that array, as a policy vouches
 *              only for free blocks of its heap.
 */
#include "bitbins.h"
#include "harness.h"

#include <string.h>

#define NBLOCKS 64

typedef struct block {
    size_t        size;
    lab_binnode_t node;
} block_t;

static block_t blocks[NBLOCKS];

/* 736 bins as hkfit's spans: exact below 1 KiB, 16 per power of two, never clamped. */
static const lab_binshape_t wide = {
    .nbins = 736,
    .exact_max = 1023,
    .exact_shift = 3,
    .first_range = 128,
    .range_lg = 10,
    .per_lg = 4,
    .size_lg_max = 47,
    .sorted_from = 736,
};

/* 256 bins as bins.c: exact up to 1 KiB inclusive, 4 per power of two, clamped. */
static const lab_binshape_t clamped = {
    .nbins = 256,
    .exact_max = 1024,
    .exact_shift = 3,
    .first_range = 129,
    .range_lg = 10,
    .per_lg = 2,
    .size_lg_max = 63,
    .sorted_from = 256,
};

/* 59 classes as segfit.c: one word, no summary, no exact bins; sorted from class 3 on. */
static const lab_binshape_t narrow = {
    .nbins = 59,
    .first_range = 0,
    .range_lg = 5,
    .per_lg = 0,
    .size_lg_max = 63,
    .sorted_from = 3,
};

typedef struct bins {
    lab_binnode_t *head[736];
    uint64_t       map[LAB_BINMAP_WORDS(736)];
} bins_t;

static size_t block_size(const void *ctx, const lab_binnode_t *n)
{
    (void)ctx;
    for (size_t i = 0; i < NBLOCKS; i++)
        if (&blocks[i].node == n)
            return blocks[i].size;
    return 0;
}

static lab_binnode_t *with_size(size_t i, size_t size)
{
    blocks[i].size = size;
    return &blocks[i].node;
}

static int check(const lab_binshape_t *sh, const bins_t *b, size_t limit, const char *id,
                 size_t *nodes)
{
    lab_report_t r = {0};
    size_t n = lab_bins_check(sh, b->head, b->map, block_size, NULL, limit, id, &r);
    if (nodes)
        *nodes = n;
    if (r.count)
        printf("  (expected) %s\n", r.first);
    return r.count;
}

/* Does the check report something under `id`, first? */
static bool finds(const lab_binshape_t *sh, const bins_t *b, const char *id)
{
    lab_report_t r = {0};
    lab_bins_check(sh, b->head, b->map, block_size, NULL, NBLOCKS, "X", &r);
    return r.count > 0 && strstr(r.first, id) != NULL;
}

static void size_to_bin(void)
{
    CHECK("exact 32", lab_bin_of(&wide, 32) == 4);
    CHECK("exact 1016", lab_bin_of(&wide, 1016) == 127);
    CHECK("first range 1024", lab_bin_of(&wide, 1024) == 128);
    CHECK("range 1088", lab_bin_of(&wide, 1088) == 129); /* 1024 + 64: a 16th of 1 KiB */
    CHECK("range 2047", lab_bin_of(&wide, 2047) == 143);
    CHECK("range 2048", lab_bin_of(&wide, 2048) == 144);
    CHECK("largest hkfit size", lab_bin_of(&wide, ((size_t)1 << 48) - 8) == 735);
    CHECK("wide is not clamped", !lab_bins_clamp(&wide));
    CHECK("bins exact 1024", lab_bin_of(&clamped, 1024) == 128);
    CHECK("bins range 1032", lab_bin_of(&clamped, 1032) == 129);
    CHECK("bins range 1536", lab_bin_of(&clamped, 1536) == 131);
    CHECK("bins clamp", lab_bins_clamp(&clamped) && lab_bin_of(&clamped, SIZE_MAX) == 255);
    CHECK("segfit 32", lab_bin_of(&narrow, 32) == 0);
    CHECK("segfit 63", lab_bin_of(&narrow, 63) == 0);
    CHECK("segfit 64", lab_bin_of(&narrow, 64) == 1);
    CHECK("segfit largest", lab_bin_of(&narrow, SIZE_MAX) == 58 && !lab_bins_clamp(&narrow));
    CHECK("map words", LAB_BINMAP_WORDS(59) == 1 && LAB_BINMAP_WORDS(736) == 13);
}

/* Push, find across words through the summary, last, remove: the map stays in step. */
static void insert_find_remove(void)
{
    static bins_t b;
    memset(&b, 0, sizeof b);
    CHECK("empty: next", lab_bin_next(&wide, b.map, 0) == wide.nbins);
    CHECK("empty: last", lab_bin_last(&wide, b.map) == wide.nbins);
    CHECK("empty: clean", check(&wide, &b, NBLOCKS, "E", NULL) == 0);
    size_t sizes[] = {48, 48, 1000, 70000, (size_t)1 << 40};
    unsigned bin[5];
    for (size_t i = 0; i < 5; i++) {
        bin[i] = lab_bin_of(&wide, sizes[i]);
        lab_bin_push(&wide, b.head, b.map, bin[i], with_size(i, sizes[i]));
    }
    CHECK("LIFO", b.head[bin[0]] == &blocks[1].node && blocks[1].node.next == &blocks[0].node);
    CHECK("next: own bin", lab_bin_next(&wide, b.map, bin[0]) == bin[0]);
    CHECK("next: the next word", lab_bin_next(&wide, b.map, bin[0] + 1) == bin[2]);
    CHECK("next: a later word", lab_bin_next(&wide, b.map, bin[2] + 1) == bin[3]);
    CHECK("next: a far word", lab_bin_next(&wide, b.map, bin[3] + 1) == bin[4]);
    CHECK("next: none above", lab_bin_next(&wide, b.map, bin[4] + 1) == wide.nbins);
    CHECK("next: past the end", lab_bin_next(&wide, b.map, wide.nbins + 7) == wide.nbins);
    CHECK("last", lab_bin_last(&wide, b.map) == bin[4]);
    size_t nodes = 0;
    CHECK("five: clean", check(&wide, &b, NBLOCKS, "F", &nodes) == 0 && nodes == 5);
    lab_bin_remove(&wide, b.head, b.map, bin[4], &blocks[4].node);
    CHECK("removed: summary cleared", lab_bin_last(&wide, b.map) == bin[3] &&
                                          !(b.map[12] >> (bin[4] / 64) & 1));
    lab_bin_remove(&wide, b.head, b.map, bin[0], &blocks[1].node);
    CHECK("removed one of two: bit stays", lab_binmap_test(b.map, bin[0]) &&
                                               b.head[bin[0]] == &blocks[0].node &&
                                               blocks[0].node.prev == NULL);
    lab_bin_remove(&wide, b.head, b.map, bin[0], &blocks[0].node);
    CHECK("emptied: bit cleared", !lab_binmap_test(b.map, bin[0]) &&
                                      lab_bin_next(&wide, b.map, 0) == bin[2]);
    CHECK("two left: clean", check(&wide, &b, NBLOCKS, "G", &nodes) == 0 && nodes == 2);
}

/* A map of 4 words has no summary: the next non-empty bin is found by a scan. */
static void scanned_map(void)
{
    static bins_t b;
    memset(&b, 0, sizeof b);
    CHECK("4 words, no summary", LAB_BINMAP_WORDS(256) == 4 && !lab_binmap_summary(&clamped));
    lab_bin_push(&clamped, b.head, b.map, 5, with_size(0, 40));
    lab_bin_push(&clamped, b.head, b.map, 201, with_size(1, (size_t)1 << 28)); /* 129 + 18 * 4 */
    CHECK("scan: next in word 0", lab_bin_next(&clamped, b.map, 0) == 5);
    CHECK("scan: next in word 3", lab_bin_next(&clamped, b.map, 6) == 201);
    CHECK("scan: none above", lab_bin_next(&clamped, b.map, 202) == clamped.nbins);
    CHECK("scan: last", lab_bin_last(&clamped, b.map) == 201);
    CHECK("scan: clean", check(&clamped, &b, NBLOCKS, "K", NULL) == 0);
    b.map[2] |= 1; /* bin 128 marked, empty */
    CHECK("scan: M1 stray bit", finds(&clamped, &b, "map bit of bin 128"));
    b.map[2] = 0;
    lab_bin_remove(&clamped, b.head, b.map, 201, &blocks[1].node);
    CHECK("scan: last after remove", lab_bin_last(&clamped, b.map) == 5);
}

/* One word, no summary; a sorted class kept with link-after. */
static void one_word_and_sorted(void)
{
    static bins_t b;
    memset(&b, 0, sizeof b);
    lab_binnode_t *a = with_size(0, 300), *c = with_size(1, 500), *m = with_size(2, 400);
    unsigned k = lab_bin_of(&narrow, 300); /* [256, 512): class 3, sorted */
    lab_bin_link_after(&narrow, b.head, b.map, k, NULL, a);
    lab_bin_link_after(&narrow, b.head, b.map, k, a, c);
    lab_bin_link_after(&narrow, b.head, b.map, k, a, m);
    CHECK("sorted order", b.head[k] == a && a->next == m && m->next == c && c->next == NULL &&
                              c->prev == m && m->prev == a);
    CHECK("one word: next", lab_bin_next(&narrow, b.map, 0) == k &&
                                lab_bin_next(&narrow, b.map, k + 1) == narrow.nbins);
    CHECK("one word: last", lab_bin_last(&narrow, b.map) == k);
    CHECK("sorted: clean", check(&narrow, &b, NBLOCKS, "S", NULL) == 0);
    blocks[2].size = 480; /* 300, 480, 500: still sorted */
    CHECK("still sorted: clean", check(&narrow, &b, NBLOCKS, "S", NULL) == 0);
    blocks[2].size = 260; /* 300, 260, 500 */
    CHECK("L3: unsorted list", finds(&narrow, &b, "not sorted"));
    blocks[2].size = 400;
    lab_bin_remove(&narrow, b.head, b.map, k, c);
    lab_bin_remove(&narrow, b.head, b.map, k, a);
    lab_bin_remove(&narrow, b.head, b.map, k, m);
    CHECK("one word: emptied", b.map[0] == 0 && lab_bin_last(&narrow, b.map) == narrow.nbins);
}

/* Each invariant broken in turn, then repaired: the check names the broken one. */
static void corrupted_states(void)
{
    static bins_t b;
    memset(&b, 0, sizeof b);
    unsigned i = lab_bin_of(&wide, 64), j = lab_bin_of(&wide, 5000);
    lab_bin_push(&wide, b.head, b.map, i, with_size(0, 64));
    lab_bin_push(&wide, b.head, b.map, i, with_size(1, 64));
    lab_bin_push(&wide, b.head, b.map, j, with_size(2, 5000));
    REQUIRE("clean before", check(&wide, &b, NBLOCKS, "C", NULL) == 0);

    b.map[0] ^= (uint64_t)1 << 3; /* an empty bin marked non-empty */
    CHECK("M1: stray map bit", finds(&wide, &b, "map bit of bin 3"));
    b.map[0] ^= (uint64_t)1 << 3;
    b.map[j / 64] ^= (uint64_t)1 << (j % 64); /* a non-empty bin marked empty */
    CHECK("M1: missing map bit", finds(&wide, &b, "map bit of bin"));
    b.map[j / 64] ^= (uint64_t)1 << (j % 64);
    b.map[12] ^= (uint64_t)1 << 5; /* a zero word marked non-zero */
    CHECK("M2: stray summary bit", finds(&wide, &b, "summary bit of map word 5"));
    b.map[12] ^= (uint64_t)1 << 5;
    b.map[12] ^= (uint64_t)1 << (j / 64);
    CHECK("M2: missing summary bit", finds(&wide, &b, "summary bit"));
    b.map[12] ^= (uint64_t)1 << (j / 64);

    blocks[0].node.prev = &blocks[2].node; /* a back link to another bin's block */
    CHECK("L1: wrong prev", finds(&wide, &b, "has prev"));
    blocks[0].node.prev = &blocks[1].node;
    blocks[0].size = 72; /* a block in the bin of another size */
    CHECK("L2: wrong bin", finds(&wide, &b, "holds a block of 72 bytes"));
    blocks[0].size = 64;
    static lab_binnode_t stray;
    blocks[0].node.next = &stray; /* a link to no free block */
    CHECK("L2: not a free block", finds(&wide, &b, "not a free block"));
    blocks[0].node.next = &blocks[1].node; /* a cycle: 1 -> 0 -> 1 -> ... */
    CHECK("cycle: reported, and the walk ends", finds(&wide, &b, "has prev"));
    blocks[0].node.next = NULL;
    lab_report_t r = {0};
    lab_bins_check(&wide, b.head, b.map, block_size, NULL, 2, "X", &r);
    CHECK("limit: more nodes than the caller knows of", strstr(r.first, "more than 2") != NULL);
    CHECK("clean after repair", check(&wide, &b, NBLOCKS, "C", NULL) == 0);
    lab_binshape_t bad = wide;
    bad.nbins = 0;
    CHECK("bad shape", finds(&bad, &b, "0 bins"));
}

int main(void)
{
    size_to_bin();
    insert_find_remove();
    scanned_map();
    one_word_and_sorted();
    corrupted_states();
    return hk_test_summary();
}
