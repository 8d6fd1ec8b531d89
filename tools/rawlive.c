/*
 * rawlive.c -- converting CMD's image while it runs (see rawlive.h).
 *
 * Design:      Each step lists the image's event files (new ones appear as threads take
 *              buffers), reads every file to its current end into that file's pending
 *              bytes, then merges the whole events of all files by seq (the lowest
 *              first, a linear pick: a live image has few files) into the builder, which
 *              hands each op to the trace stream as it is made (nothing keeps it: memory
 *              follows the live set, not the length of the run). With one file (one
 *              thread recorded: the common case) its plain slots go to the builder
 *              straight from the read bytes (raw_build_plain), the rest event by event.
 *              Because every byte a file had at this step is read before the merge, an
 *              event can only be out of order if it reaches its file after a later one
 *              reached another: L1's check catches exactly that.
 * Layout of a file's pending bytes:
 *
 *   buf                  buf + at              buf + len            buf + cap
 *   +--------------------+---------------------+--------------------+
 *   | converted          | read, not converted | room               |
 *   +--------------------+---------------------+--------------------+
 *   [at, len) holds whole slots and at most one cut event at its end (L3); after the
 *   merge the rest (part of an event: less than RAWLOG_EVENT_SLOTS slots) moves to the
 *   front: pending_ok checks that. `dec` is the file's state at `at` (its thread), and
 *   `next` the event at `at` once decoded (`ready`).
 */
#include "rawlive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rawevent.h"
#include "recorder/rawlog.h"

#define LIVE_FILES_MAX 16           /* more event files: converted after the end */
#define LIVE_RATE_NS   20000000ull  /* how long the stamp rate is measured at least */
#define LIVE_READ      ((size_t)1 << 20)
#define LIVE_STEP_MAX  ((size_t)16 << 20)
#define LIVE_PREFETCH  8 /* events ahead whose map slots are fetched (raw_build_prefetch) */

typedef struct live_file {
    char          *path;
    int            fd;
    unsigned char *buf;
    size_t         at, len, cap;
    uint64_t       last_seq; /* of its last converted event (L2) */
    bool           any;
    rawev_file_t   dec;
    rawlog_event_t next;
    size_t         next_len;
    bool           ready;
} live_file_t;

typedef enum live_state { LIVE_WAITING, LIVE_ON, LIVE_OFF } live_state_t;

struct raw_live {
    char          *dir;
    char           prefix[48]; /* "<pid>.0." */
    live_state_t   state;
    const char    *why;
    raw_image_t    img; /* its meta as written at its start */
    uint64_t       pair_ns, pair_tsc; /* this process's (clock, counter) when opened */
    live_file_t    files[LIVE_FILES_MAX];
    size_t         nfiles;
    uint64_t       last_seq; /* of the last converted event (L1) */
    bool           any;
    trace_t        trace;
    raw_build_t   *build;
    trace_stream_t *out;
};

/* ---- Clocks ---- */

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The recorder's "clock tsc" counter (the same on every CPU: the kernel checked); 0
 * where there is none, and there the recorder uses nanoseconds. */
static uint64_t counter(void)
{
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
#else
    return 0;
#endif
}

/* ---- Giving up ---- */

static void give_up(raw_live_t *l, const char *why)
{
    if (l->state == LIVE_OFF)
        return;
    l->state = LIVE_OFF;
    l->why = why;
    raw_build_drop(l->build); /* frees the trace too */
    l->build = NULL;
    trace_stream_drop(l->out);
    l->out = NULL;
    for (size_t i = 0; i < l->nfiles; i++) {
        live_file_t *f = &l->files[i];
        if (f->fd >= 0)
            close(f->fd);
        free(f->buf);
        free(f->path);
        memset(f, 0, sizeof *f);
    }
    l->nfiles = 0;
}

/* ---- Files ---- */

static bool known(const raw_live_t *l, const char *path)
{
    for (size_t i = 0; i < l->nfiles; i++)
        if (!strcmp(l->files[i].path, path))
            return true;
    return false;
}

static bool add_file(raw_live_t *l, const char *name)
{
    size_t n = strlen(l->dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        return false;
    snprintf(path, n, "%s/%s", l->dir, name);
    if (known(l, path)) {
        free(path);
        return true;
    }
    if (l->nfiles == LIVE_FILES_MAX) {
        free(path);
        give_up(l, "too many event files");
        return false;
    }
    live_file_t *f = &l->files[l->nfiles];
    memset(f, 0, sizeof *f);
    f->path = path;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        free(path);
        give_up(l, "an event file could not be opened");
        return false;
    }
    l->nfiles++;
    return true;
}

