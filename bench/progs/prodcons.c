/*
 * prodcons.c -- producer threads allocate and fill messages, consumer threads verify and
 * free them: every free is a cross-thread free. Messages travel in batches through a
 * mutex-protected queue so the queue costs little next to the allocator.
 *   prodcons [pairs=1] [messages_per_producer=4000000]
 */
#include "common.h"

#include <pthread.h>

#define BATCH 256
#define QCAP  64

typedef struct batch {
    void  *msg[BATCH];
    size_t size[BATCH];
} batch_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t  changed;
    batch_t        *ring[QCAP];
    int             head, count, producers_left;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static long messages;
static int failed;

static void put(batch_t *b)
{
    pthread_mutex_lock(&q.lock);
    while (q.count == QCAP)
        pthread_cond_wait(&q.changed, &q.lock);
    q.ring[(q.head + q.count++) % QCAP] = b;
    pthread_cond_broadcast(&q.changed);
    pthread_mutex_unlock(&q.lock);
}

/* NULL once every producer is done and the queue is empty. */
static batch_t *take(void)
{
    pthread_mutex_lock(&q.lock);
    while (q.count == 0 && q.producers_left > 0)
        pthread_cond_wait(&q.changed, &q.lock);
    batch_t *b = NULL;
    if (q.count) {
        b = q.ring[q.head];
        q.head = (q.head + 1) % QCAP;
        q.count--;
        pthread_cond_broadcast(&q.changed);
    }
    pthread_mutex_unlock(&q.lock);
    return b;
}

static void *produce(void *arg)
{
    bench_rng_t rng = {(uint64_t)(uintptr_t)arg};
    for (long sent = 0; sent < messages; sent += BATCH) {
        batch_t *b = malloc(sizeof *b);
        for (int i = 0; i < BATCH; i++) {
            b->size[i] = bench_size(&rng, 2048);
            b->msg[i] = malloc(b->size[i]);
            bench_touch(b->msg[i], b->size[i], (unsigned char)i);
        }
        put(b);
    }
    pthread_mutex_lock(&q.lock);
    q.producers_left--;
    pthread_cond_broadcast(&q.changed);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consume(void *arg)
{
    (void)arg;
    batch_t *b;
    while ((b = take()) != NULL) {
        for (int i = 0; i < BATCH; i++) {
            if (!bench_check(b->msg[i], b->size[i], (unsigned char)i))
                failed = 1;
            free(b->msg[i]);
        }
        free(b);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long pairs = bench_arg(argc, argv, 1, 1);
    messages = bench_arg(argc, argv, 2, 4000000);
    pthread_t tid[128];
    if (pairs < 1 || pairs > 64)
        return 1;
    q.producers_left = (int)pairs;
    double t0 = bench_now();
    for (long i = 0; i < pairs; i++) {
        pthread_create(&tid[2 * i], NULL, produce, (void *)(uintptr_t)(i + 1));
        pthread_create(&tid[2 * i + 1], NULL, consume, NULL);
    }
    for (long i = 0; i < 2 * pairs; i++)
        pthread_join(tid[i], NULL);
    if (failed)
        return fprintf(stderr, "prodcons: corrupted message\n"), 1;
    bench_report("prodcons", bench_now() - t0, (unsigned long long)(pairs * messages));
    return 0;
}
