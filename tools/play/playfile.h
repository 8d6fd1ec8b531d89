/*
 * playfile.h -- the play file: a validated trace as fixed-size binary records, which
 *               `heapkit replay --peer` writes (tools/playwrite.c) and the player
 *               (heapkit-play) reads to replay it on a real allocator.
 *
 * Design:      The player measures the allocator it runs on, so it must not parse text,
 *              inflate gzip or allocate while it prepares: it read(2)s this file into
 *              memory it mapped itself and uses the records where they lie. The format
 *              therefore is the trace's op array (trace.h) as it is in memory, plus the
 *              parallel thread array of a recorded multi-thread trace. The player trusts
 *              nothing in it: playfile_check() verifies every invariant below (including
 *              the id life cycle, so a replay can never free a block twice or use a dead
 *              one) before the first op is played. Both sides include this header; it is
 *              the whole contract between them. Native byte order (x86-64: little-endian);
 *              the file never leaves the machine that wrote it.
 *
 * Layout:
 *
 *   offset
 *        0 +---------------------------------------------------------------+
 *          | magic "HKPLAY1\n"                                    8 bytes  |
 *        8 | version = 1 (u32)              | flags (u32): PLAYFILE_THREADS|
 *       16 | num_ops (u32)                  | num_ids (u32)                |
 *       24 | num_threads (u32)              | reserved = 0 (u32)           |
 *       32 | peak_live (u64): max sum of live requested bytes, as written  |
 *       40 | file_size (u64): bytes in the whole file                      |
 *       48 +---------------------------------------------------------------+ ops
 *          | size (u64) | id (u32) | kind (u8) | align_shift (u8) | 0 (u16) |  16 bytes,
 *          | ...                                                           |  num_ops times
 *          +---------------------------------------------------------------+ threads
 *          | thread of op 0 (u32) | thread of op 1 | ...                   |  only with
 *          | ... zero bytes up to a multiple of 8                          |  PLAYFILE_THREADS
 *          +---------------------------------------------------------------+ file_size
 *
 *   kind: 'a' malloc, 'c' calloc(1, size), 'm' aligned_alloc(1 << align_shift, size),
 *         'r' realloc (size 0: the block is freed), 'f' free (as in trace.h).
 *
 * Invariants (playfile_check() verifies all, in this order, and names the first broken):
 *   P1 magic and version are as above; flags has no bit but PLAYFILE_THREADS; reserved is 0
 *   P2 file_size is the size of the file, and equals playfile_size(num_ops, flags)
 *   P3 num_threads >= 1; without PLAYFILE_THREADS, num_threads == 1 (every op on thread 0)
 *   P4 every op: kind is one of a c m r f; size <= PLAYFILE_MAX_SIZE; size is 0 for 'f';
 *      align_shift <= PLAYFILE_MAX_ALIGN_SHIFT, and 0 unless kind is 'm'; the pad is 0
 *   P5 every op: id < num_ids; with PLAYFILE_THREADS, thread < num_threads and the pad
 *      after the thread array is zero
 *   P6 id life cycle, in op order: 'a', 'c' and 'm' name a dead id, which becomes live;
 *      'r' and 'f' name a live id; 'f' and 'r' with size 0 leave it dead
 *   P7 peak_live equals the peak of the sum of requested sizes of live ids over the ops
 *      (a realloc counts its new size in place of its old one): the writer and the
 *      player agree on what was played
 * Complexity:  playfile_check is O(num_ops), with one u64 of scratch per id.
 */
#ifndef HK_PLAYFILE_H
#define HK_PLAYFILE_H

#include <stddef.h>
#include <stdint.h>

#define PLAYFILE_MAGIC           "HKPLAY1\n"
#define PLAYFILE_VERSION         1u
#define PLAYFILE_THREADS         1u /* flags: the thread array follows the ops */
#define PLAYFILE_MAX_SIZE        ((uint64_t)1 << 40) /* as trace.h TRACE_MAX_SIZE */
#define PLAYFILE_MAX_ALIGN_SHIFT 30                  /* as trace.h TRACE_MAX_ALIGN_SHIFT */

typedef struct playfile_header {
    char     magic[8];
    uint32_t version;
    uint32_t flags;
    uint32_t num_ops;
    uint32_t num_ids;
    uint32_t num_threads;
    uint32_t reserved;
    uint64_t peak_live;
    uint64_t file_size;
} playfile_header_t;

typedef struct playfile_op {
    uint64_t size;
    uint32_t id;
    uint8_t  kind;
    uint8_t  align_shift;
    uint16_t pad;
} playfile_op_t;

_Static_assert(sizeof(playfile_header_t) == 48, "the header is 48 bytes (layout above)");
_Static_assert(sizeof(playfile_op_t) == 16, "an op record is 16 bytes (layout above)");

/* Bytes of a play file with num_ops ops and these flags (P2). */
static inline uint64_t playfile_size(uint32_t num_ops, uint32_t flags)
{
    uint64_t threads = (flags & PLAYFILE_THREADS) ? ((uint64_t)num_ops * 4 + 7) / 8 * 8 : 0;
    return sizeof(playfile_header_t) + (uint64_t)num_ops * sizeof(playfile_op_t) + threads;
}

/* The ops and the thread array (NULL without PLAYFILE_THREADS) of a checked file. */
static inline const playfile_op_t *playfile_ops(const void *file)
{
    return (const playfile_op_t *)(const void *)((const char *)file + sizeof(playfile_header_t));
}
static inline const uint32_t *playfile_threads(const void *file)
{
    const playfile_header_t *h = file;
    if (!(h->flags & PLAYFILE_THREADS))
        return NULL;
    return (const uint32_t *)(const void *)((const char *)file + sizeof(playfile_header_t) +
                                            (size_t)h->num_ops * sizeof(playfile_op_t));
}

/* Checks P1-P7 on the `len` bytes at file (8-byte aligned). `scratch` holds one u64 per
 * id (header num_ids, which the caller reads after P1 holds; it is the caller's to size)
 * and is left zeroed. Returns NULL when the file is valid, else a static message naming
 * the invariant; *at is then the 0-based op index it concerns, or UINT32_MAX. */
const char *playfile_check(const void *file, uint64_t len, uint64_t *scratch, uint32_t *at);

/* Checks P1 and P2 against len only, so the caller may size the scratch for
 * playfile_check. Returns NULL or a static message. */
const char *playfile_check_header(const void *file, uint64_t len);

#endif
