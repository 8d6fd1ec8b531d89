/*
 * peers.h -- the real allocators `heapkit replay --peer` compares: which exist, where
 *            their libraries are, and where the player is.
 *
 * Design:      A peer is a malloc the player (heapkit-play) runs on: glibc's own (no
 *              preload), libheapkit (found like the recorder: beside this heapkit, else
 *              ../lib/; HEAPKIT_LIBRARY overrides) and the Debian builds of jemalloc,
 *              tcmalloc and mimalloc, preloaded from their packaged paths (the same ones
 *              scripts/bench.py uses). Selection happens before anything runs: an unknown
 *              peer, or a named one that is not installed, is a usage error (exit 2)
 *              naming the package; `all` takes the installed ones and notes the others.
 */
#ifndef HK_TOOLS_PEERS_H
#define HK_TOOLS_PEERS_H

#include <stddef.h>

typedef struct peer {
    const char *name;    /* "jemalloc" */
    const char *row;     /* the row's name in reports: "peer:jemalloc" */
    const char *package; /* the Debian package that provides it */
    char       *lib;     /* the library to preload (absolute), NULL for glibc */
} peer_t;

typedef struct peer_set {
    peer_t *peers;
    size_t  count;
    char   *player; /* heapkit-play (absolute) */
} peer_set_t;

/* Comma-separated peer names for messages and --help. */
extern const char peer_names[];

/* Resolves `list` (names separated by commas, or `all`) into set, with the player.
 * Returns 0, or 2 (the usage-error exit status) after printing why. */
int  peers_select(const char *list, peer_set_t *set);
void peers_free(peer_set_t *set);

#endif
