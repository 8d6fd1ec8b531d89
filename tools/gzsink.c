/*
 * gzsink.c -- plain or gzip output, compressed in parallel (see gzsink.h).
 *
 * Design:      One mutex and one condition guard the ring. The caller takes slot
 *              `head` once it is FREE, writing DONE slots from `tail` while it waits (so
 *              output leaves in order, S1, and memory stays at `slots` blocks, S2);
 *              workers take the oldest FILLED slot. Workers: one per CPU, at most 4.
 *              Plain output has no threads: a block is written when committed; so is a
 *              compressed one, deflated first, when no worker thread could be started.
 *              Deflate is libdeflate's (whole-buffer, which a block is): at level 1 it
 *              takes a third of zlib's time and writes ~7% less.
 */
#include "gzsink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <unistd.h>

#define MAX_WORKERS 4
#define SLOTS       (MAX_WORKERS + 2)

typedef enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_BUSY, SLOT_DONE } slot_state_t;

typedef struct slot {
    slot_state_t   state;
    unsigned char *in, *out;
    size_t         in_len, out_len, out_cap;
    bool           ok;
} slot_t;

struct gzsink {
    int             fd;   /* -1: a held sink, output kept in `held` */
    unsigned char  *held;
    size_t          held_len, held_cap;
    const char     *path;
    int             level;
    slot_t          slot[SLOTS];
    unsigned        head, tail; /* next to fill, next to write (counters, mod SLOTS) */
    pthread_t       worker[MAX_WORKERS];
    unsigned        workers;
    struct libdeflate_compressor *inline_deflater; /* no workers: the caller's */
    pthread_mutex_t lock;
    pthread_cond_t  changed;
    bool            closing;
    bool            failed;
    int             error; /* errno of the first failed write */
};

/* ---- Output ---- */

/* A held sink's output grows in memory (doubling). */
static void hold(gzsink_t *s, const unsigned char *p, size_t n)
{
    if (s->held_len + n > s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap : GZSINK_BLOCK;
        while (cap < s->held_len + n)
            cap *= 2;
        unsigned char *grown = realloc(s->held, cap);
        if (!grown) {
            s->failed = true;
            s->error = ENOMEM;
            return;
        }
        s->held = grown;
        s->held_cap = cap;
    }
    memcpy(s->held + s->held_len, p, n);
    s->held_len += n;
}

static void write_all(gzsink_t *s, const unsigned char *p, size_t n)
{
    if (s->fd < 0 && !s->failed)
        hold(s, p, n);
    if (s->fd < 0)
        return;
    while (n > 0 && !s->failed) {
        ssize_t done = write(s->fd, p, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0) {
            s->failed = true;
            s->error = done < 0 ? errno : EIO;
            return;
        }
        p += done;
        n -= (size_t)done;
    }
}

/* ---- Workers ---- */

/* One gzip member of the block. */
static bool compress_block(struct libdeflate_compressor *d, slot_t *sl)
{
    if (!d)
        return false;
    sl->out_len = libdeflate_gzip_compress(d, sl->in, sl->in_len, sl->out, sl->out_cap);
    return sl->out_len > 0;
}

/* The oldest FILLED slot, or NULL. Caller holds the lock. */
static slot_t *oldest_filled(gzsink_t *s)
{
    for (unsigned i = s->tail; i != s->head; i++)
        if (s->slot[i % SLOTS].state == SLOT_FILLED)
            return &s->slot[i % SLOTS];
    return NULL;
}

static void *worker_main(void *arg)
{
    gzsink_t *s = arg;
    struct libdeflate_compressor *d = libdeflate_alloc_compressor(s->level);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        slot_t *sl;
        while (!(sl = oldest_filled(s)) && !s->closing)
            pthread_cond_wait(&s->changed, &s->lock);
        if (!sl)
            break;
        sl->state = SLOT_BUSY;
        pthread_mutex_unlock(&s->lock);
        bool ok = compress_block(d, sl);
        pthread_mutex_lock(&s->lock);
        sl->ok = ok;
        sl->state = SLOT_DONE;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    libdeflate_free_compressor(d);
    return NULL;
}

/* ---- The caller's side ---- */

/* Writes the slot at tail once done. Caller holds the lock; returns false when the tail
 * slot is not done yet (or there is none). */
static bool write_tail(gzsink_t *s)
{
    if (s->tail == s->head)
        return false;
    slot_t *sl = &s->slot[s->tail % SLOTS];
    if (sl->state != SLOT_DONE)
        return false;
    pthread_mutex_unlock(&s->lock); /* workers go on while we write */
    if (!sl->ok)
        s->failed = true;
    else
        write_all(s, sl->out, sl->out_len);
    pthread_mutex_lock(&s->lock);
    sl->state = SLOT_FREE;
    s->tail++;
    return true;
}

