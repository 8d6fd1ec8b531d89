/*
 * rawlog.h -- the raw log the recorder library writes while a program runs, and which
 *             `heapkit record` turns into a heapkit-trace (tools/rawread.c after the end,
 *             tools/rawlive.c while it runs; both decode slots with tools/rawevent.h).
 *
 * Design:      The recorder must cost little and survive anything, so it writes the
 *              cheapest thing that can be ordered later: fixed-size binary slots, with
 *              write(2), each thread into the event file of the buffer it holds (no lock
 *              between threads, no interleaving within a file). All interpretation
 *              (global order, address -> id, call sites -> symbols, compression) happens
 *              in the heapkit process. Both sides include this header; it is the whole
 *              contract between them.
 *
 * Files in $HEAPKIT_RECORD_DIR, per process image (a process, and again after each
 * exec, which keeps the pid but replaces the heap):
 *
 *   <pid>.<k>.meta        text: "key value" lines (below), k = 0, 1, ... the k-th image
 *                         of that pid, taken with O_EXCL so an exec'd image never
 *                         overwrites the image before it
 *   <pid>.<k>.<b>.ev      slots of buffer b of that image, back to back
 *
 * Meta keys, written at start:  heapkit-raw 2 | pid N | ppid N | image K | event-size N
 *   | callsites 0/1 | exe PATH | cmdline TEXT | clock tsc|ns | start-ns N | start-tsc N
 *   | forked-from PID.K | fork-seq N
 * whenever a buffer fills (clock tsc):  tick NS COUNT
 * and at the end (exit, fatal signal, exec):  end-ns N | end-tsc N | ended TEXT
 *   | events N | dropped N | maps-begin ... /proc/self/maps ... maps-end (call sites only)
 * A key may appear twice when an exec failed and the image ran on: the last one counts.
 * event-size is the slot size. Version 1 wrote one 48-byte event per call (seq, time,
 * addr, size, aux, thread, op); version 2 halves that, because the kernel's copy of the
 * log into the page cache was most of what a recorded call cost: with "clock tsc" the
 * time is the seq, the thread is said once per buffer fill, and what rarely fits (a
 * realloc's old block, a size of 4 GiB or more, the nanoseconds of the counter clock)
 * takes a second slot only when needed.
 *
 * Slots (little-endian, RAWLOG_EVENT_SIZE bytes, + 8 with call sites):
 *
 *   event slot                                           wide slot (after RAWLOG_WIDE)
 *   0        8        16     20  21  22  24        32    0        8        16       24
 *   +--------+--------+------+---+---+---+---------+     +--------+--------+--------+
 *   | seq    | addr   | size |op |ash|pad|callsite |     | size   | aux    | time   |
 *   +--------+--------+------+---+---+---+---------+     +--------+--------+--------+
 *   seq:    the order of the calls across threads: with "clock tsc" the time stamp
 *           counter (rdtsc, where the kernel keeps time with it: constant and synchronized
 *           across CPUs), else a process-wide counter, one per call. A free takes it
 *           before the block is released, an allocation after it is obtained, so a block
 *           another thread frees and gets back is never out of order. "clock tsc" while
 *           the image has had one recording thread: the counter is read every
 *           RAWLOG_SYNC-th call, and the calls in between count on from it by one. Such
 *           a stamp never exceeds the counter at its call (a call takes far more than one
 *           count), so a call of another thread after it stamps higher; the second
 *           thread switches every thread to a read per call before it stamps (log.c).
 *   addr:   the block returned (allocations, realloc), or the pointer freed.
 *   size:   the request in bytes (calloc: count * size, pvalloc: rounded to a page) when
 *           below RAWLOG_SIZE_WIDE; else RAWLOG_SIZE_WIDE, and the wide slot holds it.
 *   op:     bits 0-6 a rawlog_op_t; bit 7 (RAWLOG_WIDE): the next slot is its wide slot.
 *   ash:    RAWLOG_ALIGNED: log2 of the alignment the block got (its "aux"); else 0.
 *   callsite: the return address of the call (with call sites only).
 *   wide slot: size (all 64 bits), aux (RAWLOG_REALLOC: the old pointer), time ("clock
 *           ns": CLOCK_MONOTONIC nanoseconds when the call returned; else 0); with call
 *           sites 8 more bytes, 0.
 *   RAWLOG_THREAD slot: seq 0, addr: the recorder's thread number (0, 1, ... in order of
 *           first call) of the events after it in the file, up to the next such slot;
 *           size, ash, callsite 0. It is no event: it has no place in the order.
 * Time: "clock tsc": seq, which the meta file's start-/end-/tick pairs of (CLOCK_MONOTONIC
 * ns, count) turn into nanoseconds (to within RAWLOG_SYNC calls while one thread records);
 * "clock ns": the wide slot's.
 *
 * Invariants (what the recorder guarantees; rawevent.c rejects a log breaking R1, R3 or
 * R5, and addrtrace.h repairs R4):
 *   R1 within one event file, the seq of the events (RAWLOG_THREAD slots aside) strictly
 *      increases
 *   R2 with the counter clock, seq is unique across the files of one image (time stamps
 *      of two CPUs may tie: tied events of different files are merged in either order)
 *   R3 op & ~RAWLOG_WIDE is a rawlog_op_t; RAWLOG_ALIGNED has ash < 64; RAWLOG_REALLOC,
 *      a size of RAWLOG_SIZE_WIDE and, with "clock ns", every event have RAWLOG_WIDE;
 *      RAWLOG_THREAD never has it
 *   R4 a RAWLOG_REALLOC_BEGIN (the old block released, seq taken before the call) is
 *      followed on its thread by the RAWLOG_REALLOC of the same call, whose aux is its
 *      addr, before any other event of that thread
 *   R5 a file starts with a RAWLOG_THREAD slot (so does each fill of a buffer: one thread
 *      fills it between two resets); a wide slot directly follows its event slot in the
 *      same write, so only a process killed in a write cuts a file's last event short
 */
