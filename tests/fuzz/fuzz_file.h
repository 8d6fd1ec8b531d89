/*
 * fuzz_file.h -- what the two reader fuzzers (fuzz_trace.c, fuzz_mtrace.c) share: the
 *                readers take a path, so each input is written to a scratch file first.
 *
 * Design:      an input's first byte is a mode, the rest is the file: bit 0 set writes it
 *              gzip-compressed (the readers inflate through zlib, so the fuzzer reaches
 *              the text parsers through the gzip path too, with valid streams; raw bytes
 *              still reach gzip's own header and CRC checks when bit 0 is clear). The
 *              scratch files live in one folder made at start and removed at exit.
 */
#ifndef HK_FUZZ_FILE_H
#define HK_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FUZZ_GZIP 1u

typedef struct fuzz_files {
    char dir[64];
    char in[96];  /* the input, as the reader sees it */
    char out[96]; /* what the code under test writes */
} fuzz_files_t;

static fuzz_files_t fuzz_scratch;

static void fuzz_files_remove(void)
{
    unlink(fuzz_scratch.in);
    unlink(fuzz_scratch.out);
    rmdir(fuzz_scratch.dir);
}

/* Makes the folder (once); aborts when it cannot. */
static inline void fuzz_files_init(void)
{
    if (fuzz_scratch.dir[0])
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_scratch.dir, sizeof fuzz_scratch.dir, "%s/heapkit-fuzz.XXXXXX",
             tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_scratch.dir))
        abort();
    snprintf(fuzz_scratch.in, sizeof fuzz_scratch.in, "%s/in", fuzz_scratch.dir);
    snprintf(fuzz_scratch.out, sizeof fuzz_scratch.out, "%s/out", fuzz_scratch.dir);
    atexit(fuzz_files_remove);
}

/* Writes the input after its mode byte to fuzz_scratch.in; returns the mode. */
static inline unsigned fuzz_write_input(const uint8_t *data, size_t len)
{
    fuzz_files_init();
    unsigned mode = len ? data[0] : 0;
    const uint8_t *body = len ? data + 1 : data;
    size_t n = len ? len - 1 : 0;
    if (mode & FUZZ_GZIP) {
        gzFile gz = gzopen(fuzz_scratch.in, "wb1");
        if (!gz || (n && gzwrite(gz, body, (unsigned)n) != (int)n) || gzclose(gz) != Z_OK)
            abort();
    } else {
        FILE *f = fopen(fuzz_scratch.in, "wb");
        if (!f || fwrite(body, 1, n, f) != n || fclose(f) != 0)
            abort();
    }
    return mode;
}

#endif
