/*
 * oom.c -- out of memory and absurd sizes: NULL with errno = ENOMEM (EINVAL for bad
 * alignments), never a crash; the allocator works again once memory is freed.
 *
 * Part 1, absurd requests: malloc(SIZE_MAX) and friends, calloc/reallocarray overflow,
 * realloc to an absurd size (the old block is left intact), posix_memalign and
 * aligned_alloc with invalid alignments.
 * Part 2, real exhaustion: RLIMIT_AS is set a little above the current address space;
 * then (a) blocks of growing sizes, (b) many small blocks, (c) a realloc that keeps
 * growing, (d) calloc of medium blocks, each until NULL. Every NULL must come with
 * errno == ENOMEM; after freeing everything, each round allocates about as much as the
 * first one did (no memory lost on the failure paths), and the small blocks get about as
 * much as the big ones did (memory cached after free is given back under pressure).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/resource.h>

#include "robust.h"

/* a volatile size, so the compiler cannot reason about the requests */
static volatile size_t vmax = SIZE_MAX;

static void absurd_sizes(void)
{
    size_t sizes[] = {vmax, vmax - 1, vmax / 2 + 1, vmax / 2, (size_t)PTRDIFF_MAX + 1,
                      vmax - 4096, (size_t)1 << 62, (size_t)1 << 47};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        void *p = malloc(sizes[i]);
        CHECK("malloc(absurd) is NULL", p == NULL);
        CHECK("malloc(absurd) sets ENOMEM", errno == ENOMEM);
        free(p);
        errno = 0;
        p = calloc(1, sizes[i]);
        CHECK("calloc(1, absurd) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        free(p);
        errno = 0;
        p = aligned_alloc(64, sizes[i] & ~(size_t)63);
        CHECK("aligned_alloc(64, absurd) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        free(p);
        void *q = (void *)1;
        CHECK("posix_memalign(absurd) is ENOMEM", posix_memalign(&q, 64, sizes[i]) == ENOMEM);
        errno = 0;
        p = memalign(4096, sizes[i]);
        CHECK("memalign(absurd) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        free(p);
    }
    /* calloc / reallocarray overflow of count * size */
    size_t pairs[][2] = {{vmax, 2}, {2, vmax}, {vmax / 2 + 1, 2}, {(size_t)1 << 32, (size_t)1 << 32},
                         {vmax / 16 + 1, 16}, {65537, 281470681808897u}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        errno = 0;
        void *p = calloc(pairs[i][0], pairs[i][1]);
        CHECK("calloc overflow is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        free(p);
        errno = 0;
        p = reallocarray(NULL, pairs[i][0], pairs[i][1]);
        CHECK("reallocarray(NULL, overflow) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        free(p);
        char *b = malloc(100);
        REQUIRE("malloc(100)", b != NULL);
        memset(b, 'x', 100);
        errno = 0;
        p = reallocarray(b, pairs[i][0], pairs[i][1]);
        CHECK("reallocarray(p, overflow) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        if (p) {
            free(p);
            continue;
        }
        CHECK("reallocarray failure leaves the block", b[0] == 'x' && b[99] == 'x');
        errno = 0;
        p = realloc(b, vmax - i);
        CHECK("realloc(p, absurd) is NULL with ENOMEM", p == NULL && errno == ENOMEM);
        if (p) {
            free(p);
            continue;
        }
        CHECK("realloc failure leaves the block", b[0] == 'x' && b[99] == 'x');
        CHECK("the block is still heapkit's", rb_is_owned(b) == 1);
        free(b);
    }
    /* bad alignments */
    size_t bad[] = {0, 3, 12, 24, 48, 1000, (size_t)1 << 63 | 8, vmax};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *q = (void *)&q;
        CHECK("posix_memalign(bad alignment) is EINVAL", posix_memalign(&q, bad[i], 64) == EINVAL);
        CHECK("posix_memalign failure leaves *out alone", q == (void *)&q);
        if (bad[i] == 0)
            continue; /* aligned_alloc(0, n): implementations differ */
        errno = 0;
        void *p = aligned_alloc(bad[i], 64);
        CHECK("aligned_alloc(bad alignment) is NULL", p == NULL);
        free(p);
    }
    void *q = NULL;
    CHECK("posix_memalign(4, n) is EINVAL (not a multiple of sizeof(void *))",
          posix_memalign(&q, sizeof(void *) / 2, 64) == EINVAL);
    /* valid requests still work after all that */
    CHECK("posix_memalign(64, 100) works", posix_memalign(&q, 64, 100) == 0 && q &&
                                              ((uintptr_t)q & 63) == 0);
    free(q);
}

/* rb_vsize without malloc (no stdio) */
static size_t vsize_no_malloc(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return (size_t)strtoul(buf, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE);
}

typedef struct node_s {
    struct node_s *next;
} node_t;

static void free_list(node_t *n)
{
    while (n) {
        node_t *next = n->next;
        free(n);
        n = next;
    }
}

/* Blocks of growing sizes (doubling from 64 KiB; halving again after a failure) until a
 * 4 KiB request fails too. Returns the bytes obtained. */
static size_t fill_growing(node_t **list, int *bad_errno)
{
    size_t total = 0, n = 65536;
    for (;;) {
        errno = 0;
        node_t *p = malloc(n);
        if (!p) {
            if (errno != ENOMEM)
                (*bad_errno)++;
            if (n <= 4096)
                return total;
            n /= 2;
            continue;
        }
        memset(p, 1, n < 65536 ? n : 65536);
        p->next = *list;
        *list = p;
        total += n;
        if (n < ((size_t)64 << 20))
            n *= 2;
    }
}

/* Small blocks (16..256 bytes) until NULL. Returns the bytes obtained. */
static size_t fill_small(node_t **list, int *bad_errno, size_t *count)
{
    size_t total = 0;
    unsigned rs = 12345;
    for (;;) {
        size_t n = 16 + rb_rand(&rs) % 241;
        errno = 0;
        node_t *p = malloc(n);
        if (!p) {
            if (errno != ENOMEM)
                (*bad_errno)++;
            return total;
        }
        p->next = *list;
        *list = p;
        total += n;
        ++*count;
    }
}

int main(void)
{
    alarm(50);
    absurd_sizes();

    void *probe = malloc(16);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);

    /* a little above what we use now. Trimmed first, and read without stdio: memory the
     * allocator holds unused here (such as an empty segment it keeps, or one that
     * fopen's buffer would map) counts in VmSize but is given back under pressure, which
     * would let the fills below get more than the 96 MiB. */
    malloc_trim(0);
    size_t vs = vsize_no_malloc();
    struct rlimit rl = {vs + ((size_t)96 << 20), vs + ((size_t)96 << 20)};
    if (vs == 0 || setrlimit(RLIMIT_AS, &rl) != 0) {
        CHECK("setrlimit(RLIMIT_AS)", 0);
        return hk_test_summary();
    }

    size_t first_growing = 0, first_small = 0;
    for (int round = 0; round < 3; round++) {
        int bad_errno = 0;
        node_t *list = NULL;
        size_t got = fill_growing(&list, &bad_errno);
        size_t got_growing = got;
        CHECK("growing sizes: every NULL has errno ENOMEM", bad_errno == 0);
        CHECK("growing sizes: got a fair share of the limit", got >= ((size_t)32 << 20));
        CHECK("growing sizes: not more than the limit", got <= ((size_t)96 << 20));
        /* while exhausted: absurd requests still fail cleanly, free works */
        errno = 0;
        CHECK("malloc(SIZE_MAX) while exhausted", malloc(vmax) == NULL && errno == ENOMEM);
        free_list(list);
        if (round == 0)
            first_growing = got;
        else
            CHECK("growing sizes: round gets as much as the first",
                  got >= first_growing - first_growing / 8);

        list = NULL;
        size_t count = 0;
        got = fill_small(&list, &bad_errno, &count);
        CHECK("small blocks: every NULL has errno ENOMEM", bad_errno == 0);
        CHECK("small blocks: got a fair share", got >= ((size_t)24 << 20));
        /* the big blocks were all freed: their memory must serve small blocks now (an
         * allocator may cache freed memory, but not fail with ENOMEM while holding it) */
        CHECK("small blocks: the freed big blocks' memory is usable again",
              got >= first_growing / 4 * 3);
        errno = 0;
        void *c = calloc(1000, 1000);
        CHECK("calloc while exhausted: NULL with ENOMEM (or a zeroed block)",
              (c == NULL && errno == ENOMEM) || (c && ((char *)c)[999999] == 0));
        free(c);
        free_list(list);
        if (round == 0)
            first_small = got;
        else
            CHECK("small blocks: round gets as much as the first",
                  got >= first_small - first_small / 8);

        printf("oom: round %d: %zu MiB in growing blocks, %zu MiB in small blocks\n", round,
               got_growing >> 20, got >> 20);
        /* a realloc that keeps growing until it fails: the old block survives */
        char *r = malloc(4096);
        CHECK("malloc after exhaustion", r != NULL);
        if (!r)
            break;
        memset(r, 'r', 4096);
        size_t n = 4096;
        int reall_ok = 1;
        for (;;) {
            errno = 0;
            char *t = realloc(r, n * 2);
            if (!t) {
                reall_ok &= errno == ENOMEM;
                break;
            }
            r = t;
            memset(r + n, 'r', n);
            n *= 2;
        }
        CHECK("growing realloc: NULL with ENOMEM", reall_ok);
        CHECK("growing realloc: the old block is intact", r[0] == 'r' && r[n - 1] == 'r');
        CHECK("growing realloc: grew far", n >= ((size_t)16 << 20));
        free(r);

        /* calloc of medium blocks until NULL */
        list = NULL;
        int calloc_ok = 1;
        for (;;) {
            errno = 0;
            node_t *p = calloc(1, 40000);
            if (!p) {
                calloc_ok &= errno == ENOMEM;
                break;
            }
            calloc_ok &= ((char *)p)[39999] == 0;
            p->next = list;
            list = p;
        }
        CHECK("calloc until NULL: ENOMEM, blocks zeroed", calloc_ok);
        free_list(list);

        /* and afterwards, everything works again */
        void *a = malloc(100), *b = malloc(3 << 20), *d = calloc(10, 10);
        CHECK("malloc works after freeing", a && b && d && rb_is_owned(b) == 1);
        free(a);
        free(b);
        free(d);
    }
    return hk_test_summary();
}