#ifndef HK_RAWLOG_H
#define HK_RAWLOG_H

#include <stdint.h>

#define RAWLOG_VERSION    2
#define RAWLOG_EVENT_SIZE 24 /* a slot without call sites; 32 with */
#define RAWLOG_WIDE       0x80u
#define RAWLOG_SIZE_WIDE  0xffffffffu
#define RAWLOG_SYNC       16 /* one thread: a counter read per this many calls */

typedef enum rawlog_op {
    RAWLOG_MALLOC = 1,        /* malloc, realloc(NULL, n), operator new through malloc */
    RAWLOG_CALLOC = 2,        /* calloc */
    RAWLOG_ALIGNED = 3,       /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
    RAWLOG_REALLOC = 4,       /* realloc(p, n) that succeeded, in place or moved */
    RAWLOG_FREE = 5,          /* free, free_sized, free_aligned_sized, realloc(p, 0) */
    RAWLOG_REALLOC_BEGIN = 6, /* a realloc that moved: when its old block was released */
    RAWLOG_THREAD = 7,        /* not a call: the thread of the slots after it */
} rawlog_op_t;

typedef struct rawlog_slot {
    uint64_t seq;
    uint64_t addr;
    uint32_t size;
    uint8_t  op;
    uint8_t  align_shift;
    uint8_t  pad[2];
    uint64_t callsite; /* present in the file only when the image records call sites */
} rawlog_slot_t;

typedef struct rawlog_wide {
    uint64_t size;
    uint64_t aux;
    uint64_t time;
    uint64_t pad; /* present in the file only when the image records call sites */
} rawlog_wide_t;

_Static_assert(__builtin_offsetof(rawlog_slot_t, callsite) == RAWLOG_EVENT_SIZE,
               "the slot layout is the file format");
_Static_assert(sizeof(rawlog_slot_t) == RAWLOG_EVENT_SIZE + 8, "no hidden padding");
_Static_assert(__builtin_offsetof(rawlog_wide_t, pad) == RAWLOG_EVENT_SIZE &&
                   sizeof(rawlog_wide_t) == sizeof(rawlog_slot_t),
               "a wide slot is a slot");

/* One call as the readers see it, slots decoded (tools/rawevent.h). */
typedef struct rawlog_event {
    uint64_t seq;
    uint64_t time; /* "clock tsc": the seq; "clock ns": nanoseconds */
    uint64_t addr;
    uint64_t size;
    uint64_t aux; /* RAWLOG_ALIGNED: the alignment; RAWLOG_REALLOC: the old pointer */
    uint32_t thread;
    uint8_t  op;
    uint64_t callsite;
} rawlog_event_t;

#endif
