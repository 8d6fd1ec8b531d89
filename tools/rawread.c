/*
 * rawread.c -- a recording directory into traces (see rawread.h and rawlog.h).
 *
 * Design:      Meta files are read with lines.h (so a damaged one is reported at its
 *              line); event files are mapped read-only and merged with a small binary
 *              heap of cursors keyed by seq, so memory stays O(files) beyond the trace
 *              itself, however long the recording. Every event is checked against R1-R4
 *              as it is merged. A last event cut short (a process killed in the middle of
 *              a write) is dropped with a note; anything else malformed is an error.
 * Complexity:  O(events log files).
 */
#include "rawread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addrtrace.h"
#include "rawevent.h"
#include "lines.h"
#include "recorder/rawlog.h"
#include "symbolize.h"

/* ---- Meta files ---- */

static char *dup_or_die(const char *s, bool *ok)
{
    char *c = strdup(s);
    if (!c)
        *ok = false;
    return c;
}

static void set_text(char **field, const char *value, bool *ok)
{
    free(*field);
    *field = dup_or_die(value, ok);
}

static bool append_maps(raw_image_t *img, const char *line)
{
    size_t n = strlen(line);
    char *grown = realloc(img->maps, img->maps_len + n + 2);
    if (!grown)
        return false;
    img->maps = grown;
    memcpy(img->maps + img->maps_len, line, n);
    img->maps_len += n;
    img->maps[img->maps_len++] = '\n';
    img->maps[img->maps_len] = '\0';
    return true;
}

static void meta_value(raw_image_t *img, const char *key, const char *v, bool *ok)
{
    char *end;
    uint64_t n = strtoull(v, &end, 10);
    if (!strcmp(key, "pid"))
        img->pid = n;
    else if (!strcmp(key, "ppid"))
        img->ppid = n;
    else if (!strcmp(key, "image"))
        img->k = n;
    else if (!strcmp(key, "event-size"))
        img->event_size = n;
    else if (!strcmp(key, "callsites"))
        img->callsites = n != 0;
    else if (!strcmp(key, "start-ns"))
        img->start_ns = n;
    else if (!strcmp(key, "start-tsc"))
        img->start_tsc = n;
    else if (!strcmp(key, "end-ns"))
        img->end_ns = n;
    else if (!strcmp(key, "end-tsc"))
        img->end_tsc = n;
    else if (!strcmp(key, "tick"))
        img->tick_tsc = strtoull(end, NULL, 10), img->tick_ns = n;
    else if (!strcmp(key, "clock"))
        img->tsc = !strcmp(v, "tsc");
    else if (!strcmp(key, "fork-seq"))
        img->fork_seq = n;
    else if (!strcmp(key, "events"))
        img->events_stated = n;
    else if (!strcmp(key, "dropped"))
        img->dropped = n;
    else if (!strcmp(key, "exe"))
        set_text(&img->exe, v, ok);
    else if (!strcmp(key, "cmdline"))
        set_text(&img->cmdline, v, ok);
    else if (!strcmp(key, "ended"))
        set_text(&img->ended, v, ok);
    else if (!strcmp(key, "error"))
        set_text(&img->error, v, ok);
    else if (!strcmp(key, "forked-from"))
        snprintf(img->forked_from, sizeof img->forked_from, "%s", v);
    /* other keys: written by a newer recorder, not needed here */
}

