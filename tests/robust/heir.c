/*
 * heir.c -- a new thread continues the heap of the thread that exited just before it
 * (src/heap.c "orphans"): its blocks go into the pages its predecessor left part used,
 * and the blocks the predecessor left live are its own (frees stay local).
 *
 * Threads run one after another. Each allocates BLOCKS blocks of mixed small sizes,
 * frees every other one, and exits leaving the rest to the next thread, which frees them
 * after its own first call: a malloc ("malloc": the one heap waiting is taken) or a free
 * of one of them ("free": the heap of that block is taken). Checked: the next thread's
 * first block lies in a page (64 KiB, small blocks) that holds blocks its predecessor left
 * live (before, a thread whose first call was malloc started a heap of its own and took a
 * segment of an exited thread only in some rounds: 38 of 39; with "free" the segment it
 * claimed did it already); no remote frees at all; the address space mapped stays what
 * the first threads mapped.
 *   heir malloc|free
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "robust.h"

#define ROUNDS 40
#define BLOCKS 3000

static void *left[BLOCKS];
static size_t left_size[BLOCKS];
static int first_is_free;
static int same_page; /* threads whose first block shared a page with the predecessor's */

static uintptr_t page_of(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)((64u << 10) - 1);
}

static int in_a_left_page(const void *p)
{
    for (int i = 1; i < BLOCKS; i += 2)
        if (left[i] != NULL && page_of(left[i]) == page_of(p))
            return 1;
    return 0;
}

static void *worker(void *arg)
{
    unsigned rs = (unsigned)(uintptr_t)arg;
    int bad = 0;
    if (left[1] != NULL) {
        void *first;
        if (first_is_free) {
            if (!rb_verify(left[1], left_size[1], 1))
                bad++;
            free(left[1]);
            left[1] = NULL;
        }
        first = malloc(64);
        same_page += in_a_left_page(first);
        free(first);
        for (int i = 1; i < BLOCKS; i += 2) {
            if (left[i] == NULL)
                continue;
            if (!rb_verify(left[i], left_size[i], (unsigned)i))
                bad++;
            free(left[i]);
            left[i] = NULL;
        }
    }
    for (int i = 0; i < BLOCKS; i++) {
        left_size[i] = 16 + rb_rand(&rs) % 1000;
        left[i] = malloc(left_size[i]);
        if (left[i] == NULL) {
            bad++;
            continue;
        }
        rb_fill(left[i], left_size[i], (unsigned)i);
    }
    for (int i = 0; i < BLOCKS; i += 2) {
        free(left[i]);
        left[i] = NULL;
    }
    return (void *)(uintptr_t)bad;
}

int main(int argc, char **argv)
{
    alarm(50);
    first_is_free = argc > 1 && strcmp(argv[1], "free") == 0;
    printf("heir: %d threads one after another, first call %s\n", ROUNDS,
           first_is_free ? "free" : "malloc");
    hk_stats_t s0, s1, s2;
    if (!rb_stats_get(&s0)) {
        CHECK("heapkit is loaded", 0);
        return hk_test_summary();
    }
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t t;
        void *ret;
        if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)(r + 1)) != 0 ||
            pthread_join(t, &ret) != 0) {
            bad++;
            break;
        }
        bad += (int)(uintptr_t)ret;
        if (r == 1)
            rb_stats_get(&s1);
    }
    rb_stats_get(&s2);
    size_t remote = s2.remote_frees - s0.remote_frees;
    printf("heir: %d of %d threads began in a page of their predecessor; %zu remote frees; "
           "mapped %zu KiB after 2 threads, %zu KiB after %d\n",
           same_page, ROUNDS - 1, remote, s1.mapped >> 10, s2.mapped >> 10, ROUNDS);
    CHECK("every block intact, every allocation succeeded", bad == 0);
    CHECK("each new thread allocates in the pages its predecessor left",
          same_page == ROUNDS - 1);
    CHECK("the blocks an exited thread left are freed locally by the next", remote == 0);
    CHECK("no more address space than the first threads took", s2.mapped <= s1.mapped);
    for (int i = 0; i < BLOCKS; i++)
        free(left[i]);
    return hk_test_summary();
}
