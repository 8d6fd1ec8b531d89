/*
 * plan.c -- --threads recorded: which thread plays which op, and what each waits for.
 *
 * Design:      Trace thread t is played by a thread of its own (thread 0 by the main
 *              thread), which plays the ops recorded on t in their order. Three kinds of
 *              waiting keep the replay a possible execution of the recorded program:
 *                W1 an op waits until the previous op on the same id is done when another
 *                   thread did it (a cross-thread free comes after its allocation, and an
 *                   id is allocated again only after its free);
 *                W2 thread t is started once the op just before its first op (in global
 *                   order) is done, and it ends after its last op, so thread lifetimes
 *                   and churn are the program's;
 *                W3 a stack is reused only after the thread that had it was joined.
 *              Every wait is for an op earlier in the global order, so the earliest op not
 *              yet done can always run: the replay cannot deadlock (threads.c relies on
 *              this for W3 too: a thread whose last op is before t's first has nothing
 *              left that could wait for t).
 *              The plan is built here, before the baseline, in the player's own memory:
 *              order[] groups the op indices by thread, wait[] holds W1, done[] marks
 *              the ops someone waits for (W1 and W2), so only those pay for signalling.
 *              Stacks: as many as threads can be live at once in the global order (a
 *              thread counts from its first op to its last), each mapped and touched now.
 * Complexity:  O(num_ops + num_ids + num_threads) time and memory.
 */
#include "play.h"

#include <sys/mman.h>

/* Per thread: first and last op, op count; the threads that have ops, by first op. */
static void scan_threads(play_t *pl)
{
    uint32_t n = pl->hdr->num_threads;
    for (uint32_t t = 0; t < n; t++) {
        play_thread_t *th = &pl->threads[t];
        th->first = th->last = PLAY_NONE;
        th->index = t;
        th->stack = PLAY_NONE;
        th->pl = pl;
    }
    for (uint32_t i = 0; i < pl->num_ops; i++) {
        play_thread_t *th = &pl->threads[pl->thread_of[i]];
        if (th->first == PLAY_NONE) {
            th->first = i;
            if (th->index != 0)
                pl->spawn[pl->num_spawn++] = th->index;
        }
        th->last = i;
        th->count++;
    }
}

/* order[]: each thread's ops, in op order, from its start. `fill` is scratch, 1/thread. */
static void group_ops(play_t *pl, uint32_t *fill)
{
    uint32_t start = 0;
    for (uint32_t t = 0; t < pl->hdr->num_threads; t++) {
        pl->threads[t].start = fill[t] = start;
        start += pl->threads[t].count;
    }
    for (uint32_t i = 0; i < pl->num_ops; i++)
        pl->order[fill[pl->thread_of[i]]++] = i;
}

/* W1 and the done[] marks of W1 and W2. `last_op` is scratch, one per id. */
static void link_waits(play_t *pl, uint32_t *last_op)
{
    for (uint32_t id = 0; id < pl->hdr->num_ids; id++)
        last_op[id] = PLAY_NONE;
    for (uint32_t i = 0; i < pl->num_ops; i++) {
        uint32_t id = pl->ops[i].id, j = last_op[id];
        pl->wait[i] = PLAY_NONE;
        if (j != PLAY_NONE && pl->thread_of[j] != pl->thread_of[i]) {
            pl->wait[i] = j;
            pl->done[j] = DONE_PENDING;
        }
        last_op[id] = i;
    }
    for (uint32_t t = 0; t < pl->hdr->num_threads; t++) {
        uint32_t first = pl->threads[t].first;
        if (first != PLAY_NONE && first > 0)
            pl->done[first - 1] = DONE_PENDING; /* W2; ops.c waits for it (thread 0 too) */
    }
}

/* The most threads (other than 0) live at once, a thread counting from first to last op. */
static uint32_t max_live_threads(const play_t *pl)
{
    uint32_t live = 0, most = 0;
    for (uint32_t i = 0; i < pl->num_ops; i++) {
        const play_thread_t *th = &pl->threads[pl->thread_of[i]];
        if (th->index == 0)
            continue;
        if (i == th->first && ++live > most)
            most = live;
        if (i == th->last)
            live--;
    }
    return most;
}

/* Maps the stacks, each above a guard page, and puts them all on the free list. */
static const char *map_stacks(play_t *pl, uint32_t count)
{
    size_t slot = PLAY_STACK_SIZE + PLAY_PAGE;
    pl->num_stacks = count;
    pl->free_stacks = play_map((size_t)count * sizeof *pl->free_stacks);
    pl->live = play_map((size_t)count * sizeof *pl->live);
    pl->stacks = count ? play_map((size_t)count * slot) : NULL;
    if (!pl->free_stacks || !pl->live || (count && !pl->stacks))
        return "cannot map the threads' stacks";
    for (uint32_t s = 0; s < count; s++) {
        mprotect(pl->stacks + (size_t)s * slot, PLAY_PAGE, PROT_NONE);
        pl->free_stacks[pl->num_free_stacks++] = count - 1 - s;
    }
    return NULL;
}

const char *play_plan(play_t *pl)
{
    uint32_t ops = pl->num_ops, threads = pl->hdr->num_threads, ids = pl->hdr->num_ids;
    pl->threads = play_map((size_t)threads * sizeof *pl->threads);
    pl->spawn = play_map((size_t)threads * sizeof *pl->spawn);
    pl->order = play_map((size_t)ops * sizeof *pl->order);
    pl->wait = play_map((size_t)ops * sizeof *pl->wait);
    pl->done = play_map((size_t)ops * sizeof *pl->done);
    size_t scratch_size = ((size_t)(threads > ids ? threads : ids) + 1) * sizeof(uint32_t);
    uint32_t *scratch = play_map(scratch_size);
    if (!pl->threads || !pl->spawn || !pl->order || !pl->wait || !pl->done || !scratch)
        return "cannot map the thread plan";
    scan_threads(pl);
    group_ops(pl, scratch);
    link_waits(pl, scratch);
    munmap(scratch, scratch_size);
    uint32_t live = max_live_threads(pl);
    if (live > PLAY_MAX_LIVE_THREADS)
        return "more than 256 recorded threads are live at once (the player's limit)";
    pl->spawn_due = pl->num_spawn ? pl->threads[pl->spawn[0]].first : PLAY_NONE;
    pl->recorded = true;
    return map_stacks(pl, live);
}
