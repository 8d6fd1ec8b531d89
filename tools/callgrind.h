/*
 * callgrind.h -- reads the instruction counts heapkit needs from a callgrind output file.
 *
 * Design:      The player's op loop (one function, collected alone with
 *              --toggle-collect) calls the allocator's entry points and a few functions
 *              of its own, all named with one prefix (tools/play/ops.c). Its inclusive
 *              cost therefore splits three ways, read from the loop's "fn=" blocks:
 *              its self cost (the loop and the page writes), the inclusive cost of calls
 *              to its own functions (waits, thread starts), and the inclusive cost of
 *              every other call: the allocator's. The file must be written uncompressed
 *              (--compress-strings=no --compress-pos=no); the first event is Ir.
 */
#ifndef HK_TOOLS_CALLGRIND_H
#define HK_TOOLS_CALLGRIND_H

#include <stdint.h>

typedef struct callgrind_split {
    uint64_t self;       /* Ir in fn itself (inlined code included) */
    uint64_t own_calls;  /* Ir of calls to functions named own_prefix... */
    uint64_t other_calls;/* Ir of every other call: the allocator */
    uint64_t blocks;     /* fn= blocks found for fn (0: it never ran while collected) */
} callgrind_split_t;

/* Splits fn's cost in the callgrind file at path. Returns 0, or -1 if it cannot be read. */
int callgrind_split(const char *path, const char *fn, const char *own_prefix,
                    callgrind_split_t *out);

#endif
