/*
 * playwrite.c -- a trace as a play file (see playwrite.h and tools/play/playfile.h).
 *
 * Design:      The records are converted in fixed batches and written with stdio: this
 *              runs in heapkit, not in the measured player, so nothing here needs to
 *              avoid malloc.
 * Complexity:  O(ops) time, O(1) memory beyond stdio's buffer.
 */
#include "playwrite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "play/playfile.h"

#define BATCH 1024

static playfile_header_t header_of(const trace_t *t)
{
    playfile_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PLAYFILE_MAGIC, sizeof h.magic);
    h.version = PLAYFILE_VERSION;
    h.flags = t->thread && t->num_threads > 1 ? PLAYFILE_THREADS : 0;
    h.num_ops = t->num_ops;
    h.num_ids = t->id_span;
    h.num_threads = h.flags & PLAYFILE_THREADS ? t->num_threads : 1;
    h.peak_live = trace_peak_live(t, NULL);
    h.file_size = playfile_size(h.num_ops, h.flags);
    return h;
}

static int write_ops(FILE *f, const trace_t *t)
{
    playfile_op_t batch[BATCH];
    for (uint32_t i = 0; i < t->num_ops;) {
        uint32_t n = 0;
        for (; n < BATCH && i < t->num_ops; n++, i++) {
            const trace_op_t *op = &t->ops[i];
            batch[n] = (playfile_op_t){.size = op->size, .id = op->id, .kind = op->kind,
                                       .align_shift = op->align_shift};
        }
        if (fwrite(batch, sizeof batch[0], n, f) != n)
            return -1;
    }
    return 0;
}

static int write_threads(FILE *f, const trace_t *t)
{
    static const unsigned char zeros[8];
    if (fwrite(t->thread, sizeof t->thread[0], t->num_ops, f) != t->num_ops)
        return -1;
    size_t pad = (8 - (size_t)t->num_ops * 4 % 8) % 8;
    return fwrite(zeros, 1, pad, f) == pad ? 0 : -1;
}

int playwrite(const trace_t *t, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "heapkit: %s: %s\n", path, strerror(errno));
        return -1;
    }
    playfile_header_t h = header_of(t);
    int status = fwrite(&h, sizeof h, 1, f) == 1 ? 0 : -1;
    if (status == 0)
        status = write_ops(f, t);
    if (status == 0 && (h.flags & PLAYFILE_THREADS))
        status = write_threads(f, t);
    if (fclose(f) != 0)
        status = -1;
    if (status != 0)
        fprintf(stderr, "heapkit: %s: cannot write the play file: %s\n", path, strerror(errno));
    return status;
}
