/*
 * remap.c -- huge blocks moved by mremap while other threads map and unmap segments.
 *
 * Two threads grow huge blocks with realloc (2 MiB doubling to 128 MiB: most growths
 * cannot stay in place, so mremap moves the pages); a third allocates and frees
 * thousands of 7000-byte blocks, so segments are mapped and (with
 * HEAPKIT_PURGE_DELAY=0) unmapped all the time and the kernel hands out the addresses
 * the moved blocks just left. A segment mapped at such an address must stay heapkit's:
 * before the fix, the mover cleared the old address's registry bit after mremap, which
 * could disown the new segment and made a valid free abort with "not allocated by
 * heapkit" (4 runs of 6 within 3 s). Run with HEAPKIT_PURGE_DELAY=0
 * HEAPKIT_HUGE_CACHE=0. Usage: remap [seconds=3]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "robust.h"

#define BLOCKS 3000

static atomic_int stop;
static atomic_int bad;

static void *mover(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        size_t n = (size_t)2 << 20;
        unsigned char *p = malloc(n);
        if (p == NULL) {
            atomic_fetch_add(&bad, 1);
            break;
        }
        p[0] = (unsigned char)seed;
        for (int k = 0; k < 6; k++) {
            unsigned char *q = realloc(p, n * 2);
            if (q == NULL)
                break;
            p = q;
            n *= 2;
            if (p[0] != (unsigned char)seed)
                atomic_fetch_add(&bad, 1); /* the move lost the contents */
            p[n - 1] = 1;
        }
        free(p);
    }
    return NULL;
}

static void *mapper(void *arg)
{
    (void)arg;
    static void *b[BLOCKS];
    while (!atomic_load(&stop)) {
        for (int i = 0; i < BLOCKS; i++) {
            b[i] = malloc(7000);
            if (b[i] == NULL)
                atomic_fetch_add(&bad, 1);
        }
        for (int i = 0; i < BLOCKS; i++) {
            if (i % 512 == 0 && b[i] != NULL && rb_is_owned(b[i]) != 1)
                atomic_fetch_add(&bad, 1); /* (free would abort: a failure too) */
            free(b[i]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    alarm(30);
    void *probe = malloc(32);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);
    pthread_t t[3];
    CHECK("pthread_create", pthread_create(&t[0], NULL, mover, (void *)1) == 0);
    CHECK("pthread_create", pthread_create(&t[1], NULL, mover, (void *)2) == 0);
    CHECK("pthread_create", pthread_create(&t[2], NULL, mapper, NULL) == 0);
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK("every block owned until freed, every moved block intact", atomic_load(&bad) == 0);
    return hk_test_summary();
}
