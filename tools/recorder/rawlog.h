/*
 * rawlog.h -- the raw log the recorder library writes while a program runs, and which
 *             `heapkit record` turns into a heapkit-trace afterwards (tools/rawread.c).
 *
 * Design:      The recorder must cost little and survive anything, so it writes the
 *              cheapest thing that can be ordered later: fixed-size binary events, with
 *              write(2), each thread into the event file of the buffer it holds (no lock
 *              between threads, no interleaving within a file). All interpretation
 *              (global order, address -> id, call sites -> symbols, compression) happens
 *              in the heapkit process after the program has ended. Both sides include
 *              this header; it is the whole contract between them.
 *
 * Files in $HEAPKIT_RECORD_DIR, per process image (a process, and again after each
 * exec, which keeps the pid but replaces the heap):
 *
 *   <pid>.<k>.meta        text: "key value" lines (below), k = 0, 1, ... the k-th image
 *                         of that pid, taken with O_EXCL so an exec'd image never
 *                         overwrites the image before it
 *   <pid>.<k>.<b>.ev      events of buffer b of that image, back to back
 *
 * Meta keys, written at start:  heapkit-raw 1 | pid N | ppid N | image K | event-size N
 *   | callsites 0/1 | exe PATH | cmdline TEXT | clock tsc|ns | start-ns N | start-tsc N
 *   | forked-from PID.K | fork-seq N
 * whenever a buffer fills (clock tsc):  tick NS COUNT
 * and at the end (exit, fatal signal, exec):  end-ns N | end-tsc N | ended TEXT
 *   | events N | dropped N | maps-begin ... /proc/self/maps ... maps-end (call sites only)
 * A key may appear twice when an exec failed and the image ran on: the last one counts.
 *
 * Event layout (little-endian, RAWLOG_EVENT_SIZE bytes, + 8 with call sites):
 *
 *   0        8        16       24       32       40     44  45     48        56
 *   +--------+--------+--------+--------+--------+------+---+------+---------+
 *   | seq    | time   | addr   | size   | aux    |thread|op | pad  |callsite |
 *   +--------+--------+--------+--------+--------+------+---+------+---------+
 *   seq:    the order of the calls across threads: with "clock tsc" the time stamp
 *           counter (rdtsc, where the kernel keeps time with it: constant and synchronized
 *           across CPUs), else a process-wide counter, one per call. A free takes it
 *           before the block is released, an allocation after it is obtained, so a block
 *           another thread frees and gets back is never out of order.
 *   time:   "clock tsc": the same count (the meta file's start-/end-/tick pairs of
 *           (CLOCK_MONOTONIC ns, count) turn it into nanoseconds); else CLOCK_MONOTONIC
 *           nanoseconds when the call returned.
 *   addr:   the block returned (allocations, realloc), or the pointer freed.
 *   size:   the request in bytes (calloc: count * size, pvalloc: rounded to a page).
 *   aux:    RAWLOG_ALIGNED: the alignment; RAWLOG_REALLOC: the old pointer.
 *   thread: the recorder's thread number (0, 1, ... in order of first call).
 *   op:     rawlog_op_t.
 *   callsite: the return address of the call (with call sites only).
 *
 * Invariants (what the recorder guarantees; rawread.c rejects a log breaking R1 or R3,
 * and repairs R4, see addrtrace.h):
 *   R1 within one event file, seq strictly increases
 *   R2 with the counter clock, seq is unique across the files of one image (time stamps
 *      of two CPUs may tie: tied events of different files are merged in either order)
 *   R3 op is a rawlog_op_t; RAWLOG_ALIGNED has a power-of-two aux (the alignment the
 *      block got: glibc rounds memalign(24, n) up to 32)
 *   R4 a RAWLOG_REALLOC_BEGIN (the old block released, seq taken before the call) is
 *      followed on its thread by the RAWLOG_REALLOC of the same call, whose aux is its
 *      addr, before any other event of that thread
 */
#ifndef HK_RAWLOG_H
#define HK_RAWLOG_H

#include <stdint.h>

#define RAWLOG_VERSION    1
#define RAWLOG_EVENT_SIZE 48 /* without call sites; 56 with */

typedef enum rawlog_op {
    RAWLOG_MALLOC = 1,        /* malloc, realloc(NULL, n), operator new through malloc */
    RAWLOG_CALLOC = 2,        /* calloc */
    RAWLOG_ALIGNED = 3,       /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
    RAWLOG_REALLOC = 4,       /* realloc(p, n) that succeeded, in place or moved */
    RAWLOG_FREE = 5,          /* free, free_sized, free_aligned_sized, realloc(p, 0) */
    RAWLOG_REALLOC_BEGIN = 6, /* a realloc that moved: when its old block was released */
} rawlog_op_t;

typedef struct rawlog_event {
    uint64_t seq;
    uint64_t time;
    uint64_t addr;
    uint64_t size;
    uint64_t aux;
    uint32_t thread;
    uint8_t  op;
    uint8_t  pad[3];
    uint64_t callsite; /* present in the file only when the image records call sites */
} rawlog_event_t;

_Static_assert(__builtin_offsetof(rawlog_event_t, callsite) == RAWLOG_EVENT_SIZE,
               "the event layout is the file format");
_Static_assert(sizeof(rawlog_event_t) == RAWLOG_EVENT_SIZE + 8, "no hidden padding");

#endif
