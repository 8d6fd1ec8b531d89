/*
 * peers.c -- the peer table and finding what it names (see peers.h).
 *
 * Design:      One row per peer; a library is either a packaged path (Debian's multiarch
 *              folder, x86-64, as scripts/bench.py) or, for heapkit itself, a file next
 *              to this executable: the build tree keeps heapkit, heapkit-play and
 *              libheapkit.so in one folder, and `make install` puts the command in
 *              $PREFIX/bin, the library in $PREFIX/lib and the player in
 *              $PREFIX/lib/heapkit.
 * Complexity:  O(peers) lookups, each an access(2).
 */
#include "peers.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEBIAN_LIBDIR "/usr/lib/x86_64-linux-gnu"

/* A sanitizer build of heapkit sits beside a sanitizer build of libheapkit, which needs
 * the ASan runtime first in the process: it cannot be preloaded into the player. */
#if defined(__SANITIZE_ADDRESS__)
#define LIBRARY_BESIDE_IS_USABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIBRARY_BESIDE_IS_USABLE 0
#endif
#endif
#ifndef LIBRARY_BESIDE_IS_USABLE
#define LIBRARY_BESIDE_IS_USABLE 1
#endif

typedef struct peer_kind {
    const char *name, *row, *package;
    const char *path; /* packaged library; NULL: glibc (none) or heapkit (found) */
} peer_kind_t;

static const peer_kind_t kinds[] = {
    {"glibc", "peer:glibc", "libc6", NULL},
    {"heapkit", "peer:heapkit", "(this build: make)", NULL},
    {"jemalloc", "peer:jemalloc", "libjemalloc2", DEBIAN_LIBDIR "/libjemalloc.so.2"},
    {"tcmalloc", "peer:tcmalloc", "libtcmalloc-minimal4",
     DEBIAN_LIBDIR "/libtcmalloc_minimal.so.4"},
    {"mimalloc", "peer:mimalloc", "libmimalloc2.0", DEBIAN_LIBDIR "/libmimalloc.so.2"},
};
#define NUM_KINDS (sizeof kinds / sizeof kinds[0])

const char peer_names[] = "glibc, heapkit, jemalloc, tcmalloc, mimalloc";

/* ---- Files beside this executable ---- */

/* The absolute path of `env`'s value if set, else of the first of `beside` and
 * `installed` (relative to this executable's folder) that passes access(mode). */
static char *find_file(const char *env, const char *beside, const char *installed, int mode)
{
    const char *given = getenv(env);
    char path[PATH_MAX];
    if (given && *given)
        return access(given, mode) == 0 ? realpath(given, NULL) : NULL;
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    if (len <= 0)
        return NULL;
    path[len] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    slash[1] = '\0';
    const char *tries[] = {beside, installed};
    for (size_t i = 0; i < 2; i++) {
        char file[PATH_MAX + 64];
        if ((size_t)snprintf(file, sizeof file, "%s%s", path, tries[i]) < sizeof file &&
            access(file, mode) == 0)
            return realpath(file, NULL);
    }
    return NULL;
}

/* ---- Selection ---- */

static const peer_kind_t *kind_named(const char *name)
{
    for (size_t i = 0; i < NUM_KINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

/* Where kind k's library is: 0 with *lib set (NULL for glibc), or -1 when missing. */
static int locate(const peer_kind_t *k, char **lib)
{
    *lib = NULL;
    if (strcmp(k->name, "glibc") == 0)
        return 0;
    if (strcmp(k->name, "heapkit") == 0) {
        const char *env = getenv("HEAPKIT_LIBRARY");
        if (LIBRARY_BESIDE_IS_USABLE || (env && *env))
            *lib = find_file("HEAPKIT_LIBRARY", "libheapkit.so", "../lib/libheapkit.so", R_OK);
    } else if (access(k->path, R_OK) == 0) {
        *lib = realpath(k->path, NULL);
    }
    return *lib ? 0 : -1;
}

static void say_missing(const peer_kind_t *k, bool note)
{
    const char *lead = note ? "heapkit: note: skipping peer" : "heapkit: peer";
    const char *env = getenv("HEAPKIT_LIBRARY");
    if (strcmp(k->name, "heapkit") == 0 && env && *env)
        fprintf(stderr, "%s %s: HEAPKIT_LIBRARY=%s cannot be read\n", lead, k->name, env);
    else if (strcmp(k->name, "heapkit") == 0 && !LIBRARY_BESIDE_IS_USABLE)
        fprintf(stderr, "%s %s: this heapkit is a sanitizer build, whose libheapkit.so cannot "
                        "be preloaded alone: set HEAPKIT_LIBRARY to a release build's\n",
                lead, k->name);
    else if (strcmp(k->name, "heapkit") == 0)
        fprintf(stderr, "%s %s: libheapkit.so is neither beside this heapkit nor in ../lib/ "
                        "(build it with make, or set HEAPKIT_LIBRARY)\n", lead, k->name);
    else
        fprintf(stderr, "%s %s: %s is not installed (Debian package %s: apt-get install %s)\n",
                lead, k->name, k->path, k->package, k->package);
}

static void add(peer_set_t *set, const peer_kind_t *k, char *lib)
{
    peer_t *p = &set->peers[set->count++];
    p->name = k->name;
    p->row = k->row;
    p->package = k->package;
    p->lib = lib;
}

static int select_all(peer_set_t *set)
{
    for (size_t i = 0; i < NUM_KINDS; i++) {
        char *lib;
        if (locate(&kinds[i], &lib) == 0)
            add(set, &kinds[i], lib);
        else
            say_missing(&kinds[i], true);
    }
    return 0;
}

static int select_list(const char *list, peer_set_t *set)
{
    char *copy = strdup(list), *rest = copy;
    if (!copy)
        return 2;
    int status = 0;
    for (char *name; status == 0 && (name = strsep(&rest, ",")) != NULL;) {
        const peer_kind_t *k = kind_named(name);
        char *lib;
        if (!k) {
            fprintf(stderr, "heapkit: unknown peer '%s' (peers: %s, or all)\n"
                            "(try `heapkit replay --help`)\n", name, peer_names);
            status = 2;
        } else if (locate(k, &lib) != 0) {
            say_missing(k, false);
            status = 2;
        } else {
            add(set, k, lib);
        }
    }
    free(copy);
    return status;
}

int peers_select(const char *list, peer_set_t *set)
{
    size_t names = 1;
    for (const char *s = list; *s; s++)
        names += *s == ',';
    memset(set, 0, sizeof *set);
    set->peers = calloc(names > NUM_KINDS ? names : NUM_KINDS, sizeof *set->peers);
    if (!set->peers) {
        fputs("heapkit: out of memory\n", stderr);
        return 2;
    }
    int status = strcmp(list, "all") == 0 ? select_all(set) : select_list(list, set);
    if (status == 0 && set->count > 0) {
        set->player = find_file("HEAPKIT_PLAYER", "heapkit-play", "../lib/heapkit/heapkit-play",
                                X_OK);
        if (!set->player) {
            fputs("heapkit: cannot find the player heapkit-play beside this heapkit or in "
                  "../lib/heapkit/ (build it with make, or set HEAPKIT_PLAYER)\n", stderr);
            status = 2;
        }
    }
    if (status != 0)
        peers_free(set);
    return status;
}

void peers_free(peer_set_t *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->peers[i].lib);
    free(set->peers);
    free(set->player);
    memset(set, 0, sizeof *set);
}