int raw_meta_read(raw_image_t *img, const char *path)
{
    lines_t in;
    if (lines_open(&in, path) < 0)
        return -1;
    bool ok = true, in_maps = false, first = true;
    int got = 0;
    while (ok && (got = lines_next(&in)) > 0) {
        char *line = in.text, *sp = strchr(line, ' ');
        if (first && strcmp(line, "heapkit-raw 3") != 0) {
            bool older = !strcmp(line, "heapkit-raw 1") || !strcmp(line, "heapkit-raw 2");
            lines_report(&in, older ? "written by an older recorder (heapkit-raw 1 or 2): "
                                      "record again"
                                    : "not a heapkit recorder meta file (expected "
                                      "'heapkit-raw 3')");
            lines_close(&in);
            return -1;
        }
        first = false;
        if (in_maps) {
            in_maps = strcmp(line, "maps-end") != 0;
            if (in_maps)
                ok = append_maps(img, line);
            continue;
        }
        if (!strcmp(line, "maps-begin")) {
            in_maps = true;
            img->maps_len = 0; /* a later copy (a failed exec ran on) replaces it */
            continue;
        }
        if (sp)
            *sp = '\0';
        meta_value(img, line, sp ? sp + 1 : "", &ok);
    }
    lines_close(&in);
    if (!ok)
        fprintf(stderr, "heapkit: %s: out of memory\n", path);
    if (got < 0 || !ok)
        return -1;
    if (img->event_size != RAWLOG_EVENT_SIZE && img->event_size != RAWLOG_EVENT_SIZE + 8) {
        fprintf(stderr, "heapkit: %s: event size %llu is not one this heapkit reads\n", path,
                (unsigned long long)img->event_size);
        return -1;
    }
    return 0;
}

/* ---- The directory ---- */

void raw_image_free(raw_image_t *img)
{
    free(img->exe);
    free(img->cmdline);
    free(img->ended);
    free(img->error);
    free(img->maps);
    for (size_t j = 0; j < img->ev_count; j++)
        free(img->ev_paths[j]);
    free(img->ev_paths);
    memset(img, 0, sizeof *img);
}

static int compare_images(const void *a, const void *b)
{
    const raw_image_t *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* "<pid>.<k>" prefix of a file name, and what follows it. */
static bool image_prefix(const char *name, char *prefix, size_t n, const char **rest)
{
    const char *p = name;
    for (int part = 0; part < 2; part++) {
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p != '.')
            return false;
        if (part == 0)
            p++;
    }
    if ((size_t)(p - name) >= n)
        return false;
    memcpy(prefix, name, (size_t)(p - name));
    prefix[p - name] = '\0';
    *rest = p;
    return true;
}

static int scan_metas(raw_dir_t *d, DIR *dh)
{
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(dh)) != NULL) {
        char prefix[48];
        const char *rest;
        if (!image_prefix(e->d_name, prefix, sizeof prefix, &rest) || strcmp(rest, ".meta"))
            continue;
        if (d->count == cap) {
            cap = cap ? cap * 2 : 8;
            raw_image_t *grown = realloc(d->images, cap * sizeof *grown);
            if (!grown)
                return -1;
            d->images = grown;
        }
        raw_image_t *img = &d->images[d->count++];
        memset(img, 0, sizeof *img);
        snprintf(img->name, sizeof img->name, "%s", prefix);
        char *path = join(d->path, e->d_name);
        if (!path)
            return -1;
        int status = raw_meta_read(img, path);
        free(path);
        if (status < 0) { /* said why; the other images are still worth their traces */
            raw_image_free(img);
            d->count--;
            d->unreadable++;
        }
    }
    return 0;
}

static raw_image_t *find_image(const raw_dir_t *d, const char *name)
{
    for (size_t i = 0; i < d->count; i++)
        if (!strcmp(d->images[i].name, name))
            return &d->images[i];
    return NULL;
}

static int scan_events(raw_dir_t *d, DIR *dh)
{
    struct dirent *e;
    rewinddir(dh);
    while ((e = readdir(dh)) != NULL) {
        char prefix[48];
        const char *rest;
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".ev") ||
            !image_prefix(e->d_name, prefix, sizeof prefix, &rest))
            continue;
        raw_image_t *img = find_image(d, prefix);
        if (!img)
            continue; /* its meta could not be created: nothing to say what it is */
        char **grown = realloc(img->ev_paths, (img->ev_count + 1) * sizeof *grown);
        if (!grown)
            return -1;
        img->ev_paths = grown;
        if (!(img->ev_paths[img->ev_count] = join(d->path, e->d_name)))
            return -1;
        img->ev_count++;
    }
    return 0;
}

