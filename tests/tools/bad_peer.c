/*
 * bad_peer.c -- a broken allocator for tests/tools/test_peers.sh: preloaded into the
 *               player (as the heapkit peer, through HEAPKIT_LIBRARY), it serves glibc's
 *               blocks until its Nth call, and then breaks the way BAD_PEER says:
 *
 *   BAD_PEER=null:N      the Nth malloc returns NULL
 *   BAD_PEER=misalign:N  the Nth malloc of 16 bytes or more returns a block 8 bytes in
 *   BAD_PEER=overlap:N   the Nth malloc returns the previous malloc's block again (live)
 *   BAD_PEER=dirty:N     the Nth calloc returns a block whose first byte is not 0
 *   BAD_PEER=crash:N     the Nth free dies of SIGSEGV
 *   BAD_PEER=hang:N      the Nth malloc never returns
 *
 * Every call is counted from the first (the player's own warm-up malloc is call 1). A
 * misaligned or repeated block is never freed: the player stops at the first bad block.
 */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t count, size_t n);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static char mode[16];
static long at = -1, mallocs, callocs, frees;
static void *last, *repeated;

static void read_mode(void)
{
    if (at >= 0)
        return;
    at = 0;
    const char *env = getenv("BAD_PEER"), *colon = env ? strchr(env, ':') : NULL;
    if (!colon || (size_t)(colon - env) >= sizeof mode)
        return;
    memcpy(mode, env, (size_t)(colon - env));
    at = atol(colon + 1);
}

static int is(const char *m)
{
    return strcmp(mode, m) == 0;
}

void *malloc(size_t n)
{
    read_mode();
    long k = ++mallocs;
    if (k == at && is("null"))
        return NULL;
    if (k == at && is("overlap") && last)
        return repeated = last;
    if (k == at && is("hang"))
        for (;;)
            pause();
    if (k >= at && is("misalign") && n >= 16) {
        char *p = __libc_malloc(n + 16);
        return p ? p + 8 : NULL;
    }
    return last = __libc_malloc(n);
}

void *calloc(size_t count, size_t n)
{
    read_mode();
    unsigned char *p = __libc_calloc(count, n);
    if (++callocs == at && is("dirty") && p && count * n > 0)
        p[0] = 0x5a;
    return p;
}

void *realloc(void *p, size_t n)
{
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    return __libc_memalign(align, n);
}

void free(void *p)
{
    read_mode();
    if (++frees == at && is("crash"))
        raise(SIGSEGV);
    if (p != NULL && p == repeated)
        return; /* glibc would reuse it (its free-list link over the tags the player checks:
                 * 2 runs in 60 passed the check) or abort on the second free */
    __libc_free(p);
}
