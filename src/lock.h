/*
 * lock.h -- tiny spin locks (held for O(1) or short walks; all are taken by the fork
 * prepare handler, heap.c). A leaf: it needs only the OS layer's yield.
 *
 * Design:      test-and-set on an atomic_flag, acquire on lock and release on unlock;
 *              after 64 failed spins the waiter yields its CPU, so a holder preempted on
 *              a machine with fewer cores than threads gets to run and release it.
 * Concurrency: lock order (outermost first): pool_lock (heap.c) -> init_lock ->
 *              hki_abandoned_lock (ownership.c), hki_huge_lock (huge.c); the last two are
 *              leaves, never held together except by the fork handler, in that order.
 */
#ifndef HK_LOCK_H
#define HK_LOCK_H

#include "config.h"
#include "os.h"

#include <stdatomic.h>

typedef struct hk_lock_s {
    atomic_flag flag;
} hk_lock_t;
#define HK_LOCK_INIT {ATOMIC_FLAG_INIT}

static inline void hki_lock(hk_lock_t *l)
{
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&l->flag, memory_order_acquire)) {
        if (++spins > 64) {
            hki_os_yield();
            spins = 0;
        }
    }
}

static inline void hki_unlock(hk_lock_t *l)
{
    atomic_flag_clear_explicit(&l->flag, memory_order_release);
}

#endif
