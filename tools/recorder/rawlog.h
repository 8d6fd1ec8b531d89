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
 * Meta keys, written at start:  heapkit-raw 3 | pid N | ppid N | image K | event-size N
 *   | callsites 0/1 | exe PATH | cmdline TEXT | clock tsc|ns | start-ns N | start-tsc N
 *   | forked-from PID.K | fork-seq N
 * whenever a buffer fills (clock tsc):  tick NS COUNT
 * and at the end (exit, fatal signal, exec):  end-ns N | end-tsc N | ended TEXT
 *   | events N | dropped N | maps-begin ... /proc/self/maps ... maps-end (call sites only)
 * A key may appear twice when an exec failed and the image ran on: the last one counts.
 * event-size is the slot size. Version 1 wrote one 48-byte event per call; version 2 24
 * bytes (the time is the seq with "clock tsc", the thread said once per buffer fill, what
 * rarely fits in a second slot); version 3 16, because the kernel's copy of the log into
 * the page cache, and the cache the log takes from the program, grow with its bytes: the
 * seq is a 32-bit step from the event before it in the file, the address 48 bits (all a
 * user-space pointer has on x86-64 and arm64 with 4-level tables), what does not fit
 * takes another slot only when needed.
 *
 * Slots (little-endian, RAWLOG_EVENT_SIZE bytes, + 8 with call sites):
 *
 *   event slot                              thread slot (op RAWLOG_THREAD)
 *   0      4      8            14  15  16        24  0        8      12   14  15  16
 *   +------+------+------------+---+---+---------+   +--------+------+----+---+---+
 *   | dseq | size | addr (48)  |op |ash|callsite |   | base   |thread| 0  |op | 0 |
 *   +------+------+------------+---+---+---------+   +--------+------+----+---+---+
 *   wide slot (after RAWLOG_WIDE)           far slot (after RAWLOG_FAR; after the wide
 *   0        8        16                    0        8        16       slot if both)
 *   +--------+--------+                     +--------+--------+
 *   | size   | aux    |                     | addr   | time   |
 *   +--------+--------+                     +--------+--------+
 *   seq:    dseq + the file's base: the seq of the file's event before it, or of the last
 *           thread slot if that came after it. It is the order of the calls across
 *           threads: with "clock tsc" the time stamp counter (rdtsc, where the kernel
 *           keeps time with it: constant and synchronized across CPUs), else a
 *           process-wide counter, one per call. A free takes it before the block is
 *           released, an allocation after it is obtained, so a block another thread frees
 *           and gets back is never out of order. "clock tsc" while the image has had one
 *           recording thread: the counter is read every RAWLOG_SYNC-th call, and the
 *           calls in between count on from it by one. Such a stamp never exceeds the
 *           counter at its call (a call takes far more than one count), so a call of
 *           another thread after it stamps higher; the second thread switches every
 *           thread to a read per call before it stamps (log.c).
 *   size:   the request in bytes (calloc: count * size, pvalloc: rounded to a page) when
 *           below RAWLOG_SIZE_WIDE; else RAWLOG_SIZE_WIDE, and the wide slot holds it.
 *   addr:   the block returned (allocations, realloc), or the pointer freed: its low 48
 *           bits; the far slot has all 64 when it has more.
 *   op:     bits 0-5 a rawlog_op_t; bit 7 (RAWLOG_WIDE): a wide slot follows; bit 6
 *           (RAWLOG_FAR): a far slot follows (after the wide slot if there is one).
 *   ash:    RAWLOG_ALIGNED: log2 of the alignment the block got (its "aux"); else 0.
 *   callsite: the return address of the call (with call sites only; 0 in the other
 *           kinds of slot).
 *   wide slot: size (all 64 bits), aux (RAWLOG_REALLOC: the old pointer).
 *   far slot: addr (all 64 bits), time ("clock ns": CLOCK_MONOTONIC nanoseconds when the
 *           call returned; else 0).
 *   thread slot: the recorder's thread number (0, 1, ... in order of first call) of the
 *           events after it in the file, up to the next thread slot, and the base of the
 *           next event's dseq. It starts every buffer fill, and comes again within one
 *           when a step does not fit dseq's 32 bits (> 1.6 s at 2.6 GHz). It is no
 *           event: it has no place in the order.
 * Time: "clock tsc": seq, which the meta file's start-/end-/tick pairs of (CLOCK_MONOTONIC
 * ns, count) turn into nanoseconds (to within RAWLOG_SYNC calls while one thread records);
 * "clock ns": the far slot's.
 *
 * Invariants (what the recorder guarantees; rawevent.c rejects a log breaking R3 or R5,
 * its callers one breaking R1, and addrtrace.h repairs R4):
 *   R1 within one event file, the seq of the events (thread slots aside) strictly
 *      increases
 *   R2 with the counter clock, seq is unique across the files of one image (time stamps
 *      of two CPUs may tie: tied events of different files are merged in either order)
 *   R3 op & RAWLOG_OP_MASK is a rawlog_op_t; RAWLOG_ALIGNED has ash < 64; RAWLOG_REALLOC
 *      and a size of RAWLOG_SIZE_WIDE have RAWLOG_WIDE, the wide slot's size agrees with
 *      a size below it; an address of 2^48 or more and, with "clock ns", every event
 *      have RAWLOG_FAR, and the far slot's address agrees with the 48 bits; a thread
 *      slot has no flag, a thread below 2^32 and zeros where the diagram has them
 *   R4 a RAWLOG_REALLOC_BEGIN (the old block released, seq taken before the call) is
 *      followed on its thread by the RAWLOG_REALLOC of the same call, whose aux is its
 *      addr, before any other event of that thread
 *   R5 a file starts with a thread slot (so does each fill of a buffer: one thread fills
 *      it between two resets); the slots of one event (a thread slot it needs before
 *      it, the event slot, its wide and far slots) are appended in one step, so only a
 *      process killed in a write cuts a file's last event short
 */
