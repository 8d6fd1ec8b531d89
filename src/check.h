/*
 * check.h -- assertions by debug level (see config.h HK_DEBUG).
 *
 *   hk_assert(x)            HK_DEBUG >= 1   API-level checks
 *   hk_assert_internal(x)   HK_DEBUG >= 2   local structural checks
 *   hk_assert_expensive(x)  HK_DEBUG >= 3   full walks
 * A failed assertion calls hki_fatal (never returns, never allocates).
 */
#ifndef HK_CHECK_H
#define HK_CHECK_H

#include "config.h"

_Noreturn void hki_fatal(const char *fmt, ...) __attribute__((cold, format(printf, 1, 2)));

#define hk_assert_at_(level, x)                                                                    \
    do {                                                                                           \
        if (HK_DEBUG >= (level) && !(x))                                                           \
            hki_fatal("assertion failed: %s (%s:%d)", #x, __FILE__, __LINE__);                     \
    } while (0)

#define hk_assert(x)           hk_assert_at_(1, x)
#define hk_assert_internal(x)  hk_assert_at_(2, x)
#define hk_assert_expensive(x) hk_assert_at_(3, x)

#endif
