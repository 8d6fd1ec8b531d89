/*
 * handoff.c -- blocks handed to a new thread come back to it: after the first free of a
 * round, every free is local (no remote frees), in Larson's server pattern.
 *
 * Two lineages of threads, one table of live blocks each; every round starts two new
 * threads, and each takes over the table of the *other* lineage's exited thread (larson's
 * "rotate" handoff). A new thread first allocates its own state, then keeps freeing a
 * random block of its table and allocating a new one. Its first malloc must not adopt an
 * abandoned segment that holds the other table's blocks (the other new thread would then
 * free into a live heap all round: remote frees, and pages shared between two threads);
 * its first free into its own table claims that table's segments (free.c). Checked with
 * the handoff counters of hk_stats_get: no remote frees, and every thread claimed.
 */
#include <pthread.h>

#include "robust.h"

#define LINEAGES 2
#define ROUNDS   8
#define SLOTS    2000
#define STEPS    60000

typedef struct table_s {
    void **obj;
    size_t *size;
} table_t;

typedef struct job_s {
    _Alignas(64) table_t *table;
    unsigned seed;
    int bad;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    table_t *t = j->table;
    unsigned rs = j->seed;
    void *own = malloc(48 + rb_rand(&rs) % 200); /* the thread's own state, first */
    if (!own)
        j->bad++;
    for (int i = 0; i < STEPS; i++) {
        unsigned k = rb_rand(&rs) % SLOTS;
        if (t->obj[k]) {
            if (!rb_verify(t->obj[k], t->size[k], k))
                j->bad++;
            free(t->obj[k]);
        }
        t->size[k] = 16 + rb_rand(&rs) % 500;
        t->obj[k] = malloc(t->size[k]);
        if (!t->obj[k]) {
            j->bad++;
            t->size[k] = 0;
            continue;
        }
        rb_fill(t->obj[k], t->size[k], k);
    }
    free(own);
    return NULL;
}

int main(void)
{
    alarm(50);
    printf("handoff: %d rounds of %d threads\n", ROUNDS, LINEAGES); /* stdio's buffers now */
    hk_stats_t s0, s1;
    if (!rb_stats_get(&s0)) {
        CHECK("heapkit is loaded", 0);
        return hk_test_summary();
    }
    table_t tables[LINEAGES];
    for (int l = 0; l < LINEAGES; l++) {
        tables[l].obj = calloc(SLOTS, sizeof(void *));
        tables[l].size = calloc(SLOTS, sizeof(size_t));
        if (!tables[l].obj || !tables[l].size) {
            CHECK("calloc", 0);
            return hk_test_summary();
        }
    }
    int bad = 0;
    job_t jobs[LINEAGES];
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t th[LINEAGES];
        for (int l = 0; l < LINEAGES; l++) {
            jobs[l] = (job_t){&tables[(l + r) % LINEAGES], (unsigned)(r * 64 + l + 1), 0};
            if (pthread_create(&th[l], NULL, worker, &jobs[l]) != 0)
                bad++;
        }
        for (int l = 0; l < LINEAGES; l++) {
            pthread_join(th[l], NULL);
            bad += jobs[l].bad;
        }
    }
    rb_stats_get(&s1);
    size_t remote = s1.remote_frees - s0.remote_frees;
    size_t claimed = s1.segments_claimed - s0.segments_claimed;
    printf("handoff: %zu remote frees, %zu segments claimed, %zu adopted (%d frees)\n", remote,
           claimed, s1.segments_adopted - s0.segments_adopted, (ROUNDS - 1) * LINEAGES * STEPS);
    CHECK("every block intact, every allocation succeeded", bad == 0);
    /* each thread after the first round takes its table's memory: it frees into its
     * table's segments first (claimed: the abandoned segment, or the exited thread's whole
     * heap waiting as an orphan), or, once the other new thread took the other orphan,
     * its first malloc takes the one left (adopted) */
    CHECK("every new thread took the memory of its table",
          claimed + s1.segments_adopted - s0.segments_adopted >= (ROUNDS - 1) * LINEAGES);
    /* a wrong adoption costs about SLOTS remote frees; allow a few stray ones */
    CHECK("frees stay local after the handoff", remote <= LINEAGES * ROUNDS);
    for (int l = 0; l < LINEAGES; l++) {
        for (int k = 0; k < SLOTS; k++)
            free(tables[l].obj[k]);
        free(tables[l].obj);
        free(tables[l].size);
    }
    return hk_test_summary();
}