/* Every "<pid>.0.<b>.ev" there now. False when there is none yet, or it gave up. */
static bool list_files(raw_live_t *l)
{
    DIR *dh = opendir(l->dir);
    if (!dh)
        return false;
    struct dirent *e;
    size_t plen = strlen(l->prefix);
    while ((e = readdir(dh)) != NULL && l->state != LIVE_OFF) {
        size_t n = strlen(e->d_name);
        if (n > plen + 3 && !strncmp(e->d_name, l->prefix, plen) &&
            !strcmp(e->d_name + n - 3, ".ev"))
            add_file(l, e->d_name);
    }
    closedir(dh);
    return l->state != LIVE_OFF && l->nfiles > 0;
}

/* Reads f to its current end, or LIVE_STEP_MAX bytes of it (a reader far behind then
 * reads on at the next step: with several files that may give up early, never wrongly).
 * True when bytes came. */
static bool read_file(raw_live_t *l, live_file_t *f)
{
    bool got = false;
    for (size_t total = 0; total < LIVE_STEP_MAX;) {
        if (f->cap - f->len < LIVE_READ) {
            size_t cap = f->cap ? f->cap * 2 : 2 * LIVE_READ;
            unsigned char *grown = realloc(f->buf, cap);
            if (!grown) {
                give_up(l, "out of memory");
                return false;
            }
            f->buf = grown;
            f->cap = cap;
        }
        ssize_t n = read(f->fd, f->buf + f->len, f->cap - f->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            give_up(l, "an event file could not be read");
            return false;
        }
        if (n == 0)
            return got;
        f->len += (size_t)n;
        total += (size_t)n;
        got = true;
    }
    return got;
}

/* ---- Merging ---- */

/* Decodes f's next event if its bytes hold it all. False when it gave up. */
static inline bool decode(raw_live_t *l, live_file_t *f)
{
    const char *why = NULL;
    size_t used;
    if (f->ready)
        return true;
    if (!f->dec.slot) /* files are listed before the meta is read (start) */
        rawev_init(&f->dec, (size_t)l->img.event_size, l->img.tsc);
    int got = rawev_next(&f->dec, f->buf + f->at, f->len - f->at, &f->next, &used, &why);
    if (got < 0) {
        give_up(l, "an event file is malformed"); /* said again, with why, after the end */
        return false;
    }
    if (got > 0) {
        f->ready = true;
        f->next_len = used;
    } else {
        f->at += used; /* thread slots: read into dec */
    }
    return true;
}

/* The file whose next whole event has the lowest seq, or NULL. */
static live_file_t *lowest(raw_live_t *l)
{
    live_file_t *min = NULL;
    for (size_t i = 0; i < l->nfiles && l->state == LIVE_ON; i++) {
        live_file_t *f = &l->files[i];
        if (decode(l, f) && f->ready && (!min || f->next.seq < min->next.seq))
            min = f;
    }
    return l->state == LIVE_ON ? min : NULL;
}

/* The layout above after a merge: everything whole was converted, so what is left of
 * each file is part of one event, at the front (L3). */
static bool pending_ok(const live_file_t *f, size_t esize)
{
    return f->at == 0 && !f->ready && f->len <= f->cap && f->len < RAWLOG_EVENT_SLOTS * esize &&
           (f->buf || !f->cap);
}

/* Converts f's decoded event, the lowest. False when it gave up. */
static inline bool convert(raw_live_t *l, live_file_t *f, size_t esize)
{
    uint64_t seq = f->next.seq;
    const char *broken = l->any && seq < l->last_seq
                             ? "events arrived out of order" /* L1: a quiet buffer */
                         : f->any && seq <= f->last_seq
                             ? "an event file is out of order" /* L2: said after the end */
                         : raw_build_event(l->build, &f->next, f->path) < 0
                             ? "an event could not be converted"
                             : NULL;
    if (broken) {
        give_up(l, broken);
        return false;
    }
    l->last_seq = f->last_seq = seq;
    l->any = f->any = true;
    f->at += f->next_len;
    f->ready = false;
    size_t left = f->len - f->at;
    if (left >= (LIVE_PREFETCH + RAWLOG_EVENT_SLOTS) * esize) /* all of that event there */
        raw_build_prefetch(l->build, f->buf + f->at + LIVE_PREFETCH * esize,
                           left - LIVE_PREFETCH * esize);
    return true;
}

/* The one file's plain slots from f->at on, fed straight to the builder (rawread.h:
 * raw_build_plain checks R1, R3, R5 as decode and convert would; with one file L1 is
 * L2). What stops it goes through decode and convert. True (it cannot give up). */
static inline bool plain_run(raw_live_t *l, live_file_t *f)
{
    if (f->ready)
        return true;
    if (!f->dec.slot)
        rawev_init(&f->dec, (size_t)l->img.event_size, l->img.tsc);
    f->at += raw_build_plain(l->build, &f->dec, f->buf + f->at, f->len - f->at, f->path,
                             &f->last_seq, &f->any);
    l->last_seq = f->last_seq;
    l->any = f->any;
    return true;
}

