/*
 * threads.c -- --threads recorded at run time: starting and joining the players'
 *              threads, and waiting for another thread's op (plan.c says what waits
 *              for what, and why that cannot deadlock).
 *
 * Design:      An op someone waits for has a done word (play.h DONE_*): PENDING until
 *              it is done, WAITED once a waiter sleeps on it, DONE after. The thread that
 *              did the op exchanges in DONE (release: the block's slot goes with it) and
 *              calls futex wake only when it finds WAITED, so an op nobody is sleeping on
 *              costs one atomic exchange, and an op nobody waits for costs nothing. A
 *              waiter spins briefly (the op is usually a few hundred nanoseconds away),
 *              then sleeps in futex wait: a long wait burns no CPU that the thread it
 *              waits for might need. There is no timeout here: the whole replay runs
 *              under the player's alarm (out.c), which names the waiting ops if a
 *              replay ever stops making progress.
 *              Only the main thread starts and joins threads (as a program's main thread
 *              usually does, so its allocator serves pthread_create's own allocations).
 *              It does so from its op loop, before the op that follows a thread's start
 *              point, and after its own last op for the threads still to come.
 * Concurrency: done words: any thread; spawn and stack state: the main thread only.
 * Complexity:  O(1) per signal; a wait is O(1) plus the time waited; a start is O(live
 *              threads) when no stack is free.
 */
#include "play.h"

#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPIN_ROUNDS 128

static long futex(_Atomic uint32_t *word, int op, uint32_t value)
{
    return syscall(SYS_futex, (void *)word, op, value, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#endif
}

/* ---- Waiting and signalling ---- */

void play_wait_op(play_t *pl, uint32_t op)
{
    _Atomic uint32_t *word = &pl->done[op];
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) == DONE_DONE)
            return;
        cpu_relax();
    }
    play_self->waiting = op + 1;
    for (;;) {
        uint32_t seen = DONE_PENDING;
        if (atomic_compare_exchange_strong_explicit(word, &seen, DONE_WAITED,
                                                    memory_order_acq_rel, memory_order_acquire) ||
            seen == DONE_WAITED)
            futex(word, FUTEX_WAIT_PRIVATE, DONE_WAITED); /* returns at once if it changed */
        else if (seen == DONE_DONE)
            break;
        else
            play_fail(play_self->current, "internal error: op %u waits for op %u, which "
                      "nobody signals", play_self->current, op + 1);
    }
    play_self->waiting = 0;
}

void play_signal_op(play_t *pl, uint32_t op)
{
    _Atomic uint32_t *word = &pl->done[op];
    if (atomic_exchange_explicit(word, DONE_DONE, memory_order_acq_rel) == DONE_WAITED)
        futex(word, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/* ---- Threads ---- */

static void *thread_main(void *arg)
{
    play_thread_t *th = arg;
    play_self = th;
    play_thread_ops(th->pl, th);
    return NULL;
}

/* Joins live thread number k and frees its stack. */
static void join_live(play_t *pl, uint32_t k)
{
    play_thread_t *th = &pl->threads[pl->live[k]];
    pthread_join(th->handle, NULL);
    pl->free_stacks[pl->num_free_stacks++] = th->stack;
    th->stack = PLAY_NONE;
    th->running = false;
    pl->live[k] = pl->live[--pl->num_live];
}

/* A free stack for a thread whose first op is `first`. With none free, a live thread
 * whose last op is before `first` is joined (W3): plan.c made as many stacks as threads
 * are live at once, so one exists, and it has nothing left to wait for. */
static uint32_t take_stack(play_t *pl, uint32_t first)
{
    if (pl->num_free_stacks == 0) {
        uint32_t best = PLAY_NONE;
        for (uint32_t k = 0; k < pl->num_live; k++) {
            uint32_t last = pl->threads[pl->live[k]].last;
            if (last < first && (best == PLAY_NONE || last < pl->threads[pl->live[best]].last))
                best = k;
        }
        if (best == PLAY_NONE)
            play_fail(first + 1, "internal error: no stack for the thread starting at op %u",
                      first + 1);
        join_live(pl, best);
    }
    return pl->free_stacks[--pl->num_free_stacks];
}

static void start_thread(play_t *pl, play_thread_t *th)
{
    if (th->first > 0)
        play_wait_op(pl, th->first - 1); /* W2 */
    th->stack = take_stack(pl, th->first);
    unsigned char *stack = pl->stacks + (size_t)th->stack * (PLAY_STACK_SIZE + PLAY_PAGE);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack + PLAY_PAGE, PLAY_STACK_SIZE);
    int err = pthread_create(&th->handle, &attr, thread_main, th);
    pthread_attr_destroy(&attr);
    if (err)
        play_fail(th->first + 1, "cannot start the thread of trace thread %u: %s", th->index,
                  strerror(err));
    th->running = true;
    pl->live[pl->num_live++] = th->index;
}

void play_spawn_due(play_t *pl, uint32_t before)
{
    while (pl->next_spawn < pl->num_spawn) {
        play_thread_t *th = &pl->threads[pl->spawn[pl->next_spawn]];
        if (th->first >= before)
            break;
        pl->next_spawn++;
        start_thread(pl, th);
    }
    pl->spawn_due = pl->next_spawn < pl->num_spawn ? pl->threads[pl->spawn[pl->next_spawn]].first
                                                   : PLAY_NONE;
}

void play_join_all(play_t *pl)
{
    while (pl->num_live > 0)
        join_live(pl, pl->num_live - 1);
}
