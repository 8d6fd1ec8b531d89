/*
 * harness.h -- the test harness: CHECK records and continues, REQUIRE stops the test.
 *
 * Every test program ends with `return hk_test_summary();`, which prints the closing
 * line "N passed, N failed" and exits non-zero if anything failed.
 */
#ifndef HK_TEST_HARNESS_H
#define HK_TEST_HARNESS_H

#include <stdio.h>

static int hk_test_passed, hk_test_failed;

#define CHECK(name, expr)                                                                          \
    do {                                                                                           \
        if (expr) {                                                                                \
            hk_test_passed++;                                                                      \
        } else {                                                                                   \
            hk_test_failed++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, (name), #expr);            \
        }                                                                                          \
    } while (0)

/* Like CHECK, but returns from the enclosing function on failure. */
#define REQUIRE(name, expr)                                                                        \
    do {                                                                                           \
        int hk_req_ok_ = !!(expr);                                                                 \
        CHECK(name, hk_req_ok_);                                                                   \
        if (!hk_req_ok_)                                                                           \
            return;                                                                                \
    } while (0)

static inline int hk_test_summary(void)
{
    printf("%d passed, %d failed\n", hk_test_passed, hk_test_failed);
    return hk_test_failed ? 1 : 0;
}

#endif
