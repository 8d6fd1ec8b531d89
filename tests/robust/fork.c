/*
 * fork.c -- fork while other threads allocate and free.
 *
 * Worker threads churn (allocate, fill, verify, free; hand blocks to each other through
 * a shared table, so frees cross threads; now and then a huge block); one more worker
 * allocates and frees huge blocks only, and another keeps starting short-lived threads
 * (so the library's huge-cache, heap-pool and abandoned-list locks are often held when
 * the fork happens). The main thread forks many times meanwhile. Each child: frees
 * blocks the parent's workers allocated (their threads do not exist in the child),
 * allocates/reallocates/frees with content checks, allocates a huge block, starts and
 * joins a thread of its own, calls malloc_trim, and exits with status 0 (or the number
 * of failed checks). A deadlock in the child is caught by alarm() (killed by
 * SIGALRM = failure; forking stops at the first failed child); one in the parent by
 * its own alarm (no closing line = failure).
 * Some forks are done by a worker thread rather than the main thread.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "robust.h"

#define WORKERS 2
#define SLOTS   256
#define FORKS   80

typedef struct slot_s {
    void *p;
    size_t size;
    unsigned seed;
} slot_t;

static slot_t table[SLOTS];
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static atomic_int stop;
static atomic_int worker_errors;
static atomic_int worker_forks_ok, worker_forks_bad;

static void lock_table(void)
{
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire)) {
    }
}
static void unlock_table(void)
{
    atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

static size_t pick_size(unsigned *rs)
{
    unsigned r = rb_rand(rs);
    switch (r % 16) {
    case 0:
        if (r % 64 < 16)
            return 2 * 1024 * 1024 + r % 100000; /* huge */
        return 1 + r % 1024;
    case 1:
    case 2:
        return 8192 + r % 60000; /* medium */
    case 3:
        return 65536 + r % 900000; /* large */
    default:
        return 1 + r % 1024; /* small */
    }
}

static void *worker(void *arg)
{
    unsigned rs = (unsigned)(uintptr_t)arg * 7919u + 1;
    void *local[32] = {0};
    size_t lsize[32];
    unsigned lseed[32];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned r = rb_rand(&rs);
        unsigned i = r % 32;
        if (local[i]) {
            if (!rb_verify(local[i], lsize[i], lseed[i]))
                atomic_fetch_add(&worker_errors, 1);
            free(local[i]);
            local[i] = NULL;
        } else {
            lsize[i] = pick_size(&rs);
            lseed[i] = rb_rand(&rs);
            local[i] = malloc(lsize[i]);
            if (!local[i]) {
                atomic_fetch_add(&worker_errors, 1);
                continue;
            }
            rb_fill(local[i], lsize[i], lseed[i]);
        }
        /* exchange with the shared table: the freed block was allocated elsewhere */
        if (r % 4 == 0) {
            size_t n = 16 + r % 2000;
            unsigned seed = rb_rand(&rs);
            void *p = malloc(n);
            if (!p) {
                atomic_fetch_add(&worker_errors, 1);
                continue;
            }
            rb_fill(p, n, seed);
            unsigned s = (r >> 8) % SLOTS;
            lock_table();
            slot_t old = table[s];
            table[s] = (slot_t){p, n, seed};
            unlock_table();
            if (old.p) {
                if (!rb_verify(old.p, old.size, old.seed))
                    atomic_fetch_add(&worker_errors, 1);
                free(old.p);
            }
        }
        if (r % 64 == 1) {
            void *q = realloc(NULL, 100);
            q = realloc(q, 5000 + r % 100000);
            free(q);
        }
    }
    for (unsigned i = 0; i < 32; i++)
        free(local[i]);
    return NULL;
}

/* huge blocks only: the huge cache and its lock */
static void *huge_worker(void *arg)
{
    unsigned rs = (unsigned)(uintptr_t)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t n = ((size_t)2 << 20) + rb_rand(&rs) % ((size_t)6 << 20);
        char *p = malloc(n);
        if (!p) {
            atomic_fetch_add(&worker_errors, 1);
            continue;
        }
        p[0] = 1;
        p[n - 1] = 2;
        free(p);
    }
    return NULL;
}

static void *short_thread(void *arg)
{
    void *p = malloc(100 + (uintptr_t)arg % 5000);
    free(arg);
    return p;
}

/* short-lived threads: the heap pool and the abandoned list */
static void *spawn_worker(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_t t;
        void *gift = malloc(64); /* freed by the thread */
        if (!gift || pthread_create(&t, NULL, short_thread, gift) != 0) {
            atomic_fetch_add(&worker_errors, 1);
            free(gift);
            continue;
        }
        void *ret = NULL;
        pthread_join(t, &ret);
        free(ret); /* allocated by a thread that has exited */
    }
    return NULL;
}

static void *child_thread(void *arg)
{
    unsigned rs = (unsigned)(uintptr_t)arg;
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = pick_size(&rs) % 70000 + 1;
        unsigned seed = rb_rand(&rs);
        char *p = malloc(n);
        if (!p)
            return (void *)1;
        rb_fill(p, n, seed);
        bad |= !rb_verify(p, n, seed);
        free(p);
    }
    return (void *)(uintptr_t)bad;
}

