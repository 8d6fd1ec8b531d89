/*
 * larson.c -- a server simulation after Larson and Krishnan: each worker thread owns a
 * table of live objects and keeps replacing random ones; after every round its thread
 * ends and a new one takes the table over, so every object is freed by a thread other
 * than the one that allocated it (connections come and go).
 *   larson [threads=2] [rounds=40] [steps_per_round=200000] [slots=4000] [handoff=successor]
 * handoff = successor: table i goes to the next thread of lineage i (the classic design);
 *           rotate: table i goes to the next thread of lineage i+1, so a new thread frees
 *           objects from memory another live thread may have taken over (harsher).
 * Work per thread is fixed, so ops/s with 2 threads vs 1 measures scaling.
 */
#include "common.h"

#include <pthread.h>
#include <string.h>

typedef struct table {
    void  **obj;
    size_t *size;
    long    slots;
} table_t;

/* One cache line per worker: the loop stores w->rng around every malloc/free call (they
 * are opaque calls), so two 32-byte workers in one line made the threads ping-pong it on
 * every step. The main thread's stack puts w[] at a random offset mod 64 (ASLR), so it
 * hit 3 runs in 4 and made 2-thread times bimodal for every allocator (0.27 s vs 0.6-1.3 s
 * with heapkit, the allocator itself unchanged). */
typedef struct worker {
    _Alignas(64) table_t *table;
    long        steps;
    bench_rng_t rng;
    int         failed;
} worker_t;
_Static_assert(sizeof(worker_t) == 64, "one worker per cache line");

static void *work(void *arg)
{
    worker_t *w = arg;
    table_t *t = w->table;
    for (long i = 0; i < w->steps; i++) {
        long k = (long)(bench_next(&w->rng) % (uint64_t)t->slots);
        if (t->obj[k]) {
            if (!bench_check(t->obj[k], t->size[k], (unsigned char)k))
                w->failed = 1;
            free(t->obj[k]);
        }
        t->size[k] = 16 + bench_next(&w->rng) % 496;
        t->obj[k] = malloc(t->size[k]);
        bench_touch(t->obj[k], t->size[k], (unsigned char)k);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = bench_arg(argc, argv, 1, 2), rounds = bench_arg(argc, argv, 2, 40);
    long steps = bench_arg(argc, argv, 3, 200000), slots = bench_arg(argc, argv, 4, 4000);
    int rotate = argc > 5 && strcmp(argv[5], "rotate") == 0;
    table_t tables[64];
    if (threads < 1 || threads > 64)
        return 1;
    for (long i = 0; i < threads; i++)
        tables[i] = (table_t){calloc((size_t)slots, sizeof(void *)), calloc((size_t)slots, sizeof(size_t)), slots};
    double t0 = bench_now();
    for (long r = 0; r < rounds; r++) {
        pthread_t tid[64];
        worker_t w[64];
        for (long i = 0; i < threads; i++) {
            table_t *t = &tables[rotate ? (i + r) % threads : i];
            w[i] = (worker_t){t, steps, {(uint64_t)(r * 64 + i + 1)}, 0};
            pthread_create(&tid[i], NULL, work, &w[i]);
        }
        for (long i = 0; i < threads; i++) {
            pthread_join(tid[i], NULL);
            if (w[i].failed)
                return fprintf(stderr, "larson: corrupted block\n"), 1;
        }
    }
    double seconds = bench_now() - t0;
    for (long i = 0; i < threads; i++) {
        for (long k = 0; k < slots; k++)
            free(tables[i].obj[k]);
        free(tables[i].obj);
        free(tables[i].size);
    }
    char name[32];
    snprintf(name, sizeof name, "larson%s-%ldt", rotate ? "-rotate" : "", threads);
    bench_report(name, seconds, (unsigned long long)(threads * rounds * steps));
    return 0;
}
