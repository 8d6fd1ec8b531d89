/*
 * purge.c -- unused pages go back to the OS after the purge delay; malloc_trim(0)
 * returns them at once.
 *
 * Usage: purge MODE, with the environment set by the caller:
 *   zero    (HEAPKIT_PURGE_DELAY=0)    RSS drops near the start right after the frees
 *   trim    (default delay)            malloc_trim(0) right after the frees drops RSS
 *   delay   (HEAPKIT_PURGE_DELAY=200)  not all purged right after the frees; after a
 *                                      wait longer than the delay, with a little
 *                                      allocation activity, RSS has dropped
 *   never   (HEAPKIT_PURGE_DELAY=-1)   RSS stays up after the wait; malloc_trim drops it
 *   thread  (default delay)            a thread allocates and frees, then exits;
 *                                      malloc_trim(0) in main drops RSS
 * Each mode allocates ~100 MB in small blocks (16..1024 bytes), touches them, checks
 * the RSS went up, frees them all (in an order unlike the allocation order), then checks
 * the RSS as above. In zero/trim/never, six huge blocks (4 MiB each, kept in the
 * library's huge cache after free unless the delay is 0) come on top.
 */
#include <malloc.h>
#include <pthread.h>
#include <time.h>

#include "robust.h"

#define TOTAL ((size_t)100 << 20)
#define NEAR  ((size_t)12 << 20) /* "near the start" */

static const char *mode;
static size_t rss_start;

typedef struct node_s {
    struct node_s *next;
} node_t;

/* Allocates ~TOTAL bytes of small blocks in 8 interleaved lists, touching every byte;
 * with `huge`, also HUGE_N blocks of 4 MiB (few enough for the library's huge cache). */
#define HUGE_N 6
static void fill(node_t **lists, int huge)
{
    unsigned rs = 4242;
    size_t total = 0;
    for (unsigned i = 0; total < TOTAL + (huge ? HUGE_N * ((size_t)4 << 20) : 0); i++) {
        size_t n = huge && i % 20000 == 0 && i / 20000 < HUGE_N ? ((size_t)4 << 20)
                                                                  : 16 + rb_rand(&rs) % 1009;
        node_t *p = malloc(n);
        if (!p)
            return;
        memset(p, 0x5a, n);
        p->next = lists[i % 8];
        lists[i % 8] = p;
        total += n;
    }
}

static void drain(node_t **lists)
{
    for (int l = 7; l >= 0; l--) { /* not in allocation order */
        node_t *p = lists[l];
        while (p) {
            node_t *next = p->next;
            free(p);
            p = next;
        }
        lists[l] = NULL;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A little activity of the kind any program has: the slow paths get their turn. */
static void activity(void)
{
    for (int r = 0; r < 4; r++) { /* 600 ms: three times the delay of mode delay */
        void *p[256];
        for (int i = 0; i < 256; i++)
            p[i] = malloc((size_t)16 + (size_t)i * 4);
        for (int i = 0; i < 256; i++)
            free(p[i]);
        sleep_ms(150);
    }
}

static void *thread_fill(void *arg)
{
    node_t *lists[8] = {0};
    fill(lists, 0);
    *(size_t *)arg = rb_rss();
    drain(lists);
    return NULL;
}

static void report(const char *what, size_t rss)
{
    printf("purge %s: %-28s RSS %4zu MiB (start %zu MiB)\n", mode, what, rss >> 20,
           rss_start >> 20);
}

int main(int argc, char **argv)
{
    alarm(30);
    mode = argc > 1 ? argv[1] : "zero";
    void *probe = malloc(64);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);
    printf("purge %s: start\n", mode); /* stdio's buffer now, not in the middle */
    rss_start = rb_rss();
    if (rss_start == 0) {
        CHECK("read /proc/self/statm", 0);
        return hk_test_summary();
    }
    node_t *lists[8] = {0};
    size_t full;
    if (strcmp(mode, "thread") == 0) {
        pthread_t t;
        full = 0;
        CHECK("pthread_create", pthread_create(&t, NULL, thread_fill, &full) == 0);
        pthread_join(t, NULL);
    } else {
        int huge = strcmp(mode, "delay") != 0;
        fill(lists, huge);
        full = rb_rss();
        drain(lists);
    }
    report("full:", full);
    CHECK("RSS went up by most of the 100 MB", full >= rss_start + TOTAL / 10 * 9);
    size_t after = rb_rss();
    report("right after the frees:", after);

    if (strcmp(mode, "zero") == 0) {
        CHECK("HEAPKIT_PURGE_DELAY=0: RSS near the start right after the frees",
              after <= rss_start + NEAR);
    } else if (strcmp(mode, "trim") == 0) {
        int r = malloc_trim(0);
        int r2 = malloc_trim(0); /* nothing allocated or freed in between */
        size_t t = rb_rss();
        report("after malloc_trim(0):", t);
        CHECK("malloc_trim(0) returns 1 (memory released)", r == 1);
        CHECK("malloc_trim(0): RSS near the start at once", t <= rss_start + NEAR);
        CHECK("malloc_trim(0) again at once: nothing left to release, returns 0", r2 == 0);
    } else if (strcmp(mode, "delay") == 0) {
        CHECK("HEAPKIT_PURGE_DELAY=200: not everything purged at once (the delay holds)",
              after > rss_start + TOTAL / 2);
        activity();
        size_t d = rb_rss();
        report("after the delay + activity:", d);
        CHECK("HEAPKIT_PURGE_DELAY=200: RSS near the start after the delay", d <= rss_start + NEAR);
    } else if (strcmp(mode, "never") == 0) {
        activity();
        size_t d = rb_rss();
        report("after a wait + activity:", d);
        CHECK("HEAPKIT_PURGE_DELAY=-1: nothing purged without trim", d >= rss_start + TOTAL / 2);
        int r = malloc_trim(0);
        size_t t = rb_rss();
        report("after malloc_trim(0):", t);
        CHECK("malloc_trim(0) returns 1", r == 1);
        CHECK("HEAPKIT_PURGE_DELAY=-1: malloc_trim(0) drops RSS near the start",
              t <= rss_start + NEAR);
    } else if (strcmp(mode, "thread") == 0) {
        int r = malloc_trim(0);
        size_t t = rb_rss();
        report("after malloc_trim(0):", t);
        CHECK("malloc_trim(0) returns 1", r == 1);
        CHECK("exited thread's memory: malloc_trim(0) drops RSS near the start",
              t <= rss_start + NEAR);
    } else {
        CHECK("known mode", 0);
    }
    /* the memory is usable again */
    fill(lists, 0);
    CHECK("allocating again after the purge", lists[0] != NULL && rb_is_owned(lists[0]) == 1);
    drain(lists);
    return hk_test_summary();
}
