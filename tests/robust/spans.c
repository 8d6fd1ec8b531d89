/*
 * spans.c -- spans (blocks of 72 KiB..1 MiB on runs of 64 KiB slots, src/types.h) freed
 * by another thread go back to their owner's segments, where other sizes reuse the runs.
 *
 * A producer allocates rounds of 64 blocks of 72 KiB..1 MiB (mixed sizes, each written
 * on its first and last byte) and hands each round to a consumer thread, which checks
 * and frees it while the producer goes on. A span freed by another thread waits on its
 * page's thread_free until its owner's span mallocs collect it (src/heap.c sweep_spans),
 * so the producer's mapped bytes must stay near a few rounds' worth however many rounds
 * run: without the collection they grow by a round (about 34 MiB) each time. The
 * producer's heap check passes at the end (static build).
 */
#include <pthread.h>

#include "robust.h"

#define ROUNDS 48
#define PER    64

static unsigned char *handed[PER];
static size_t handed_size[PER];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int full, done, bad;

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!full && !done)
            pthread_cond_wait(&cond, &lock);
        if (!full && done) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        for (int i = 0; i < PER; i++) {
            unsigned char *p = handed[i];
            if (p[0] != (unsigned char)i || p[handed_size[i] - 1] != (unsigned char)i)
                bad++;
            free(p);
        }
        full = 0;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
}

int main(void)
{
    alarm(50);
    void *probe = malloc(100);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);
    pthread_t t;
    pthread_create(&t, NULL, consumer, NULL);
    uint64_t s = 12345;
    size_t peak = 0, after_two = 0;
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char *mine[PER];
        size_t size[PER];
        for (int i = 0; i < PER; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            size[i] = ((size_t)72 << 10) + (size_t)(s >> 33) % ((size_t)952 << 10);
            mine[i] = malloc(size[i]);
            if (mine[i] == NULL) {
                bad++;
                continue;
            }
            mine[i][0] = mine[i][size[i] - 1] = (unsigned char)i;
        }
        pthread_mutex_lock(&lock);
        while (full)
            pthread_cond_wait(&cond, &lock);
        for (int i = 0; i < PER; i++) {
            handed[i] = mine[i];
            handed_size[i] = size[i];
        }
        full = 1;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
        hk_stats_t st;
        if (rb_stats_get(&st)) {
            if (r == 2)
                after_two = st.mapped;
            if (st.mapped > peak)
                peak = st.mapped;
        }
    }
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(t, NULL);
    CHECK("every block kept its bytes", bad == 0);
    if (peak > after_two * 2)
        fprintf(stderr, "spans: mapped %zu MiB after 3 rounds, peak %zu MiB over %d\n",
                after_two >> 20, peak >> 20, ROUNDS);
    CHECK("spans freed by another thread are reused: mapped stays under 2x its 3-round size",
          after_two != 0 && peak <= after_two * 2);
#ifdef RB_STATIC
    CHECK("heap check", hk_heap_check(NULL) == 0);
#endif
    return hk_test_summary();
}