char *gzsink_block(gzsink_t *s)
{
    if (s->workers == 0) /* plain, or no thread could start: one slot, written in place */
        return (char *)s->slot[0].in;
    pthread_mutex_lock(&s->lock);
    while (s->head - s->tail == SLOTS) /* every slot in flight: free the oldest */
        if (!write_tail(s))
            pthread_cond_wait(&s->changed, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return (char *)s->slot[s->head % SLOTS].in;
}

void gzsink_commit(gzsink_t *s, size_t len)
{
    if (s->workers == 0) {
        slot_t *sl = &s->slot[0];
        if (!s->level) {
            write_all(s, sl->in, len);
        } else {
            sl->in_len = len;
            if (compress_block(s->inline_deflater, sl))
                write_all(s, sl->out, sl->out_len);
            else
                s->failed = true;
        }
        return;
    }
    pthread_mutex_lock(&s->lock);
    slot_t *sl = &s->slot[s->head % SLOTS];
    sl->in_len = len;
    sl->state = SLOT_FILLED;
    s->head++;
    pthread_cond_broadcast(&s->changed);
    while (write_tail(s)) /* whatever is done already leaves now */
        continue;
    pthread_mutex_unlock(&s->lock);
}

/* ---- Open and close ---- */

static void free_slots(gzsink_t *s)
{
    for (unsigned i = 0; i < SLOTS; i++) {
        free(s->slot[i].in);
        free(s->slot[i].out);
    }
}

static bool alloc_slots(gzsink_t *s, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        slot_t *sl = &s->slot[i];
        sl->in = malloc(GZSINK_BLOCK);
        sl->out_cap = s->level ? libdeflate_gzip_compress_bound(NULL, GZSINK_BLOCK) : 0;
        sl->out = s->level ? malloc(sl->out_cap) : NULL;
        if (!sl->in || (s->level && !sl->out))
            return false;
    }
    return true;
}

static unsigned worker_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (unsigned)cpus;
}

/* path NULL: a held sink. */
static gzsink_t *sink_open(const char *path, int level)
{
    const char *name = path ? path : "the trace being built";
    gzsink_t *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "heapkit: %s: out of memory\n", name);
        return NULL;
    }
    s->path = name;
    s->level = level < 0 ? 0 : level > 9 ? 9 : level;
    if (!alloc_slots(s, s->level ? SLOTS : 1)) {
        fprintf(stderr, "heapkit: %s: out of memory\n", name);
        free_slots(s);
        free(s);
        return NULL;
    }
    s->fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (path && s->fd < 0) {
        fprintf(stderr, "heapkit: %s: cannot create: %s\n", path, strerror(errno));
        free_slots(s);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    if (s->level)
        for (unsigned n = worker_count(); s->workers < n; s->workers++)
            if (pthread_create(&s->worker[s->workers], NULL, worker_main, s) != 0)
                break;
    if (s->level && !s->workers)
        s->inline_deflater = libdeflate_alloc_compressor(s->level);
    return s; /* with no worker (none could start), commit compresses in place, in order */
}

gzsink_t *gzsink_open(const char *path, int level) { return sink_open(path, level); }

gzsink_t *gzsink_open_held(int level) { return sink_open(NULL, level); }

/* Waits until every committed block is written (S1). */
static void drain(gzsink_t *s)
{
    if (!s->workers)
        return;
    pthread_mutex_lock(&s->lock);
    while (s->tail != s->head)
        if (!write_tail(s))
            pthread_cond_wait(&s->changed, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

int gzsink_splice(gzsink_t *s, gzsink_t *held)
{
    drain(s);
    drain(held);
    if (held->failed) {
        s->failed = true;
        s->error = held->error;
    }
    write_all(s, held->held, held->held_len);
    held->failed = false; /* said once, by s */
    gzsink_close(held);
    return s->failed ? -1 : 0;
}

int gzsink_close(gzsink_t *s)
{
    drain(s);
    if (s->workers) {
        pthread_mutex_lock(&s->lock);
        s->closing = true;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        for (unsigned i = 0; i < s->workers; i++)
            pthread_join(s->worker[i], NULL);
    }
    if (s->fd >= 0 && close(s->fd) != 0 && !s->failed) {
        s->failed = true;
        s->error = errno;
    }
    int status = s->failed ? -1 : 0;
    if (s->failed)
        fprintf(stderr, "heapkit: %s: cannot write: %s\n", s->path,
                s->error ? strerror(s->error) : "compression failed");
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    libdeflate_free_compressor(s->inline_deflater);
    free(s->held);
    free_slots(s);
    free(s);
    return status;
}