int raw_dir_open(raw_dir_t *d, const char *path)
{
    memset(d, 0, sizeof *d);
    DIR *dh = opendir(path);
    if (!dh) {
        fprintf(stderr, "heapkit: %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    d->path = strdup(path);
    int status = d->path ? scan_metas(d, dh) : -1;
    if (status == 0) {
        qsort(d->images, d->count, sizeof *d->images, compare_images);
        status = scan_events(d, dh);
    }
    closedir(dh);
    if (status < 0) {
        fprintf(stderr, "heapkit: %s: cannot read the recording\n", path);
        raw_dir_close(d);
    }
    return status;
}

void raw_dir_close(raw_dir_t *d)
{
    for (size_t i = 0; i < d->count; i++)
        raw_image_free(&d->images[i]);
    free(d->images);
    free(d->path);
    memset(d, 0, sizeof *d);
}

/* ---- Merging event files ---- */

typedef struct cursor {
    const unsigned char *at, *end;
    const char          *path;
    rawev_file_t         dec;
    rawlog_event_t       ev;     /* the event at `at`, decoded */
    size_t               ev_len; /* its bytes */
    void                *map;
    size_t               map_len;
} cursor_t;

typedef struct merge {
    cursor_t *c;
    size_t    count, esize;
} merge_t;

/* Decodes the event at c->at: 1, 0 at the file's end (a cut last event is dropped with a
 * note), -1 after a message. */
static int cursor_load(cursor_t *c)
{
    const char *why = NULL;
    size_t left = (size_t)(c->end - c->at);
    int got = left ? rawev_next(&c->dec, c->at, left, &c->ev, &c->ev_len, &why) : 0;
    if (got < 0)
        fprintf(stderr, "heapkit: %s: at byte %zu: %s\n", c->path,
                (size_t)(c->at - (const unsigned char *)c->map), why);
    else if (got == 0 && c->ev_len < left)
        fprintf(stderr, "heapkit: %s: its last event was cut short (%zu bytes): dropped\n",
                c->path, left - c->ev_len);
    return got;
}

static void sift_down(merge_t *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < m->count && m->c[l].ev.seq < m->c[min].ev.seq)
            min = l;
        if (r < m->count && m->c[r].ev.seq < m->c[min].ev.seq)
            min = r;
        if (min == i)
            return;
        cursor_t t = m->c[i];
        m->c[i] = m->c[min];
        m->c[min] = t;
        i = min;
    }
}

/* Maps the file; c->at stays NULL when it holds no event. */
static int open_cursor(cursor_t *c, const char *path, const raw_image_t *img)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    rawev_init(&c->dec, (size_t)img->event_size, img->tsc);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "heapkit: %s: cannot open: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    if (len) {
        c->map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (c->map == MAP_FAILED) {
            fprintf(stderr, "heapkit: %s: cannot map: %s\n", path, strerror(errno));
            c->map = NULL;
            close(fd);
            return -1;
        }
        c->map_len = len;
        c->at = c->map;
        c->end = c->at + len;
    }
    close(fd);
    int got = c->at ? cursor_load(c) : 0;
    if (got <= 0)
        c->at = NULL;
    return got < 0 ? -1 : 0;
}

/* ns per count from the start pair and the end pair, or, for an image that never reached
 * its end (killed), the last "tick" pair it wrote when a buffer filled. 0: no second
 * pair at all (a short life killed early): every op is then at time 0. */
static double tick_rate(const raw_image_t *img)
{
    uint64_t end_ns = img->end_ns, end_tsc = img->end_tsc;
    if (!img->tsc)
        return 0;
    if (end_tsc <= img->start_tsc) {
        end_ns = img->tick_ns;
        end_tsc = img->tick_tsc;
    }
    if (end_tsc <= img->start_tsc || end_ns <= img->start_ns)
        return 0;
    return (double)(end_ns - img->start_ns) / (double)(end_tsc - img->start_tsc);
}