/* The child's work; returns the number of failures (its exit status). */
static int child_main(unsigned k)
{
    int bad = 0;
    alarm(5);
    /* the table was locked by the forking thread: it is ours now */
    for (unsigned s = 0; s < SLOTS; s++) {
        if (table[s].p) {
            if (!rb_verify(table[s].p, table[s].size, table[s].seed))
                bad++;
            free(table[s].p);
            table[s].p = NULL;
        }
    }
    unlock_table();
    unsigned rs = k * 31u + 7;
    void *keep[64];
    size_t ksz[64];
    for (int i = 0; i < 64; i++) {
        ksz[i] = pick_size(&rs);
        keep[i] = malloc(ksz[i]);
        if (!keep[i])
            return 100;
        rb_fill(keep[i], ksz[i], (unsigned)i + k);
        if (rb_is_owned(keep[i]) != 1)
            bad++;
    }
    for (int i = 0; i < 64; i++) {
        if (i % 3 == 0) {
            size_t n = ksz[i] / 2 + 1;
            char *q = realloc(keep[i], n);
            if (!q)
                return 101;
            /* the kept prefix survives: re-fill to the new size and re-verify */
            rb_fill(q, n, (unsigned)i + k);
            keep[i] = q;
            ksz[i] = n;
        }
        if (!rb_verify(keep[i], ksz[i], (unsigned)i + k))
            bad++;
    }
    int *z = calloc(1000, sizeof *z);
    if (!z)
        return 102;
    for (int i = 0; i < 1000; i++)
        bad += z[i] != 0;
    free(z);
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    char *h = malloc((size_t)5 << 20);
    if (!h)
        return 104;
    h[0] = 1;
    h[(5 << 20) - 1] = 1;
    free(h);
    {
        pthread_t t;
        void *ret = NULL;
        if (pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)(k + 1)) != 0)
            return 103;
        pthread_join(t, &ret);
        bad += ret != NULL;
    }
    malloc_trim(0);
    if (k % 8 == 1) { /* a grandchild, forked from a single-threaded child */
        pid_t g = fork();
        if (g == 0) {
            void *p = malloc(12345);
            _exit(p && rb_is_owned(p) == 1 ? 0 : 1);
        }
        int st;
        if (g < 0 || waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    return bad > 99 ? 99 : bad;
}

/* Forks once; returns 1 if the child exited with status 0. */
static int fork_once(unsigned k)
{
    lock_table();
    pid_t pid = fork();
    if (pid == 0)
        exit(child_main(k)); /* exit(), not _exit(): run the library's exit path too */
    unlock_table();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        return 0;
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 1;
    if (WIFSIGNALED(st))
        fprintf(stderr, "child %u killed by signal %d%s\n", k, WTERMSIG(st),
                WTERMSIG(st) == SIGALRM ? " (deadlock?)" : "");
    else
        fprintf(stderr, "child %u exit status %d\n", k, WEXITSTATUS(st));
    return 0;
}

static void *forking_worker(void *arg)
{
    unsigned base = (unsigned)(uintptr_t)arg;
    for (unsigned k = 0; k < 10; k++) {
        void *p = malloc(100 + k);
        if (fork_once(base + k)) {
            atomic_fetch_add(&worker_forks_ok, 1);
        } else {
            atomic_fetch_add(&worker_forks_bad, 1);
            free(p);
            break;
        }
        free(p);
    }
    return NULL;
}

int main(void)
{
    alarm(40);
    void *probe = malloc(32);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);

    pthread_t t[WORKERS + 2];
    for (uintptr_t i = 0; i < WORKERS; i++)
        CHECK("pthread_create", pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
    CHECK("pthread_create", pthread_create(&t[WORKERS], NULL, huge_worker, (void *)77) == 0);
    CHECK("pthread_create", pthread_create(&t[WORKERS + 1], NULL, spawn_worker, NULL) == 0);
    usleep(20000);

    int ok = 0;
    for (unsigned k = 0; k < FORKS; k++) {
        int one = fork_once(k);
        ok += one;
        if (!one)
            break; /* one is enough (and a deadlock costs the child's alarm) */
        if (k % 16 == 0)
            usleep(1000);
    }
    CHECK("every child of the main thread exited 0", ok == FORKS);

    pthread_t ft;
    CHECK("pthread_create", pthread_create(&ft, NULL, forking_worker, (void *)1000u) == 0);
    pthread_join(ft, NULL);
    CHECK("every child of a worker thread exited 0",
          atomic_load(&worker_forks_ok) == 10 && atomic_load(&worker_forks_bad) == 0);

    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS + 2; i++)
        pthread_join(t[i], NULL);
    CHECK("workers saw intact blocks", atomic_load(&worker_errors) == 0);
    for (unsigned s = 0; s < SLOTS; s++) {
        if (table[s].p) {
            CHECK("table block intact", rb_verify(table[s].p, table[s].size, table[s].seed));
            free(table[s].p);
        }
    }
    /* the parent still works after all that */
    void *after = malloc(4096);
    CHECK("malloc after the forks", after && rb_is_owned(after) == 1);
    free(after);
    printf("fork: %d children of the main thread ok\n", ok);
    return hk_test_summary();
}