static void merge(raw_live_t *l)
{
    size_t esize = (size_t)l->img.event_size;
    live_file_t *f = &l->files[0];
    if (l->nfiles == 1) /* one thread has recorded (the common case): nothing to pick */
        while (plain_run(l, f) && decode(l, f) && f->ready && convert(l, f, esize))
            continue;
    else
        while (l->state == LIVE_ON && (f = lowest(l)) != NULL && convert(l, f, esize))
            continue;
    for (size_t i = 0; i < l->nfiles && l->state == LIVE_ON; i++) {
        f = &l->files[i];
        if (f->at) {
            memmove(f->buf, f->buf + f->at, f->len - f->at);
            f->len -= f->at;
            f->at = 0;
        }
        if (!pending_ok(f, esize))
            give_up(l, "its pending bytes broke L3");
    }
}

/* ---- Starting ---- */

/* The image's meta start is complete once it has an event file (the recorder writes it
 * before it records anything); the stamp rate needs LIVE_RATE_NS since this opened. */
static bool start(raw_live_t *l)
{
    if (!list_files(l))
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s/%smeta", l->dir, l->prefix);
    if (!l->img.event_size && raw_meta_read(&l->img, path) < 0) {
        give_up(l, "its meta file could not be read");
        return false;
    }
    double ns_per_tick = 0;
    if (l->img.tsc) {
        uint64_t ns = clock_ns(), tsc = counter();
        if (ns - l->pair_ns < LIVE_RATE_NS)
            return false;
        if (tsc <= l->pair_tsc) {
            give_up(l, "no time stamp counter here");
            return false;
        }
        ns_per_tick = (double)(ns - l->pair_ns) / (double)(tsc - l->pair_tsc);
    }
    l->out = trace_stream_open(TRACE_GZIP_FAST);
    l->build = l->out ? raw_build_open(&l->img, &l->trace, ns_per_tick, l->out) : NULL;
    if (!l->build) {
        give_up(l, "out of memory");
        return false;
    }
    l->state = LIVE_ON;
    return true;
}

/* ---- Public ---- */

raw_live_t *raw_live_open(const char *dir, uint64_t pid)
{
    raw_live_t *l = calloc(1, sizeof *l);
    if (!l || !(l->dir = strdup(dir))) {
        free(l);
        return NULL;
    }
    snprintf(l->prefix, sizeof l->prefix, "%llu.0.", (unsigned long long)pid);
    l->why = "";
    l->pair_ns = clock_ns();
    l->pair_tsc = counter();
    return l;
}

bool raw_live_step(raw_live_t *l)
{
    if (l->state == LIVE_WAITING && !start(l))
        return false;
    if (l->state != LIVE_ON || !list_files(l))
        return false;
    bool got = false;
    for (size_t i = 0; i < l->nfiles && l->state == LIVE_ON; i++)
        got |= read_file(l, &l->files[i]);
    if (!got || l->state != LIVE_ON)
        return false;
    merge(l);
    return true;
}

bool raw_live_follows(const raw_live_t *l, const raw_image_t *img)
{
    size_t n = strlen(l->prefix) - 1; /* without its last '.' */
    return strlen(img->name) == n && !strncmp(img->name, l->prefix, n);
}

bool raw_live_on(const raw_live_t *l) { return l->state != LIVE_OFF; }

int raw_live_finish(raw_live_t *l, const raw_dir_t *d, size_t i, trace_t *out,
                    raw_summary_t *sum)
{
    if (!raw_live_follows(l, &d->images[i]))
        return 1;
    while (raw_live_step(l)) /* what came since the last step: CMD has ended */
        continue;
    if (l->state == LIVE_WAITING)
        give_up(l, "the program ended before it started");
    for (size_t k = 0; k < l->nfiles && l->state == LIVE_ON; k++)
        if (l->files[k].len)
            give_up(l, "an event file ends with a cut event");
    if (l->state == LIVE_ON && l->nfiles != d->images[i].ev_count)
        give_up(l, "the event files changed");
    if (l->state != LIVE_ON)
        return 1;
    int status = raw_build_finish(l->build, d, i, sum); /* frees the builder */
    l->build = NULL;
    *out = l->trace;
    memset(&l->trace, 0, sizeof l->trace);
    if (status < 0) {
        trace_stream_drop(l->out);
        l->out = NULL;
        l->state = LIVE_OFF;
        l->why = "failed";
    }
    return status;
}

int raw_live_write(raw_live_t *l, const trace_t *t, const char *path, uint64_t *peak)
{
    int status = trace_stream_close(l->out, t, path, peak);
    l->out = NULL;
    return status;
}

const char *raw_live_why(const raw_live_t *l) { return l->why; }

void raw_live_close(raw_live_t *l)
{
    if (!l)
        return;
    give_up(l, l->why);
    raw_image_free(&l->img);
    free(l->dir);
    free(l);
}