static void merge_close(merge_t *m, cursor_t *all, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (all[i].map)
            munmap(all[i].map, all[i].map_len);
    free(all);
    m->c = NULL;
}

/* ---- Feeding the builder ---- */

typedef struct feed {
    addrtrace_t        *b;
    const raw_image_t  *img;
    addrmap_t           callsites; /* return address -> index + 1 */
    uint64_t           *callsite_addr;
    uint32_t            callsite_count, callsite_cap;
    uint64_t            events;
    double              ns_per_tick; /* tsc images: from the (ns, count) pairs */
    uint64_t            oversized;
    bool                want_callsites, failed;
} feed_t;

static uint32_t callsite_index(feed_t *f, uint64_t addr)
{
    uint32_t v;
    if (!f->want_callsites || !addr)
        return 0;
    if (addrmap_get(&f->callsites, addr, &v))
        return v;
    if (f->callsite_count == f->callsite_cap) {
        uint32_t cap = f->callsite_cap ? f->callsite_cap * 2 : 256;
        uint64_t *grown = realloc(f->callsite_addr, cap * sizeof *grown);
        if (!grown) {
            f->failed = true;
            return 0;
        }
        f->callsite_addr = grown;
        f->callsite_cap = cap;
    }
    f->callsite_addr[f->callsite_count++] = addr;
    if (!addrmap_put(&f->callsites, addr, f->callsite_count))
        f->failed = true;
    return f->callsite_count;
}

static uint8_t log2_of(uint64_t align)
{
    uint8_t k = 0;
    while (k < TRACE_MAX_ALIGN_SHIFT && ((uint64_t)1 << k) < align)
        k++;
    return k;
}

/* Nanoseconds of a stamp: as recorded, or a time stamp count through the image's two
 * (ns, count) pairs. */
static uint64_t event_ns(const feed_t *f, uint64_t stamp)
{
    const raw_image_t *img = f->img;
    if (!img->tsc)
        return stamp;
    if (stamp <= img->start_tsc || f->ns_per_tick <= 0)
        return img->start_ns;
    return img->start_ns + (uint64_t)((double)(stamp - img->start_tsc) * f->ns_per_tick);
}

/* The event is read in place, its time in nanoseconds beside it (a copy of the event
 * per call was a sixth of this function's cost). */
static int feed_event(feed_t *f, const rawlog_event_t *e, const char *path)
{
    addrtrace_t *b = f->b;
    uint64_t time = event_ns(f, e->time);
    /* A block above what a trace holds (a 1 TiB malloc that overcommit let through) is
     * left out; its free then counts as a free of a block never seen. A realloc to such a
     * size is the free of the old block. */
    if (e->size > TRACE_MAX_SIZE && e->op != RAWLOG_FREE && e->op != RAWLOG_REALLOC_BEGIN) {
        f->oversized++;
        if (e->op == RAWLOG_REALLOC)
            at_free(b, e->aux, e->thread, time);
        f->events++;
        return 0;
    }
    uint32_t cs = callsite_index(f, e->callsite);
    switch (e->op) {
    case RAWLOG_MALLOC:
        at_alloc(b, TRACE_ALLOC, e->addr, e->size, 0, e->thread, time, cs);
        break;
    case RAWLOG_CALLOC:
        at_alloc(b, TRACE_CALLOC, e->addr, e->size, 0, e->thread, time, cs);
        break;
    case RAWLOG_ALIGNED:
        at_alloc(b, TRACE_ALIGNED, e->addr, e->size, log2_of(e->aux), e->thread, time, cs);
        break;
    case RAWLOG_REALLOC:
        at_realloc(b, e->aux, e->addr, e->size, e->thread, time, cs);
        break;
    case RAWLOG_FREE:
        at_free(b, e->addr, e->thread, time);
        break;
    case RAWLOG_REALLOC_BEGIN:
        at_release(b, e->addr, e->thread, time);
        break;
    default:
        fprintf(stderr, "heapkit: %s: event %llu: unknown op %u (R3)\n", path,
                (unsigned long long)e->seq, e->op);
        return -1;
    }
    f->events++;
    return 0;
}

