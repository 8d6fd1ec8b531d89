/*
 * playfile.c -- the play file's checker: invariants P1-P7 of playfile.h.
 *
 * Design:      The player runs this before anything is measured, on bytes it read
 *              itself; the messages are static strings (the player formats nothing on
 *              the heap). The life cycle (P6) and the peak (P7) need the size of each
 *              live id, kept in the caller's scratch as size + 1 (0 = dead), which is
 *              why the scratch is one u64 per id. It is zeroed again on the way out,
 *              success or not, so the player can reuse the memory as its block table.
 * Complexity:  O(num_ops + num_ids).
 */
#include "playfile.h"

#include <string.h>

#define NOT_AT_OP UINT32_MAX

const char *playfile_check_header(const void *file, uint64_t len)
{
    const playfile_header_t *h = file;
    if (len < sizeof *h)
        return "P2: shorter than the 48-byte header";
    if (memcmp(h->magic, PLAYFILE_MAGIC, sizeof h->magic) != 0)
        return "P1: not a play file (bad magic)";
    if (h->version != PLAYFILE_VERSION)
        return "P1: unsupported version";
    if (h->flags & ~PLAYFILE_THREADS)
        return "P1: unknown flags";
    if (h->reserved != 0)
        return "P1: reserved field is not 0";
    if (h->file_size != len)
        return "P2: file_size differs from the file's size";
    if (h->file_size != playfile_size(h->num_ops, h->flags))
        return "P2: file_size does not match num_ops and flags";
    return NULL;
}

/* P4 and P5 for one op (thread: its thread, 0 without the array). */
static const char *check_record(const playfile_header_t *h, const playfile_op_t *op,
                                uint32_t thread)
{
    switch (op->kind) {
    case 'a':
    case 'c':
    case 'm':
    case 'r':
    case 'f':
        break;
    default:
        return "P4: unknown op kind";
    }
    if (op->size > PLAYFILE_MAX_SIZE)
        return "P4: size above 2^40";
    if (op->kind == 'f' && op->size != 0)
        return "P4: a free with a size";
    if (op->align_shift > PLAYFILE_MAX_ALIGN_SHIFT)
        return "P4: alignment above 2^30";
    if (op->kind != 'm' && op->align_shift != 0)
        return "P4: an alignment on an op that is not 'm'";
    if (op->pad != 0)
        return "P4: pad bytes are not 0";
    if (op->id >= h->num_ids)
        return "P5: id not below num_ids";
    if (thread >= h->num_threads)
        return "P5: thread not below num_threads";
    return NULL;
}

/* P6 for one op, updating the live sizes (size + 1, 0 = dead) and the live sum. */
static const char *check_life(const playfile_op_t *op, uint64_t *live_size, uint64_t *live)
{
    uint64_t *slot = &live_size[op->id];
    if (op->kind == 'a' || op->kind == 'c' || op->kind == 'm') {
        if (*slot)
            return "P6: allocation of an id that is live";
        *slot = op->size + 1;
        *live += op->size;
        return NULL;
    }
    if (!*slot)
        return op->kind == 'f' ? "P6: free of an id that is not live"
                               : "P6: realloc of an id that is not live";
    *live -= *slot - 1;
    *slot = 0;
    if (op->kind == 'r' && op->size > 0) {
        *slot = op->size + 1;
        *live += op->size;
    }
    return NULL;
}

static const char *check_ops(const void *file, uint64_t *scratch, uint32_t *at)
{
    const playfile_header_t *h = file;
    const playfile_op_t *ops = playfile_ops(file);
    const uint32_t *threads = playfile_threads(file);
    if (h->num_threads == 0)
        return "P3: num_threads is 0";
    if (!threads && h->num_threads != 1)
        return "P3: several threads but no thread array";
    uint64_t live = 0, peak = 0;
    for (uint32_t i = 0; i < h->num_ops; i++) {
        *at = i;
        const char *e = check_record(h, &ops[i], threads ? threads[i] : 0);
        if (!e)
            e = check_life(&ops[i], scratch, &live);
        if (e)
            return e;
        peak = live > peak ? live : peak;
    }
    *at = NOT_AT_OP;
    if (threads) {
        const unsigned char *pad = (const unsigned char *)(threads + h->num_ops);
        const unsigned char *end = (const unsigned char *)file + h->file_size;
        for (; pad < end; pad++)
            if (*pad)
                return "P5: the pad after the thread array is not zero";
    }
    if (peak != h->peak_live)
        return "P7: peak_live differs from the peak the ops imply";
    return NULL;
}

const char *playfile_check(const void *file, uint64_t len, uint64_t *scratch, uint32_t *at)
{
    *at = NOT_AT_OP;
    const char *e = playfile_check_header(file, len);
    if (e)
        return e;
    const playfile_header_t *h = file;
    e = check_ops(file, scratch, at);
    memset(scratch, 0, (size_t)h->num_ids * sizeof *scratch);
    return e;
}
