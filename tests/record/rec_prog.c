/*
 * rec_prog.c -- a program for tests/record/test_record.sh to record: each mode makes
 *               allocations of sizes nothing else in a process uses (the test finds them
 *               by size in the trace) and then does what the recorder must survive.
 *
 *   rec_prog threads N K   N threads, each K blocks of 10000+t bytes (malloc, calloc,
 *                          realloc, aligned), half freed by the next thread (cross-thread)
 *   rec_prog fork K        K blocks of 20001; the child frees them, allocates K of 20002
 *   rec_prog exec K        K blocks of 30001, then exec's itself as "exec2 K": K of 30002
 *   rec_prog crash K       K blocks of 40001, then a SIGSEGV
 *   rec_prog exit K        K blocks of 50001, then _exit(3) (no destructors)
 *   rec_prog kinds         one call of every entry point, sizes 60001..60012
 *   rec_prog mtrace        mtrace(), then as kinds (for glibc's MALLOC_TRACE log)
 *   rec_prog closefd FILE  closes every descriptor but 0-2, as daemons do, then writes
 *                          FILE through the first free one while allocating 80001s
 *   rec_prog oddalign      memalign(24, 90001) and aligned_alloc(48, 90048)
 *   rec_prog freeres N     N threads one after another, each making glibc allocate
 *                          per-thread state it frees after the TLS destructors, then
 *                          opens 64 files (fails if descriptors leaked)
 *   rec_prog quickexit K   K blocks of 50002, then quick_exit(4)
 *   rec_prog steady K      K rounds over 300 ms, each 100 blocks of 100001 freed again
 *                          (long and single-threaded: converted while it runs)
 *   rec_prog oldbuffer K   a thread mallocs one 100002 and waits, holding its buffer
 *                          unwritten, while main does as steady; then the thread frees
 *                          it and ends: its buffer reaches its file after newer events
 * Every mode: a constructor mallocs 70001 bytes before main, main frees them.
 * Prints "done" on stdout when it got to the end (the crash mode never does).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <malloc.h>
#include <mcheck.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* C23's free_sized: glibc 2.36 has none, the recorder has one; found at run time. */
static void call_free_sized(void *p, size_t size)
{
    void (*fs)(void *, size_t);
    void *sym = dlsym(RTLD_DEFAULT, "free_sized");
    memcpy(&fs, &sym, sizeof fs);
    if (sym)
        fs(p, size);
    else
        free(p);
}

static void **alloc_many(int k, size_t size)
{
    void **v = calloc((size_t)k, sizeof *v);
    for (int i = 0; v && i < k; i++) {
        v[i] = malloc(size);
        memset(v[i], 1, size);
    }
    return v;
}

static void free_many(void **v, int k)
{
    for (int i = 0; i < k; i++)
        free(v[i]);
    free(v);
}

/* ---- threads ---- */

typedef struct worker {
    pthread_t         thread;
    int               t, k;
    void            **handoff; /* blocks for the next worker to free */
    pthread_mutex_t   lock;
    pthread_cond_t    ready;
    int               has_handoff;
    struct worker    *next;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    size_t size = 10000 + (size_t)w->t;
    void **mine = malloc((size_t)w->k * sizeof *mine);
    for (int i = 0; i < w->k; i++) {
        switch (i % 4) {
        case 0: mine[i] = malloc(size); break;
        case 1: mine[i] = calloc(1, size); break;
        case 2: mine[i] = realloc(malloc(size / 2), size); break;
        default: mine[i] = aligned_alloc(64, size); break;
        }
        memset(mine[i], 2, size);
    }
    /* hand the upper half to the next worker; free the lower half here */
    pthread_mutex_lock(&w->next->lock);
    w->next->handoff = mine + w->k / 2;
    w->next->has_handoff = 1;
    pthread_cond_signal(&w->next->ready);
    pthread_mutex_unlock(&w->next->lock);
    for (int i = 0; i < w->k / 2; i++)
        free(mine[i]);
    pthread_mutex_lock(&w->lock);
    while (!w->has_handoff)
        pthread_cond_wait(&w->ready, &w->lock);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->k - w->k / 2; i++)
        free(w->handoff[i]);
    return mine; /* freed by main: its handoff part is gone, the array is not */
}

static int run_threads(int n, int k)
{
    if (n <= 0 || k <= 0)
        return 2;
    worker_t *w = calloc((size_t)n, sizeof *w);
    for (int t = 0; t < n; t++) {
        w[t].t = t;
        w[t].k = k;
        w[t].next = &w[(t + 1) % n];
        pthread_mutex_init(&w[t].lock, NULL);
        pthread_cond_init(&w[t].ready, NULL);
    }
    for (int t = 0; t < n; t++)
        pthread_create(&w[t].thread, NULL, work, &w[t]);
    void **arrays = calloc((size_t)n, sizeof *arrays);
    for (int t = 0; t < n; t++)
        pthread_join(w[t].thread, &arrays[t]);
    for (int t = 0; t < n; t++) /* after every join: the next worker reads its handoff */
        free(arrays[t]);
    free(arrays);
    free(w);
    return 0;
}

/* ---- fork, exec, crash, exit ---- */