/* An event a few ahead: its addresses' map slots are fetched meanwhile (with a live set
 * of 10^5-10^6 blocks, each lookup is otherwise a wait for memory). In slots: a wide or
 * thread slot there only fetches something useless. */
#define PREFETCH_AHEAD 8

static void prefetch_event(const addrtrace_t *b, const unsigned char *raw, size_t n,
                           size_t slot)
{
    uint64_t addr, old;
    rawev_peek(raw, n, slot, &addr, &old);
    addrmap_prefetch(&b->live, addr);
    if (old)
        addrmap_prefetch(&b->live, old);
}

/* Opens a cursor on each event file of img into all[]; returns how many hold events
 * (moved to the front: each cursor keeps its own map), or -1 after a message. */
static long open_cursors(const raw_image_t *img, cursor_t *all)
{
    size_t with = 0;
    for (size_t i = 0; i < img->ev_count; i++) {
        if (open_cursor(&all[i], img->ev_paths[i], img) < 0)
            return -1;
        if (all[i].at) {
            cursor_t t = all[with];
            all[with++] = all[i];
            all[i] = t;
        }
    }
    return (long)with;
}

/* Feeds the events of img with seq < stop (UINT64_MAX: all) in seq order. */
static int feed_events(feed_t *f, const raw_image_t *img, uint64_t stop)
{
    merge_t m = {.esize = img->event_size};
    cursor_t *all = calloc(img->ev_count ? img->ev_count : 1, sizeof *all);
    if (!all)
        return -1;
    long with = open_cursors(img, all);
    if (with < 0) {
        merge_close(&m, all, img->ev_count);
        return -1;
    }
    m.c = all;
    m.count = (size_t)with;
    uint64_t slots = 0;
    for (size_t i = 0; i < m.count; i++)
        slots += (uint64_t)(all[i].end - all[i].at) / m.esize;
    at_reserve(f->b, slots + 16); /* at least one slot per event */
    f->ns_per_tick = tick_rate(img);
    for (size_t i = m.count; i-- > 0;)
        sift_down(&m, i);
    int status = 0;
    while (status == 0 && m.count > 0 && m.c[0].ev.seq < stop) {
        cursor_t *c = &m.c[0];
        size_t left = (size_t)(c->end - c->at);
        if (left >= (PREFETCH_AHEAD + 2) * m.esize)
            prefetch_event(f->b, c->at + PREFETCH_AHEAD * m.esize, left - PREFETCH_AHEAD * m.esize,
                           m.esize);
        rawlog_event_t e = c->ev;
        status = feed_event(f, &e, c->path);
        c->at += c->ev_len;
        int got = status == 0 ? cursor_load(c) : 0;
        if (got < 0) {
            status = -1;
        } else if (got == 0) { /* this file is done: it keeps its map, past the heap's end */
            cursor_t t = m.c[0];
            m.c[0] = m.c[--m.count];
            m.c[m.count] = t;
        } else if (c->ev.seq <= e.seq) {
            fprintf(stderr, "heapkit: %s: event seq %llu is not after %llu (R1)\n", c->path,
                    (unsigned long long)c->ev.seq, (unsigned long long)e.seq);
            status = -1;
        }
        sift_down(&m, 0);
    }
    merge_close(&m, all, img->ev_count);
    return f->failed ? -1 : status;
}

/* ---- Inherited blocks ---- */

typedef struct inherit {
    addrtrace_t *child;
    uint64_t     time;
    uint64_t     count;
} inherit_t;

static void inherit_block(void *ctx, uint64_t addr, uint64_t size, uint8_t kind,
                          uint8_t align_shift)
{
    inherit_t *in = ctx;
    at_alloc(in->child, kind, addr, size, align_shift, 0, in->time, 0);
    in->count++;
}

static int feed_image(const raw_dir_t *d, const raw_image_t *img, feed_t *f, uint64_t stop,
                      int depth, uint64_t *inherited);

