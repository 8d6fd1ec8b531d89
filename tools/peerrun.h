/*
 * peerrun.h -- replays traces on real allocators (peers.h) through the player
 *              heapkit-play, and turns its runs into report rows.
 *
 * Design:      Each trace is written once as a play file (playwrite.h) in a private
 *              temporary folder. Every run of a (trace, peer) is a fresh player process,
 *              started with LD_PRELOAD=<the peer's library> (glibc: none), so no
 *              allocator state carries over between runs. Runs are interleaved: run 1 of
 *              every (trace, peer), then run 2, ..., so a noisy neighbour hurts every
 *              peer alike. A row reports the median wall time of the replay loop and the
 *              median peak RSS above the player's baseline (what the OS charged the
 *              allocator for the trace, metadata and caches included); `--repeat 0` is
 *              one run and no time. With --callgrind, each (trace, peer) also runs once
 *              under valgrind's callgrind, collecting only the player's op loop, for the
 *              allocator's instructions per op (callgrind.h); without valgrind that is
 *              skipped with a note.
 *              A run that fails (a NULL, a misaligned or damaged block, a crash, a
 *              timeout) fails its row with the op and the reason; later runs of that row
 *              are skipped.
 */
#ifndef HK_TOOLS_PEERRUN_H
#define HK_TOOLS_PEERRUN_H

#include <stddef.h>

#include "peers.h"
#include "replay.h"
#include "trace.h"

/* Plays every trace on every peer of set. The row of (trace t, peer p) is
 * rows[t * stride + first + p]. Returns 0, or -1 when the play files could not be
 * written (after a message). */
int peerrun_all(const trace_t *traces, size_t ntraces, const peer_set_t *set,
                const replay_options_t *opt, replay_result_t *rows, size_t stride, size_t first);

#endif
