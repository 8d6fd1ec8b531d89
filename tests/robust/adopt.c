/*
 * adopt.c -- heaps of exited threads are adopted, so nothing leaks.
 *
 * Each round starts a few threads. Each thread allocates a mix of blocks, frees some
 * itself, frees some blocks the main thread allocated for it (cross-thread frees), hands
 * the rest to the main thread and exits. The main thread then frees the handed blocks
 * (frees into the segments of a thread that no longer exists) and allocates and frees
 * more of its own. After a warm-up, the committed bytes (hk_stats_get) must stay
 * bounded: the most committed in the second half of the rounds may not exceed the most
 * in the first half by more than a slack. (Live counts lag while frees land in segments
 * nobody owns, so they are checked after malloc_trim(0), which adopts every abandoned
 * segment: then the live bytes (hk_stats, mallinfo2) must be back to what the program
 * holds, and committed bytes and RSS back near the start.)
 */
#include <malloc.h>
#include <pthread.h>

#include "robust.h"

#define THREADS 4
#define ROUNDS  90
#define WARMUP  10
#define PER     1000 /* blocks allocated per thread per round */

typedef struct job_s {
    unsigned seed;
    void **to_free;     /* allocated by main, freed by the thread */
    size_t n_to_free;
    void **handed;      /* allocated by the thread, freed by main */
    size_t *handed_size;
    size_t n_handed;
    int bad;
} job_t;

static size_t pick(unsigned *rs)
{
    unsigned r = rb_rand(rs);
    if (r % 50 == 0)
        return 8192 + r % 200000; /* medium / large */
    if (r % 500 == 1)
        return (1 << 20) + r % 2000000; /* huge */
    return 8 + r % 2000;
}

static void *thread_main(void *arg)
{
    job_t *j = arg;
    unsigned rs = j->seed;
    void **mine = malloc(PER * sizeof *mine);
    size_t *msz = malloc(PER * sizeof *msz);
    if (!mine || !msz) {
        j->bad++;
        return NULL;
    }
    for (size_t i = 0; i < PER; i++) {
        msz[i] = pick(&rs);
        mine[i] = malloc(msz[i]);
        if (!mine[i]) {
            j->bad++;
            msz[i] = 0;
            continue;
        }
        rb_fill(mine[i], msz[i], j->seed + (unsigned)i);
    }
    for (size_t i = 0; i < j->n_to_free; i++)
        free(j->to_free[i]);
    j->n_handed = 0;
    for (size_t i = 0; i < PER; i++) {
        if (!mine[i])
            continue;
        if (!rb_verify(mine[i], msz[i], j->seed + (unsigned)i))
            j->bad++;
        if (i % 3 == 0) { /* one third goes to main */
            j->handed[j->n_handed] = mine[i];
            j->handed_size[j->n_handed++] = msz[i];
        } else {
            free(mine[i]);
        }
    }
    free(mine);
    free(msz);
    return NULL;
}

static size_t committed(void)
{
    hk_stats_t s;
    return rb_stats_get(&s) ? s.committed : 0;
}

static size_t allocated(void)
{
    hk_stats_t s;
    return rb_stats_get(&s) ? s.allocated : 0;
}

int main(void)
{
    alarm(50);
    printf("adopt: %d rounds of %d threads\n", ROUNDS, THREADS); /* stdio's buffers now */
    hk_stats_t s0;
    if (!rb_stats_get(&s0)) {
        CHECK("heapkit is loaded", 0);
        return hk_test_summary();
    }
    size_t base_allocated = s0.allocated, base_rss = rb_rss();
    size_t max_first = 0, max_second = 0; /* committed, max over each half after warm-up */
    job_t jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t].to_free = malloc(PER * sizeof(void *));
        jobs[t].handed = malloc(PER * sizeof(void *));
        jobs[t].handed_size = malloc(PER * sizeof(size_t));
        if (!jobs[t].to_free || !jobs[t].handed || !jobs[t].handed_size) {
            CHECK("malloc", 0);
            return hk_test_summary();
        }
    }
    size_t arrays = allocated() - base_allocated; /* the jobs' arrays stay live */
    int bad = 0, handed_bad = 0;
    unsigned rs = 99;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t th[THREADS];
        for (int t = 0; t < THREADS; t++) {
            job_t *j = &jobs[t];
            j->seed = (unsigned)(round * THREADS + t) * 1000003u;
            j->bad = 0;
            j->n_to_free = 200;
            for (size_t i = 0; i < j->n_to_free; i++) {
                j->to_free[i] = malloc(pick(&rs));
                if (!j->to_free[i])
                    bad++;
            }
            if (pthread_create(&th[t], NULL, thread_main, j) != 0)
                bad++;
        }
        for (int t = 0; t < THREADS; t++) {
            pthread_join(th[t], NULL);
            bad += jobs[t].bad;
        }
        /* main frees what the dead threads handed over, and allocates more of its own */
        void *own[300];
        for (int i = 0; i < 300; i++)
            own[i] = malloc(pick(&rs));
        for (int t = 0; t < THREADS; t++) {
            job_t *j = &jobs[t];
            for (size_t i = 0; i < j->n_handed; i++) {
                if (!rb_verify(j->handed[i], j->handed_size[i], j->seed + (unsigned)(i * 3)))
                    handed_bad++;
                free(j->handed[i]);
            }
        }
        for (int i = 0; i < 300; i++)
            free(own[i]);
        size_t c = committed();
        if (round >= WARMUP && round < WARMUP + (ROUNDS - WARMUP) / 2)
            max_first = c > max_first ? c : max_first;
        else if (round >= WARMUP)
            max_second = c > max_second ? c : max_second;
    }
    CHECK("every allocation in the rounds succeeded", bad == 0);
    CHECK("handed blocks intact", handed_bad == 0);
    printf("adopt: committed max %zu MiB in rounds %d..%d, %zu MiB in rounds %d..%d; "
           "RSS %zu MiB\n",
           max_first >> 20, WARMUP, WARMUP + (ROUNDS - WARMUP) / 2 - 1, max_second >> 20,
           WARMUP + (ROUNDS - WARMUP) / 2, ROUNDS - 1, rb_rss() >> 20);
    /* no growth with the number of rounds: the second half needs no more than the first */
    CHECK("committed bytes do not grow with the rounds",
          max_second <= max_first + max_first / 4 + ((size_t)16 << 20));

    /* trim adopts every abandoned segment: the counts are exact again and memory returns */
    int trimmed = malloc_trim(0);
    hk_stats_t s1;
    rb_stats_get(&s1);
    size_t uord = mallinfo2().uordblks, rss = rb_rss();
    printf("adopt: after malloc_trim(0) (returned %d): live %zu bytes (mallinfo2 %zu), "
           "committed %zu KiB, RSS %zu MiB (start %zu MiB)\n",
           trimmed, s1.allocated, uord, s1.committed >> 10, rss >> 20, base_rss >> 20);
    CHECK("after trim, live bytes back to the start (hk_stats)",
          s1.allocated <= base_allocated + arrays + 4096);
    CHECK("after trim, live bytes back to the start (mallinfo2)",
          uord <= base_allocated + arrays + 4096);
    CHECK("after trim, committed back near the start", s1.committed <= ((size_t)8 << 20));
    CHECK("after trim, RSS back near the start", rss <= base_rss + ((size_t)16 << 20));
    for (int t = 0; t < THREADS; t++) {
        free(jobs[t].to_free);
        free(jobs[t].handed);
        free(jobs[t].handed_size);
    }
    return hk_test_summary();
}