/* The blocks img's parent held at the fork become img's first ops. */
static int feed_inherited(const raw_dir_t *d, const raw_image_t *img, feed_t *f, int depth,
                          uint64_t *inherited)
{
    const raw_image_t *parent = find_image(d, img->forked_from);
    if (!parent || depth > 64) {
        fprintf(stderr, "heapkit: %s: image %s: its parent image %s is %s: the blocks it "
                        "inherited are missing\n", d->path, img->name, img->forked_from,
                parent ? "nested too deep" : "not in the recording");
        return 0; /* the trace repairs frees of what it does not know */
    }
    trace_t scratch;
    addrtrace_t pb;
    at_init(&pb, &scratch, false);
    feed_t pf = {.b = &pb, .img = parent};
    int status = feed_image(d, parent, &pf, img->fork_seq, depth + 1, NULL);
    inherit_t in = {.child = f->b, .time = img->start_ns};
    if (status == 0)
        at_each_live(&pb, inherit_block, &in);
    at_fini(&pb);
    trace_free(&scratch);
    if (inherited)
        *inherited = in.count;
    return status;
}

static int feed_image(const raw_dir_t *d, const raw_image_t *img, feed_t *f, uint64_t stop,
                      int depth, uint64_t *inherited)
{
    if (img->forked_from[0] && feed_inherited(d, img, f, depth, inherited) < 0)
        return -1;
    return feed_events(f, img, stop);
}

/* ---- Call sites ---- */

/* Describes every call site: "function+offset (object)" where the image's maps and the
 * object's symbols allow (symbolize.h), else the address. */
static int describe_callsites(const feed_t *f, const raw_image_t *img, trace_t *t)
{
    if (!f->callsite_count)
        return 0;
    t->callsites = calloc(f->callsite_count, sizeof *t->callsites);
    symbolizer_t *sym = img->maps ? symbolizer_open(img->maps, img->maps_len) : NULL;
    int status = t->callsites && (sym || !img->maps) ? 0 : -1;
    for (uint32_t i = 0; status == 0 && i < f->callsite_count; i++) {
        char text[512];
        symbolize(sym, f->callsite_addr[i], text, sizeof text);
        if (!(t->callsites[i] = strdup(text)))
            status = -1;
        else
            t->num_callsites = i + 1;
    }
    symbolizer_close(sym);
    return status;
}

/* ---- Public ---- */

static int set_meta(trace_t *t, const raw_image_t *img)
{
    t->meta.pid = img->pid;
    t->meta.parent = img->ppid;
    if ((img->exe && !(t->meta.program = strdup(img->exe))) ||
        (img->cmdline && !(t->meta.command = strdup(img->cmdline))))
        return -1;
    const char *ended = img->ended ? img->ended : "unknown (the process did not end: killed?)";
    return (t->meta.ended = strdup(ended)) ? 0 : -1;
}

/* ---- Building ---- */

struct raw_build {
    addrtrace_t b;
    feed_t      f;
    trace_t    *out;
};

static void build_init(raw_build_t *rb, const raw_image_t *img, trace_t *out)
{
    at_init(&rb->b, out, true);
    rb->f = (feed_t){.b = &rb->b, .img = img, .want_callsites = img->callsites};
    rb->out = out;
}

static void build_free(raw_build_t *rb)
{
    addrmap_free(&rb->f.callsites);
    free(rb->f.callsite_addr);
    at_fini(&rb->b);
}

/* Completes the trace of img after its events were fed with `status`. */
static int build_finish(raw_build_t *rb, const raw_dir_t *d, const raw_image_t *img,
                        int status, raw_summary_t *sum)
{
    trace_t *out = rb->out;
    if (status == 0 && at_finish(&rb->b) < 0) {
        fprintf(stderr, "heapkit: %s: image %s: out of memory\n", d->path, img->name);
        status = -1;
    }
    if (status == 0 && (describe_callsites(&rb->f, img, out) < 0 || set_meta(out, img) < 0)) {
        fprintf(stderr, "heapkit: %s: image %s: out of memory\n", d->path, img->name);
        status = -1;
    }
    sum->events = rb->f.events;
    sum->unknown_frees = rb->b.unknown_frees;
    sum->implicit_frees = rb->b.implicit_frees;
    sum->unknown_reallocs = rb->b.unknown_reallocs;
    sum->unfinished_reallocs = rb->b.unfinished_reallocs;
    sum->oversized = rb->f.oversized;
    build_free(rb);
    if (status < 0)
        trace_free(out);
    return status;
}