static int run_fork(int k)
{
    void **v = alloc_many(k, 20001);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        free_many(v, k);
        free_many(alloc_many(k, 20002), k);
        exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    free_many(v, k);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int run_exec(const char *self, int k, int second)
{
    void **v = alloc_many(k, second ? 30002 : 30001);
    if (second) {
        free_many(v, k);
        return 0;
    }
    char count[16];
    snprintf(count, sizeof count, "%d", k);
    fflush(stdout);
    execl(self, self, "exec2", count, (char *)NULL);
    perror("execl");
    return 1;
}

static int run_crash(int k)
{
    alloc_many(k, 40001);
    fflush(stdout);
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return 0;
}

static int run_exit(int k)
{
    alloc_many(k, 50001);
    printf("done\n");
    fflush(stdout);
    _exit(3);
}

/* ---- the program's descriptors, glibc's odd alignments, thread teardown ---- */

static int run_closefd(const char *path)
{
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 1;
    for (int i = 0; i < 20000; i++) { /* enough events for the recorder to write out */
        free(malloc(80001));
        if (i % 1000 == 0 && write(fd, "user data\n", 10) != 10)
            return 1;
    }
    return close(fd) == 0 ? 0 : 1;
}

static int run_oddalign(void)
{
    void *a = memalign(24, 90001), *b = aligned_alloc(48, 90048);
    int ok = a && b && (uintptr_t)a % 8 == 0 && (uintptr_t)b % 16 == 0;
    free(a);
    free(b);
    return ok ? 0 : 1;
}

static void *strerror_thread(void *arg)
{
    (void)arg;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", strerror(12345)); /* glibc keeps a per-thread buffer */
    return NULL;
}

static int run_freeres(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, strerror_thread, NULL) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    int fds[64];
    for (int i = 0; i < 64; i++)
        if ((fds[i] = open("/dev/null", O_RDONLY)) < 0)
            return 1; /* descriptors ran out: someone kept one per thread */
    for (int i = 0; i < 64; i++)
        close(fds[i]);
    return 0;
}

/* ---- what `heapkit record` converts while it runs ---- */

static void steady(int k)
{
    for (int r = 0; r < k; r++) {
        free_many(alloc_many(100, 100001), 100);
        usleep((useconds_t)(300000 / (k > 0 ? k : 1)));
    }
}

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  hold_changed = PTHREAD_COND_INITIALIZER;
static int             hold_stage; /* 1: the block is held, 2: main is done */

static void hold_until(int stage)
{
    pthread_mutex_lock(&hold_lock);
    while (hold_stage < stage)
        pthread_cond_wait(&hold_changed, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
}

static void hold_set(int stage)
{
    pthread_mutex_lock(&hold_lock);
    hold_stage = stage;
    pthread_cond_broadcast(&hold_changed);
    pthread_mutex_unlock(&hold_lock);
}

static void *holder(void *arg)
{
    (void)arg;
    void *p = malloc(100002);
    hold_set(1);
    hold_until(2);
    free(p);
    return NULL;
}

static int run_oldbuffer(int k)
{
    pthread_t t;
    if (pthread_create(&t, NULL, holder, NULL) != 0)
        return 1;
    hold_until(1);
    steady(k);
    hold_set(2);
    pthread_join(t, NULL);
    return 0;
}

/* ---- every entry point ---- */

__attribute__((noinline)) static int run_kinds(void)
{
    void *p = malloc(60001);
    void *c = calloc(3, 20001);            /* 60003 */
    void *r = realloc(malloc(60004), 60005);
    void *ra = reallocarray(NULL, 1, 60006);
    void *pm = NULL;
    if (posix_memalign(&pm, 256, 60007) != 0)
        return 1;
    void *aa = aligned_alloc(4096, 60008);
    void *ma = memalign(128, 60009);
    void *va = valloc(60010);
    void *pv = pvalloc(60011);             /* logged as 61440: rounded to a page */
    void *z = malloc(60012);
    z = realloc(z, 0);                     /* frees (glibc) */
    call_free_sized(p, 60001);
    free(c);
    free(r);
    free(ra);
    free(pm);
    free(aa);
    free(ma);
    free(va);
    free(pv);
    free(z);
    return 0;
}

/* Before main: the recorder must be ready for a constructor's first malloc. */
static void *early_block;
__attribute__((constructor)) static void allocate_early(void) { early_block = malloc(70001); }

int main(int argc, char **argv)
{
    free(early_block);
    if (argc < 2)
        return 2;
    int a = argc > 2 ? atoi(argv[2]) : 0, b = argc > 3 ? atoi(argv[3]) : 0, status = 2;
    if (!strcmp(argv[1], "threads"))
        status = run_threads(a, b);
    else if (!strcmp(argv[1], "fork"))
        status = run_fork(a);
    else if (!strcmp(argv[1], "exec") || !strcmp(argv[1], "exec2"))
        status = run_exec(argv[0], a, argv[1][4] == '2');
    else if (!strcmp(argv[1], "crash"))
        status = run_crash(a);
    else if (!strcmp(argv[1], "exit"))
        status = run_exit(a);
    else if (!strcmp(argv[1], "kinds"))
        status = run_kinds();
    else if (!strcmp(argv[1], "closefd") && argc > 2)
        status = run_closefd(argv[2]);
    else if (!strcmp(argv[1], "oddalign"))
        status = run_oddalign();
    else if (!strcmp(argv[1], "freeres"))
        status = run_freeres(a);
    else if (!strcmp(argv[1], "steady")) {
        steady(a);
        status = 0;
    } else if (!strcmp(argv[1], "oldbuffer"))
        status = run_oldbuffer(a);
    else if (!strcmp(argv[1], "quickexit")) {
        alloc_many(a, 50002);
        quick_exit(4);
    } else if (!strcmp(argv[1], "mtrace")) {
        mtrace();
        status = run_kinds();
        muntrace();
    }
    if (status == 0)
        printf("done\n");
    return status;
}
