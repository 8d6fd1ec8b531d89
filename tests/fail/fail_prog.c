/*
 * fail_prog.c -- programs that must abort: `fail_prog CASE` performs one invalid
 * operation through the hk_* API (or, for the libc-* cases, through malloc/free, run
 * under LD_PRELOAD). tests/fail/run.sh expects SIGABRT and the message on stderr.
 * The overflow-*, write-after-free and double-delayed cases are what only the secure
 * build (libheapkit-secure.so, src/secure.c) detects; the default build survives them.
 */
#include <heapkit.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static char static_buf[64];

static void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

static void *free_twice(void *p)
{
    hk_free(p);
    hk_free(launder(p));
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *c = argv[1];
    int local = 0;
    if (strcmp(c, "double-small") == 0) {
        void *keep = hk_malloc(32); /* the page stays in use */
        void *p = hk_malloc(32);
        hk_free(p);
        hk_free(launder(p));
        hk_free(keep);
    } else if (strcmp(c, "double-medium") == 0) {
        void *keep = hk_malloc(20000);
        void *p = hk_malloc(20000);
        hk_free(p);
        hk_free(launder(p));
        hk_free(keep);
    } else if (strcmp(c, "double-huge") == 0) {
        void *p = hk_malloc((size_t)3 << 20);
        hk_free(p);
        hk_free(launder(p));
    } else if (strcmp(c, "double-remote") == 0) {
        void *keep = hk_malloc(48);
        void *p = hk_malloc(48);
        pthread_t t;
        pthread_create(&t, NULL, free_twice, p); /* freed twice by a non-owner */
        pthread_join(t, NULL);
        hk_free(keep);
    } else if (strcmp(c, "foreign-stack") == 0) {
        hk_free(&local);
    } else if (strcmp(c, "foreign-static") == 0) {
        hk_free(static_buf);
    } else if (strcmp(c, "foreign-mmap") == 0) {
        char *m = mmap(NULL, (size_t)8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        uintptr_t a = ((uintptr_t)m + ((4u << 20) - 1)) & ~(uintptr_t)((4u << 20) - 1);
        hk_free((void *)(a + 256)); /* looks like a huge block, but is not ours */
    } else if (strcmp(c, "interior") == 0) {
        char *p = hk_malloc(64);
        hk_free(p + 16);
    } else if (strcmp(c, "interior-span") == 0) { /* a span's run, past its first slot */
        char *p = hk_malloc((size_t)300 << 10);
        hk_free(p + 100000);
    } else if (strcmp(c, "past-span") == 0) { /* a span's run, past its block's end */
        char *p = hk_malloc((size_t)70 << 10); /* (a block of 72 KiB on two slots) */
        hk_free(p + ((size_t)100 << 10));
    } else if (strcmp(c, "double-span") == 0) {
        void *keep = hk_malloc((size_t)300 << 10);
        void *p = hk_malloc((size_t)300 << 10);
        hk_free(p);
        hk_free(launder(p));
        hk_free(keep);
    } else if (strcmp(c, "interior-huge") == 0) {
        char *p = hk_malloc((size_t)3 << 20);
        hk_free(p + 4096);
    } else if (strcmp(c, "interior-far") == 0) { /* aligned to a segment: huge.c far block */
        char *p = hk_aligned_alloc((size_t)8 << 20, 100);
        hk_free(p + 64);
    } else if (strcmp(c, "double-far") == 0) {
        void *p = hk_aligned_alloc((size_t)8 << 20, 100);
        hk_free(p);
        hk_free(launder(p)); /* unmapped by the first free: a foreign pointer now */
    } else if (strcmp(c, "never-allocated") == 0) {
        char *p = hk_malloc(64);
        hk_free(p + 64 * 100); /* a block start of the page that was never carved */
    } else if (strcmp(c, "realloc-foreign") == 0) {
        void *q = hk_realloc(&local, 100);
        printf("%p\n", q);
    } else if (strcmp(c, "realloc-freed") == 0) {
        /* realloc of a freed block must not bring it back alive (issue 11): a later malloc
         * would hand the same block out twice */
        void *keep = hk_malloc(40);
        void *p = hk_malloc(40);
        hk_free(p);
        void *q = hk_realloc(launder(p), 40), *r[200];
        int twice = 0;
        for (int i = 0; i < 200; i++)
            twice |= q != NULL && (r[i] = hk_malloc(40)) == q;
        printf("%p %s\n", q, twice ? "SAME BLOCK TWICE" : "distinct");
        hk_free(keep);
    } else if (strcmp(c, "realloc-freed-huge") == 0) {
        void *p = hk_malloc((size_t)3 << 20);
        hk_free(p);
        printf("%p\n", hk_realloc(launder(p), (size_t)4 << 20));
    } else if (strcmp(c, "usable-freed") == 0) {
        void *keep = hk_malloc(64);
        void *p = hk_malloc(64);
        hk_free(p);
        printf("%zu\n", hk_usable_size(launder(p)));
        hk_free(keep);
    } else if (strcmp(c, "owned-freed") == 0) {
        /* hk_is_owned never aborts; it says 1 only for a live block */
        void *keep = hk_malloc(64);
        void *p = hk_malloc(64), *h = hk_malloc((size_t)3 << 20);
        int live = hk_is_owned(p) && hk_is_owned(h) && hk_is_owned(keep);
        hk_free(p);
        hk_free(h);
        int dead = hk_is_owned(launder(p)) || hk_is_owned(launder(h));
        printf("owned: live %d freed %d\n", live, dead);
        hk_free(keep);
        return live == 1 && dead == 0 ? 0 : 1;
    } else if (strcmp(c, "overflow-1") == 0 || strcmp(c, "overflow-8") == 0) {
        char *p = hk_malloc(32), *next = hk_malloc(32);
        memset(launder(p), 'x', 32 + (c[9] == '1' ? 1 : 8)); /* past the request */
        hk_free(p);
        hk_free(next);
    } else if (strcmp(c, "overflow-sweep") == 0) {
        /* one byte past every request size up to 1100 and at the kinds' edges, freed or
         * reallocated: run with HEAPKIT_ON_ERROR=warn, each must print one report (the
         * pad's bytes sit at every distance from the canary word, secure.c) */
        static const size_t edges[] = {4088, 4096, 8184, 8192, 65528, 65536, 100000, 983032};
        size_t cases = 0;
        for (size_t i = 0; i < 1100 + sizeof edges / sizeof edges[0]; i++, cases++) {
            size_t n = i < 1100 ? i + 1 : edges[i - 1100];
            char *p = hk_malloc(n);
            ((char *)launder(p))[n] = 'x';
            if (i % 2 == 0)
                hk_free(p);
            else
                hk_free(hk_realloc(p, n + 4096)); /* realloc reports, then moves it */
        }
        printf("cases %zu\n", cases);
    } else if (strcmp(c, "guard-tail") == 0 || strcmp(c, "guard-head") == 0) {
        /* the secure build's guard pages (segment.h): find a 4 KiB block that ends where
         * its 4 MiB segment's last OS page begins (or starts where the header's ends) and
         * write one byte past it (before it): the write must fault, nothing is reported */
        const uintptr_t seg_size = (uintptr_t)4 << 20, hdr = (uintptr_t)64 << 10;
        bool tail = c[6] == 't';
        for (int i = 0; i < 4000; i++) {
            char *p = hk_malloc(4088); /* (+ 8 for the canary: the 4 KiB class) */
            uintptr_t seg = (uintptr_t)p & ~(seg_size - 1);
            if (tail && (uintptr_t)p + 4096 == seg + seg_size - 4096) {
                printf("writing past %p\n", (void *)p);
                fflush(stdout);
                ((volatile char *)launder(p))[4096] = 'x';
            } else if (!tail && (uintptr_t)p == seg + hdr) {
                printf("writing before %p\n", (void *)p);
                fflush(stdout);
                ((volatile char *)launder(p))[-1] = 'x';
            }
        }
        printf("no block found next to a guard\n");
        return 3;
    } else if (strcmp(c, "guard-huge") == 0 || strcmp(c, "guard-huge-realloc") == 0) {
        /* a huge block ends at its mapping's guard page, also after mremap moved it */
        char *p = hk_malloc((size_t)3 << 20);
        if (c[10] == '-') {
            memset(p, 'x', (size_t)3 << 20);
            p = hk_realloc(p, (size_t)9 << 20); /* (grown by mremap) */
            p = hk_realloc(p, (size_t)5 << 20); /* (kept: not worth a system call) */
            hk_free(hk_malloc(64));
        }
        size_t n = hk_usable_size(p);
        memset(p, 'y', n); /* the whole usable block is writable */
        unsigned char vec;
        if (((uintptr_t)p + n) % 4096 != 0 || mincore(p + n, 4096, &vec) != 0) {
            printf("no mapped page after the block: no guard\n"); /* (unmapped: ENOMEM) */
            return 4;
        }
        printf("writing past %p + %zu\n", (void *)p, n);
        fflush(stdout);
        ((volatile char *)launder(p))[n] = 'x';
    } else if (strcmp(c, "zero-on-free") == 0) {
        /* prints how many of a freed block's bytes (after its first word) still held the
         * program's data when the next malloc of its size got the block back: a class
         * block, the same through realloc, and a huge block through the huge cache */
        static char *taken[2000];
        size_t sizes[] = {100, 5000, 200000, (size_t)3 << 20}, left = 0;
        for (size_t i = 0; i < 4; i++) {
            char *keep = hk_malloc(sizes[i]), *p = hk_malloc(sizes[i]), *moved = NULL;
            memset(p, 'x', sizes[i]);
            if (i == 1)
                moved = hk_realloc(p, 3 * sizes[i]); /* the old block freed by realloc */
            else
                hk_free(p);
            size_t n = 0; /* malloc until p comes back (the page's free list runs out) */
            while (n < 2000 && (taken[n] = hk_malloc(sizes[i])) != p) {
                n++;
                hk_free(hk_malloc(64)); /* (pushes p out of a quarantine) */
            }
            if (n == 2000)
                return printf("the block never came back\n"), 5;
            for (size_t k = 8; k < sizes[i]; k++)
                left += p[k] == 'x';
            for (size_t k = 0; k <= n; k++)
                hk_free(taken[k]);
            hk_free(moved);
            hk_free(keep);
        }
        printf("left %zu\n", left);
    } else if (strcmp(c, "guard-huge-head") == 0) {
        /* the page before a huge block is a guard too, also when a cached mapping is
         * taken for a block at another offset (aligned first, then not) */
        void *a = NULL;
        if (hk_posix_memalign(&a, (size_t)64 << 10, (size_t)3 << 20) != 0)
            return 6;
        memset(a, 'a', (size_t)3 << 20);
        hk_free(a);
        char *p = hk_malloc((size_t)3 << 20); /* (the cached mapping, its block earlier) */
        memset(p, 'y', hk_usable_size(p)); /* the old guard's page is the block's now */
        unsigned char vec;
        if ((uintptr_t)p % 4096 != 0 || mincore(p - 4096, 4096, &vec) != 0)
            return printf("no mapped page before the block: no guard\n"), 4;
        printf("writing before %p\n", (void *)p);
        fflush(stdout);
        ((volatile char *)launder(p))[-1] = 'x';
    } else if (strcmp(c, "huge-after-free") == 0) {
        /* reads a freed huge block (kept mapped in the huge cache): the secure build's
         * quarantine protects cached blocks, so the read faults */
        char *p = hk_malloc((size_t)3 << 20);
        memset(p, 'x', (size_t)3 << 20);
        hk_free(p);
        printf("read %d\n", ((volatile char *)launder(p))[100000]);
        char *q = hk_malloc((size_t)3 << 20); /* the cached mapping, usable again */
        memset(q, 'y', (size_t)3 << 20);
        hk_free(q);
    } else if (strcmp(c, "carve-order") == 0) {
        /* prints how many of 255 consecutive mallocs of one size returned a higher
         * address than the one before: carving in address order gives all of them, a
         * random order (the secure build) about half, and distinct blocks either way */
        enum { N = 256 };
        static uintptr_t seen[N];
        int ascents = 0;
        for (int i = 0; i < N; i++) {
            seen[i] = (uintptr_t)hk_malloc(200);
            for (int k = 0; k < i; k++)
                if (seen[k] == seen[i])
                    return 1;
            ascents += i > 0 && seen[i] > seen[i - 1];
        }
        printf("ascents %d\n", ascents);
    } else if (strcmp(c, "top-class") == 0) {
        /* the largest class has no canary (secure.h): its blocks may be written to their
         * last byte and freed, reallocated and sized without a report */
        size_t sizes[] = {983033, 1000000, (size_t)1 << 20};
        for (size_t i = 0; i < 3; i++) {
            char *p = hk_malloc(sizes[i]);
            memset(launder(p), 0xA5 + (int)i, sizes[i]);
            if (hk_usable_size(p) < sizes[i])
                return 1;
            if (i == 1)
                p = hk_realloc(p, sizes[i] - 4096); /* in place */
            hk_free(p);
        }
    } else if (strcmp(c, "write-after-free") == 0) {
        void *keep = hk_malloc(32);
        char *p = hk_malloc(32);
        hk_free(p);
        memset((char *)launder(p) + 8, 'x', 1); /* one byte, past the first word */
        for (int i = 0; i < 2000; i++) /* enough frees to push p out of the quarantine */
            hk_free(hk_malloc(32));
        hk_free(keep);
    } else if (strcmp(c, "double-delayed") == 0) {
        void *p = hk_malloc(32), *others[16];
        hk_free(p);
        for (int i = 0; i < 16; i++)
            others[i] = hk_malloc(32);
        for (int i = 0; i < 16; i++)
            hk_free(others[i]);
        hk_free(launder(p));
    } else if (strcmp(c, "libc-double") == 0) {
        void *keep = malloc(32);
        void *p = malloc(32);
        free(p);
        free(launder(p));
        free(keep);
    } else if (strcmp(c, "libc-foreign") == 0) {
        free(&local);
    } else {
        return 2;
    }
    printf("survived %s\n", c);
    return 0;
}
