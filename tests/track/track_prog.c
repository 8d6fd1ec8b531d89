/*
 * track_prog.c -- heapkit's blocks as AddressSanitizer sees them (src/track.h), built
 * only in the sanitize variant: `track_prog CASE`. The bad-* cases touch memory heapkit
 * holds as free, and tests/track/run.sh expects ASan to stop them with a report; the
 * ok-* cases use blocks legally (all of the usable size, calloc and realloc of reused
 * blocks, blocks freed by another thread and reused) and must exit 0.
 */
#include <heapkit.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

static void *free_it(void *p)
{
    hk_free(p);
    return NULL;
}

static int ok_usable(void)
{
    for (size_t n = 1; n <= 70000; n = n * 3 / 2 + 1) {
        unsigned char *p = hk_malloc(n);
        size_t u = hk_usable_size(p);
        memset(p, 0xab, u); /* all of the usable size is the caller's */
        unsigned char *z = hk_calloc(1, n); /* likely the block just freed below, later */
        for (size_t i = 0; i < n; i++)
            if (z[i] != 0)
                return 1;
        unsigned char *q = hk_realloc(p, 2 * n + 100);
        if (q == NULL || q[0] != 0xab || q[n - 1] != 0xab)
            return 1;
        hk_free(q);
        hk_free(z);
    }
    void *a = NULL;
    if (hk_posix_memalign(&a, 4096, 100) != 0)
        return 1;
    memset(a, 1, hk_usable_size(a));
    hk_free(a);
    return 0;
}

static int ok_remote(void)
{
    /* blocks freed by another thread come back to this one: reusable, not poisoned */
    for (int round = 0; round < 50; round++) {
        void *blocks[64];
        for (int i = 0; i < 64; i++)
            blocks[i] = hk_malloc(48);
        pthread_t t[64];
        for (int i = 0; i < 64; i++)
            pthread_create(&t[i], NULL, free_it, blocks[i]);
        for (int i = 0; i < 64; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 64; i++) {
            char *p = hk_malloc(48);
            memset(p, 2, 48);
            blocks[i] = p;
        }
        for (int i = 0; i < 64; i++)
            hk_free(blocks[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *c = argv[1];
    if (strcmp(c, "ok-usable") == 0)
        return ok_usable();
    if (strcmp(c, "ok-remote") == 0)
        return ok_remote();
    volatile char *p;
    if (strcmp(c, "bad-read-after-free") == 0) {
        void *keep = hk_malloc(64); /* the page stays in use */
        p = hk_malloc(64);
        hk_free(launder((void *)p));
        printf("%d\n", p[10]);
        hk_free(keep);
    } else if (strcmp(c, "bad-write-after-free-medium") == 0) {
        void *keep = hk_malloc(20000);
        p = hk_malloc(20000);
        hk_free(launder((void *)p));
        p[19000] = 1;
        hk_free(keep);
    } else if (strcmp(c, "bad-read-after-realloc") == 0) {
        void *keep = hk_malloc(100);
        p = hk_malloc(100);
        void *q = hk_realloc(launder((void *)p), 5000); /* moves: the old block is free */
        printf("%d\n", p[0]);
        hk_free(q);
        hk_free(keep);
    } else if (strcmp(c, "bad-after-remote-free") == 0) {
        void *keep = hk_malloc(32);
        p = hk_malloc(32);
        pthread_t t;
        pthread_create(&t, NULL, free_it, launder((void *)p));
        pthread_join(t, NULL);
        p[3] = 7;
        hk_free(keep);
    } else {
        return 2;
    }
    return 0;
}