#ifndef HK_RAWLOG_H
#define HK_RAWLOG_H

#include <stdint.h>

#define RAWLOG_VERSION    3
#define RAWLOG_EVENT_SIZE 16 /* a slot without call sites; 24 with */
#define RAWLOG_WIDE       0x80u
#define RAWLOG_FAR        0x40u
#define RAWLOG_OP_MASK    0x3fu
#define RAWLOG_SIZE_WIDE  0xffffffffu
#define RAWLOG_ADDR_BITS  48
#define RAWLOG_ADDR_MASK  (((uint64_t)1 << RAWLOG_ADDR_BITS) - 1)
#define RAWLOG_SYNC       16 /* one thread: a counter read per this many calls */
#define RAWLOG_EVENT_SLOTS 3 /* the most slots one event takes: event, wide, far */

typedef enum rawlog_op {
    RAWLOG_MALLOC = 1,        /* malloc, realloc(NULL, n), operator new through malloc */
    RAWLOG_CALLOC = 2,        /* calloc */
    RAWLOG_ALIGNED = 3,       /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
    RAWLOG_REALLOC = 4,       /* realloc(p, n) that succeeded, in place or moved */
    RAWLOG_FREE = 5,          /* free, free_sized, free_aligned_sized, realloc(p, 0) */
    RAWLOG_REALLOC_BEGIN = 6, /* a realloc that moved: when its old block was released */
    RAWLOG_THREAD = 7,        /* not a call: the thread of the slots after it */
} rawlog_op_t;

/* Every kind of slot is two 64-bit words (+ the call site word with call sites); the
 * event and thread slots keep op in bits 48-55 of the second, so a reader tells them
 * apart there. */
typedef struct rawlog_slot {
    uint64_t lo;       /* event: dseq | size << 32; thread: base; wide: size; far: addr */
    uint64_t hi;       /* event: addr | op << 48 | ash << 56; thread: thread | op << 48;
                          wide: aux; far: time */
    uint64_t callsite; /* present in the file only when the image records call sites */
} rawlog_slot_t;

_Static_assert(__builtin_offsetof(rawlog_slot_t, callsite) == RAWLOG_EVENT_SIZE,
               "the slot layout is the file format");
_Static_assert(sizeof(rawlog_slot_t) == RAWLOG_EVENT_SIZE + 8, "no hidden padding");

static inline uint32_t rawlog_dseq(const rawlog_slot_t *s) { return (uint32_t)s->lo; }
static inline uint32_t rawlog_size(const rawlog_slot_t *s) { return (uint32_t)(s->lo >> 32); }
static inline uint64_t rawlog_addr(const rawlog_slot_t *s) { return s->hi & RAWLOG_ADDR_MASK; }
static inline unsigned rawlog_op(const rawlog_slot_t *s) { return (unsigned)(s->hi >> 48) & 0xffu; }
static inline unsigned rawlog_ash(const rawlog_slot_t *s) { return (unsigned)(s->hi >> 56); }

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