int raw_image_trace(const raw_dir_t *d, size_t i, trace_t *out, raw_summary_t *sum)
{
    const raw_image_t *img = &d->images[i];
    raw_build_t rb;
    build_init(&rb, img, out);
    memset(sum, 0, sizeof *sum);
    int status = feed_image(d, img, &rb.f, UINT64_MAX, 0, &sum->inherited);
    return build_finish(&rb, d, img, status, sum);
}

raw_build_t *raw_build_open(const raw_image_t *img, trace_t *out, double ns_per_tick,
                            trace_stream_t *stream)
{
    raw_build_t *rb = malloc(sizeof *rb);
    if (!rb)
        return NULL;
    build_init(rb, img, out);
    at_set_stream(&rb->b, stream);
    rb->f.ns_per_tick = ns_per_tick > 0 ? ns_per_tick : tick_rate(img);
    return rb;
}

int raw_build_event(raw_build_t *rb, const rawlog_event_t *e, const char *path)
{
    int status = feed_event(&rb->f, e, path);
    return rb->f.failed ? -1 : status;
}

int raw_build_finish(raw_build_t *rb, const raw_dir_t *d, size_t i, raw_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
    int status = build_finish(rb, d, &d->images[i], 0, sum);
    free(rb);
    return status;
}

/* The address map slot of the event PREFETCH_AHEAD slots on, fetched now: the inline
 * part of prefetch_event for a plain slot (its addr in the low 48 bits at offset 8). */
static inline void prefetch_plain(const addrtrace_t *b, const unsigned char *ahead)
{
    uint64_t hi;
    memcpy(&hi, ahead + offsetof(rawlog_slot_t, hi), sizeof hi);
    addrmap_prefetch(&b->live, hi & RAWLOG_ADDR_MASK);
}

size_t raw_build_plain(raw_build_t *rb, rawev_file_t *dec, const unsigned char *p, size_t n,
                       const char *path, uint64_t *last_seq, bool *any)
{
    feed_t *f = &rb->f;
    size_t slot = dec->slot, at = 0, ahead = PREFETCH_AHEAD * slot;
    uint64_t last = *last_seq;
    bool seen = *any;
    for (; n - at >= slot && !f->failed; at += slot) {
        rawlog_slot_t s;
        memcpy(&s, p + at, RAWLOG_EVENT_SIZE);
        if (!rawev_plain(dec, &s) || (seen && dec->base + rawlog_dseq(&s) <= last))
            break; /* the general path decodes it, or says what is wrong with it */
        s.callsite = 0;
        if (slot > RAWLOG_EVENT_SIZE)
            memcpy(&s.callsite, p + at + RAWLOG_EVENT_SIZE, sizeof s.callsite);
        if (n - at >= ahead + slot)
            prefetch_plain(&rb->b, p + at + ahead);
        rawlog_event_t e;
        rawev_plain_event(dec, &s, &e);
        feed_event(f, &e, path); /* a plain slot's op is known: it cannot fail */
        last = e.seq;
        seen = true;
    }
    *last_seq = last;
    *any = seen;
    return at;
}

void raw_build_prefetch(const raw_build_t *rb, const void *slots, size_t n)
{
    prefetch_event(&rb->b, slots, n, (size_t)rb->f.img->event_size);
}

void raw_build_drop(raw_build_t *rb)
{
    if (!rb)
        return;
    trace_t *out = rb->out;
    build_free(rb);
    trace_free(out);
    free(rb);
}
