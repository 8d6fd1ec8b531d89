/*
 * play.h -- the player's state and the contract between its files (tools/play/).
 *
 * Design:      heapkit-play replays one play file (playfile.h) on whatever malloc the
 *              process has (heapkit replay --peer runs it with LD_PRELOAD) and reports
 *              time and resident memory. Everything it owns is mapped with mmap and
 *              touched before the baseline is taken (own.c), so its own memory is a
 *              constant inside the baseline, and nothing it does between the baseline
 *              and the end calls malloc except the ops it plays (and pthread_create,
 *              as the recorded program did, with --threads recorded).
 *
 *                file            what
 *                player.c        main: arguments, setup, measuring, the result line
 *                own.c           the player's own memory: mapped, touched, read(2)
 *                plan.c          --threads recorded: who plays which op, what waits for what
 *                ops.c           the op loop (play_thread_ops, callgrind's toggle) and checks
 *                threads.c       starting, joining, waiting (futex) and signalling
 *                rss.c           VmRSS / VmHWM and the high-water reset
 *                out.c           the result line, written without malloc
 *
 * The block table (one play_slot_t per id):
 *
 *   slot -> +--------------------------------+
 *           | p: the block (NULL: dead, or   |
 *           |    a size-0 block given NULL)  |
 *           | size_tag: size | tag << 56     |   size <= 2^40, so the top byte is free
 *           +--------------------------------+
 *
 * What the player writes in a block of `size` bytes: the tag byte at offsets 0, 4096,
 * 8192, ... below size, and at size - 1 (one byte per 4 KiB page it spans, so its pages
 * are resident as in a program that uses its memory). The tag is derived from the id and
 * the op that made the block, never 0.
 *   B1 a live block's written bytes hold its tag (verified before free and realloc, and
 *      for the blocks still live at the end)
 *   B2 a calloc block reads 0 at those offsets before the player writes them
 *   B3 a realloc keeps the written bytes below min(old size, new size)
 *   B4 a block is aligned to its op's alignment ('m'), else to the largest power of two
 *      <= its size, capped at 16 (what malloc owes an object of that size)
 * Breaking any is a "fail" line naming the op; so is NULL for a size > 0.
 *
 * Concurrency: with --threads recorded, trace thread t is played by its own thread
 * (thread 0 by the main thread); done[] words publish ops other threads wait for
 * (threads.c). A block's slot is handed over with its op's done word (release/acquire).
 */
#ifndef HK_PLAY_H
#define HK_PLAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "playfile.h"

#define PLAY_NONE       UINT32_MAX
#define PLAY_PAGE       4096u
#define PLAY_TAG_SHIFT  56
#define PLAY_SIZE_MASK  (((uint64_t)1 << PLAY_TAG_SHIFT) - 1)
/* Thread stacks: mapped and touched up front; threads live at once are capped. */
#define PLAY_STACK_SIZE ((size_t)256 << 10)
#define PLAY_MAX_LIVE_THREADS 256u

/* done[] word states (threads.c). */
enum { DONE_UNWATCHED = 0, DONE_PENDING = 1, DONE_WAITED = 2, DONE_DONE = 3 };

typedef struct play_slot {
    unsigned char *p;
    uint64_t       size_tag;
} play_slot_t;

/* One trace thread (64-byte aligned array: each thread writes its own line only). */
typedef struct play_thread {
    uint32_t first, last;  /* global op index of its first and last op (PLAY_NONE: no ops) */
    uint32_t start, count; /* its ops are order[start .. start + count) */
    volatile uint32_t current; /* 1 + the op it is playing; 0 before its first, after its last */
    volatile uint32_t waiting; /* 1 + the op it waits for, 0 when not waiting */
    uint32_t index;        /* its trace thread number */
    uint32_t stack;        /* stack in use (PLAY_NONE: none, or the main thread) */
    bool     running;      /* started and not yet joined */
    pthread_t handle;
    struct play *pl;
} __attribute__((aligned(64))) play_thread_t;

typedef struct play {
    const playfile_header_t *hdr;
    const playfile_op_t     *ops;
    const uint32_t          *thread_of; /* thread of each op; NULL: all on thread 0 */
    uint32_t                 num_ops;
    play_slot_t             *slots;     /* num_ids */
    bool                     recorded;  /* --threads recorded, with several threads */
    /* --threads recorded only (plan.c): */
    uint32_t         *order;     /* op indices grouped by thread, each group in op order */
    uint32_t         *wait;      /* per op: the op it waits for (another thread's), or NONE */
    _Atomic uint32_t *done;      /* per op: DONE_* */
    play_thread_t    *threads;   /* num_threads; threads[0] is the main thread's */
    uint32_t         *spawn;     /* threads other than 0 that have ops, by first op */
    uint32_t          num_spawn, next_spawn;
    uint32_t          spawn_due; /* first op of spawn[next_spawn] (PLAY_NONE: none left) */
    unsigned char    *stacks;    /* num_stacks * (PLAY_STACK_SIZE + guard page) */
    uint32_t          num_stacks;
    uint32_t         *free_stacks, num_free_stacks;
    uint32_t         *live, num_live; /* threads started and not yet joined */
} play_t;

/* ---- own.c ---- */
/* A private anonymous mapping of n bytes, every page touched; NULL on failure. */
void *play_map(size_t n);
/* Reads the whole file into a fresh mapping; *len is its size. NULL with errno set. */
void *play_read_file(const char *path, uint64_t *len);
/* Makes every page of every loaded object resident (the player, libc, the allocator). */
void play_touch_image(void);

/* ---- plan.c ---- */
/* Builds the --threads recorded plan of a checked file. Returns NULL or a message. */
const char *play_plan(play_t *pl);

/* ---- ops.c ---- */
/* Plays the ops of th (all ops, with no plan): the loop callgrind collects. */
void play_thread_ops(play_t *pl, play_thread_t *th);
/* Verifies B1 for every block still live at the end (a fail line if one broke). */
void play_verify_survivors(play_t *pl);

/* ---- threads.c ---- */
/* Starts every thread whose first op is before op `before` (PLAY_NONE: all left),
 * each once the op before its first is done. */
void play_spawn_due(play_t *pl, uint32_t before);
void play_join_all(play_t *pl);
void play_wait_op(play_t *pl, uint32_t op);
void play_signal_op(play_t *pl, uint32_t op);

/* ---- rss.c ---- */
/* Resident and high-water bytes of this process; -1 when /proc cannot be read. */
int play_rss(uint64_t *rss, uint64_t *hwm);
/* Resets the high-water mark to the current RSS; 0, or -1 when the kernel refused. */
int play_reset_hwm(void);

/* ---- out.c ---- */
/* The op each thread plays, for the crash and timeout reports (ops.c sets it). */
extern _Thread_local play_thread_t *play_self;
/* Writes "fail op=N <message>" (N 1-based, 0: not at an op) once, and exits 1. Any
 * thread may call it; the first caller's line wins. */
_Noreturn void play_fail(uint32_t op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes "error <message>" on stdout and "heapkit-play: <message>" on stderr, exits 2. */
_Noreturn void play_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes a whole line to stdout (write(2), retried). */
void play_write_line(const char *line);
/* Installs the crash handlers and the timeout alarm's handler (out.c). */
void play_install_handlers(play_t *pl);

#endif
