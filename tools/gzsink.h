/*
 * gzsink.h -- an output file written either plain or as gzip, compressed on worker
 *             threads while the caller goes on producing.
 *
 * Design:      The caller fills blocks (GZSINK_BLOCK bytes); each block becomes one gzip
 *              member of its own, compressed by whichever worker is free, and members are
 *              written in order. Concatenated members are a valid gzip file (RFC 1952,
 *              and zlib's gzread reads on across them), so no reader changes; the price is
 *              a dictionary reset per MiB, under 1% in size. Deflate is most of the cost
 *              of writing a recorded trace, which `heapkit record` makes its user wait for
 *              after the program ended, when every core is free.
 * Layout:      a ring of slots, each FREE -> FILLED (caller) -> BUSY -> DONE (a worker) ->
 *              written and FREE again (the caller, in ring order).
 * Invariants:  S1 slots are written in the order they were filled; S2 at most `slots`
 *              blocks are in flight; S3 a failed write or deflate fails the close (of
 *              the file the held sink is spliced into, for a held one).
 */
#ifndef HK_TOOLS_GZSINK_H
#define HK_TOOLS_GZSINK_H

#include <stddef.h>

#define GZSINK_BLOCK ((size_t)1 << 20)

typedef struct gzsink gzsink_t;

/* Creates path (truncating it). level 1..9 compresses, 0 writes plain. NULL after a
 * message "heapkit: PATH: ..." */
gzsink_t *gzsink_open(const char *path, int level);
/* A held sink: what it writes (compressed the same way) stays in memory until it is
 * spliced into another sink. For a file whose head can only be written last: the
 * trace's header, after its ops, which `heapkit record` compresses while the program
 * runs. NULL after a message. */
gzsink_t *gzsink_open_held(int level);
/* Writes everything `held` produced into s, after what was committed to s so far, and
 * closes `held`. Returns 0, or -1 (s's close then fails too, with the message). */
int gzsink_splice(gzsink_t *s, gzsink_t *held);
/* The block to fill next: GZSINK_BLOCK bytes. */
char *gzsink_block(gzsink_t *s);
/* Hands over the current block with its first len bytes used. */
void gzsink_commit(gzsink_t *s, size_t len);
/* Writes what is left and closes. Returns 0, or -1 after a message. */
int gzsink_close(gzsink_t *s);

#endif
