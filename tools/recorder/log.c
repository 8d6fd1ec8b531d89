/*
 * log.c -- the recorder's log: per-thread buffers, event and meta files (rawlog.h),
 *          and what must happen at fork, exec, exit and on a fatal signal.
 *
 * Design:      Each thread appends slots (rawlog.h: one per call, more when it needs
 *              the wide or far one; a fill starts with whose it is) to a buffer it holds
 *              alone, and
 *              writes the buffer to the buffer's own event file with write(2) when it is
 *              full: no lock between threads on the hot path, only the stamp that orders
 *              calls (rdtsc, or one atomic add on a process-wide counter). Buffers are
 *              mapped, never malloc'd, and come back to a pool when their thread exits (a
 *              TLS key destructor), so memory is bounded by the threads alive at once.
 *              Someone else must be able to write a buffer out too (exit, exec, a fatal
 *              signal in another thread): the owner publishes `end` after each event,
 *              the other side writes [flushed, end) under the buffer's flag and advances
 *              `flushed`; only the owner resets both to 0, under the same flag.
 *              fork: the child keeps no buffer contents (they are the parent's to write),
 *              drops the parent's files, and opens an image of its own, noting the
 *              parent image and the counter's value at the fork, so `heapkit record` can
 *              give it the blocks it inherited.
 * Concurrency: `pool_lock` guards the pool and the registry; a buffer's `flag` guards its
 *              write-out. Signal handlers only try flags, never wait on them.
 * Never:       malloc, stdio, or anything that could take a lock of the allocator.
 */
#include "rec.h"

#include "logfile.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Per thread alive. The kernel's copy into the page cache costs less per byte in bigger
 * writes (ext4, Linux 6.18: 0.5-0.8 ns/byte at 64 KiB, 0.2-0.7 at 256 KiB, 0.2 at 1 MiB;
 * a malloc/free loop under the recorder 28 -> 17.5 ns per call from 64 to 256 KiB), and
 * fewer writes mean fewer fstats and tick lines; 1 MiB per thread was no faster. */
#define BUFFER_BYTES ((size_t)256 << 10)
#define PATH_BYTES   1024

__thread int rec_busy;
bool rec_on;
bool rec_callsites;

/* ---- Process-wide state ---- */

typedef struct buffer {
    struct buffer *next_all;  /* registry: every buffer ever mapped (never unlinked) */
    struct buffer *next_free; /* pool */
    logfile_t      file;      /* its event file, not open until first written */
    unsigned       index;     /* b in <pid>.<k>.<b>.ev */
    atomic_flag    flag;      /* held while writing out */
    _Atomic size_t end;       /* bytes appended (written by the owner only) */
    uint64_t       last_seq;  /* the thread's last stamp (owner only) */
    uint64_t       base;      /* the seq the next event's dseq counts from (owner only) */
    uint64_t       events;    /* appended to this buffer in this image (owner only; a
                                 shared counter would be a locked add per call) */
    size_t         flushed;   /* bytes already written to the file (under flag) */
    _Alignas(16) unsigned char data[BUFFER_BYTES];
} buffer_t;

static _Atomic uint64_t seq_counter;
static bool             use_tsc; /* the order and the time are the time stamp counter */
static _Atomic uint32_t thread_counter;
static _Atomic bool     many_threads; /* a second thread took a number: rdtsc every call */
static _Atomic uint64_t events_dropped;
static atomic_flag      pool_lock = ATOMIC_FLAG_INIT;
static buffer_t        *registry, *pool;
static unsigned         buffer_count;
static pthread_key_t    thread_key;
static logfile_t        meta = {.fd = -1};
static bool             ending; /* writing the end: no "tick" lines inside the maps copy */
static char             dir[PATH_BYTES];
static unsigned long    image_pid, image_k;
static size_t           event_size = RAWLOG_EVENT_SIZE;
static bool             unbuffered; /* after the final write-out at exit: write each event */
static bool             fast; /* rec_log's inline path may run: "clock tsc", no call sites,
                                 not unbuffered */

static __thread buffer_t *tls_buffer;
static __thread uint32_t  tls_thread; /* thread number + 1; 0: none yet */
static __thread bool      tls_exiting; /* its buffer was given back (TLS destructor) */
static __thread unsigned  tls_sync; /* calls it may still stamp without reading the counter */

/* ---- Small output helpers (no stdio) ---- */

typedef struct text {
    char   buf[PATH_BYTES * 4];
    size_t len;
} text_t;

static void text_str(text_t *t, const char *s)
{
    while (*s && t->len < sizeof t->buf - 1)
        t->buf[t->len++] = *s++;
}

static void text_u64(text_t *t, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && t->len < sizeof t->buf - 1)
        t->buf[t->len++] = tmp[--n];
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *at = p;
    while (n > 0) {
        ssize_t done = write(fd, at, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return false;
        at += done;
        n -= (size_t)done;
    }
    return true;
}

#define META_VALUE_MAX 2048 /* a longer value is cut ("..."): the reader's lines are 4096 */

static void meta_line(const char *key, const char *value)
{
    text_t t = {.len = 0};
    text_str(&t, key);
    text_str(&t, " ");
    size_t n = 0;
    while (value[n] && n < META_VALUE_MAX)
        t.buf[t.len++] = value[n++];
    if (value[n])
        text_str(&t, "...");
    t.buf[t.len++] = '\n';
    if (meta.fd >= 0)
        logfile_write(&meta, t.buf, t.len);
}

static void meta_number(const char *key, uint64_t v)
{
    text_t t = {.len = 0};
    text_u64(&t, v);
    t.buf[t.len] = '\0';
    meta_line(key, t.buf);
}

/* "<dir>/<pid>.<k><suffix>" */
static void image_path(text_t *t, const char *suffix)
{
    t->len = 0;
    text_str(t, dir);
    text_str(t, "/");
    text_u64(t, image_pid);
    text_str(t, ".");
    text_u64(t, image_k);
    text_str(t, suffix);
    t->buf[t->len] = '\0';
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Buffers ---- */

static void spin_lock(atomic_flag *f)
{
    while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
        sched_yield();
}

static void spin_unlock(atomic_flag *f) { atomic_flag_clear_explicit(f, memory_order_release); }

/* Bounded: a signal handler must never wait for a thread it interrupted. */
static bool spin_try(atomic_flag *f)
{
    for (int i = 0; i < 1000; i++) {
        if (!atomic_flag_test_and_set_explicit(f, memory_order_acquire))
            return true;
        sched_yield();
    }
    return false;
}

static void stop_recording(const char *why)
{
    if (!rec_on)
        return;
    rec_on = false;
    meta_line("error", why);
}

static bool open_event_file(buffer_t *b)
{
    text_t path;
    image_path(&path, ".");
    text_u64(&path, b->index);
    text_str(&path, ".ev");
    path.buf[path.len] = '\0';
    return logfile_create(&b->file, path.buf, false);
}

/* "cannot write an event file: No space left on device" */
static void stop_for(const char *what, int err)
{
    text_t t = {.len = 0};
    text_str(&t, what);
    text_str(&t, ": ");
    text_str(&t, strerror(err)); /* glibc's: a static table, no allocation */
    t.buf[t.len] = '\0';
    stop_recording(t.buf);
}

/* Writes buffer bytes [flushed, end) to its file. Caller holds b->flag. */
static void write_out(buffer_t *b, size_t end)
{
    if (end <= b->flushed)
        return;
    if ((b->file.fd < 0 && !open_event_file(b)) ||
        !logfile_write(&b->file, b->data + b->flushed, end - b->flushed))
        stop_for("cannot write an event file", errno);
    b->flushed = end;
}

static void meta_tick(void);

/* The owner's write-out of a full buffer: then the buffer starts again at 0. */
static void flush_own(buffer_t *b)
{
    meta_tick();
    spin_lock(&b->flag);
    write_out(b, atomic_load_explicit(&b->end, memory_order_relaxed));
    b->flushed = 0;
    atomic_store_explicit(&b->end, 0, memory_order_relaxed);
    spin_unlock(&b->flag);
}

/* Anyone else's write-out: what the owner has published so far. */
static void flush_other(buffer_t *b)
{
    if (!spin_try(&b->flag))
        return;
    write_out(b, atomic_load_explicit(&b->end, memory_order_acquire));
    spin_unlock(&b->flag);
}

static buffer_t *map_buffer(void)
{
    void *p = mmap(NULL, sizeof(buffer_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    buffer_t *b = p;
    b->file.fd = -1;
    atomic_flag_clear(&b->flag);
    b->index = buffer_count++;
    b->next_all = registry;
    registry = b;
    return b;
}

/* The thread's number, at its first buffer (or fork). The second thread to take one
 * makes every thread read the counter at each call (rec_seq) before it stamps anything
 * itself: from then on a thread's stamp must be above every stamp another thread took
 * before, which counting on from an earlier read does not promise. */
static void take_number(void)
{
    if (tls_thread)
        return;
    tls_thread = atomic_fetch_add(&thread_counter, 1) + 1;
    if (tls_thread > 1)
        atomic_store(&many_threads, true);
}

static buffer_t *acquire_buffer(void)
{
    spin_lock(&pool_lock);
    buffer_t *b = pool;
    if (b)
        pool = b->next_free;
    else
        b = map_buffer();
    spin_unlock(&pool_lock);
    if (!b)
        return NULL;
    take_number();
    tls_buffer = b;
    tls_sync = 0; /* its first stamp reads the counter: the buffer's last one may be old */
    if (!tls_exiting) /* an exiting thread gives it back after each event (rec_event) */
        pthread_setspecific(thread_key, b);
    return b;
}

static void pool_put(buffer_t *b)
{
    spin_lock(&pool_lock);
    b->next_free = pool;
    pool = b;
    spin_unlock(&pool_lock);
}

/* TLS key destructor: the thread is ending; its buffer goes back to the pool. Events of
 * later destructors on this thread take a buffer again (and set the key again, so this
 * runs once more: glibc repeats destructors while keys are set). */
static void release_buffer(void *arg)
{
    buffer_t *b = arg;
    if (!b)
        return;
    flush_own(b);
    tls_buffer = NULL;
    /* glibc frees per-thread state after the destructors (__libc_thread_freeres): those
     * calls take a buffer, write their event out and give it back at once, else each
     * exiting thread would keep a buffer and its descriptor for good */
    tls_exiting = true;
    pool_put(b);
}

/* ---- Events ---- */

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* Where the kernel keeps time with the TSC, it has checked that the counter is constant
 * and synchronized across CPUs: then one rdtsc is both the order of a call and its time,
 * cheaper than a locked add on a shared counter plus a clock read (the counter's cache
 * line and the lock's fence cost a program that allocates 10^7 times a second ~20%).
 * Two calls on different CPUs within a few cycles may get the same or swapped stamps,
 * but a block passed from one thread to another goes through the allocator's own
 * synchronization, hundreds of cycles, so a free always stamps before the malloc that
 * reuses its block. Elsewhere: the shared counter and CLOCK_MONOTONIC. */
static bool kernel_uses_tsc(void)
{
#if defined(__x86_64__)
    char buf[16] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                  O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && memcmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n');
#else
    return false;
#endif
}

/* A stamp (clock tsc): the counter, or while one thread records, the counter every
 * RAWLOG_SYNC-th call and one more than the last stamp in between. rdtsc costs about as
 * much as the rest of the recorder's work for a call; counting on is exact enough for
 * order because no other thread stamps meanwhile, and for time to within RAWLOG_SYNC
 * calls. Every stamp stays at or below the counter at its call (a call takes far more
 * than one count), so another thread's stamp read later is above all of them (rawlog.h). */
static inline __attribute__((always_inline)) uint64_t stamp(buffer_t *b)
{
    uint64_t t;
    if (tls_sync && !atomic_load_explicit(&many_threads, memory_order_relaxed)) {
        tls_sync--;
        t = b->last_seq + 1;
    } else {
        tls_sync = RAWLOG_SYNC - 1;
        t = read_tsc();
        if (t <= b->last_seq) /* R1 even if the counter stood still between two calls */
            t = b->last_seq + 1;
    }
    b->last_seq = t;
    return t;
}

/* The thread holds its buffer before it takes a number: a buffer another thread gave back
 * holds only numbers taken before this one, so every event file stays in order (R1). */
uint64_t rec_seq(void)
{
    buffer_t *b = tls_buffer;
    if (!b && !(b = acquire_buffer()))
        return atomic_fetch_add_explicit(&seq_counter, 1, memory_order_relaxed);
    if (!use_tsc)
        return atomic_fetch_add_explicit(&seq_counter, 1, memory_order_relaxed);
    return stamp(b);
}

/* The most bytes one event appends: a thread slot it may need, and its own slots. */
#define EVENT_ROOM ((RAWLOG_EVENT_SLOTS + 1) * event_size)

/* A thread slot at `at`: the thread of the events after it, and the base of the next
 * one's dseq (rawlog.h). Returns its size. */
static size_t put_thread_slot(buffer_t *b, size_t at, uint64_t base)
{
    rawlog_slot_t *t = (rawlog_slot_t *)(void *)(b->data + at);
    t->lo = base;
    t->hi = (uint64_t)(tls_thread - 1) | (uint64_t)RAWLOG_THREAD << 48;
    if (rec_callsites)
        t->callsite = 0;
    b->base = base;
    return event_size;
}

/* rec_event's slow part, kept out of its line (the hot path then saves fewer registers):
 * the buffer and offset for the next event (whose seq is `seq`), after a write-out when
 * the fill lacks room for one, and after the fill's thread slot when it starts (R5: a
 * fill is one thread's, and says whose first). NULL when the thread cannot get a buffer. */
__attribute__((noinline)) static buffer_t *make_room(size_t *end, uint64_t seq)
{
    buffer_t *b = tls_buffer;
    if (!b && !(b = acquire_buffer()))
        return NULL;
    size_t at = atomic_load_explicit(&b->end, memory_order_relaxed);
    if (at + EVENT_ROOM > BUFFER_BYTES) {
        flush_own(b);
        at = 0;
    }
    if (at == 0)
        at = put_thread_slot(b, 0, seq);
    *end = at;
    return b;
}

/* After an event of an exiting thread, or after the final write-out at exit. */
__attribute__((noinline)) static void after_event(buffer_t *b)
{
    if (tls_exiting) {
        flush_own(b);
        tls_buffer = NULL;
        pool_put(b);
    } else {
        flush_other(b);
    }
}

/* One slot of two words (+ the call site word) at b->data + at; returns its size. */
static size_t put_slot(buffer_t *b, size_t at, uint64_t lo, uint64_t hi, uint64_t callsite)
{
    rawlog_slot_t *s = (rawlog_slot_t *)(void *)(b->data + at);
    s->lo = lo;
    s->hi = hi;
    if (rec_callsites)
        s->callsite = callsite;
    return event_size;
}

/* The event's slots at `at` (rawlog.h, R3): a thread slot first when its step from the
 * base does not fit dseq (or goes back: the reader then says R1 is broken), and after
 * the event slot what does not fit it. Returns the bytes appended. */
static size_t encode(buffer_t *b, size_t at, uint8_t op, uint64_t seq, uint64_t addr,
                     uint64_t size, uint64_t aux, const void *caller)
{
    bool wide = op == RAWLOG_REALLOC || size >= RAWLOG_SIZE_WIDE;
    bool far = (addr >> RAWLOG_ADDR_BITS) != 0 || !use_tsc;
    size_t from = at;
    if (seq - b->base > UINT32_MAX)
        at += put_thread_slot(b, at, seq);
    uint64_t size32 = size >= RAWLOG_SIZE_WIDE ? RAWLOG_SIZE_WIDE : size;
    uint64_t ash = op == RAWLOG_ALIGNED && aux ? (uint64_t)__builtin_ctzll(aux) : 0;
    uint64_t flags = (wide ? RAWLOG_WIDE : 0) | (far ? RAWLOG_FAR : 0);
    at += put_slot(b, at, (seq - b->base) | size32 << 32,
                   (addr & RAWLOG_ADDR_MASK) | (op | flags) << 48 | ash << 56,
                   (uint64_t)(uintptr_t)caller);
    b->base = seq;
    if (wide)
        at += put_slot(b, at, size, aux, 0);
    if (far)
        at += put_slot(b, at, addr, use_tsc ? 0 : now_ns(), 0);
    return at - from;
}

/* rec_event for any event; kept out of rec_log's line (it then saves fewer registers). */
__attribute__((noinline)) void rec_event(uint8_t op, uint64_t seq, uint64_t addr,
                                         uint64_t size, uint64_t aux, const void *caller)
{
    buffer_t *b = tls_buffer;
    size_t end = b ? atomic_load_explicit(&b->end, memory_order_relaxed) : 0;
    if (__builtin_expect(end == 0 || end + EVENT_ROOM > BUFFER_BYTES, 0) &&
        !(b = make_room(&end, seq))) {
        atomic_fetch_add_explicit(&events_dropped, 1, memory_order_relaxed);
        return;
    }
    size_t used = encode(b, end, op, seq, addr, size, aux, caller);
    atomic_store_explicit(&b->end, end + used, memory_order_release);
    b->events++;
    if (__builtin_expect(tls_exiting || unbuffered, 0))
        after_event(b);
}

/* Not inline: a call kept out of rec_log lets its fast path save no registers. */
__attribute__((noinline)) static void log_slow(uint8_t op, uint64_t addr, uint64_t size,
                                               uint64_t aux, const void *caller)
{
    rec_event(op, rec_seq(), addr, size, aux, caller);
}

/* The common call (sqlite3: 84% of its events) appends one event slot and
 * nothing else: a malloc, calloc or free below 4 GiB and 2^48, a step below 2^32, in a
 * fill already started with room left, by a thread that is not exiting. It takes two
 * stores, without the general encoder's branches and its second call for the stamp. */
void rec_log(uint8_t op, uint64_t addr, uint64_t size, uint64_t aux, const void *caller)
{
    buffer_t *b = tls_buffer;
    size_t end = b ? atomic_load_explicit(&b->end, memory_order_relaxed) : 0;
    if (__builtin_expect(fast && end != 0 && end <= BUFFER_BYTES - RAWLOG_EVENT_SIZE &&
                             op != RAWLOG_REALLOC && op != RAWLOG_ALIGNED &&
                             size < RAWLOG_SIZE_WIDE && !(addr >> RAWLOG_ADDR_BITS) &&
                             !tls_exiting,
                         1)) {
        uint64_t seq = stamp(b), step = seq - b->base;
        if (__builtin_expect(step <= UINT32_MAX, 1)) {
            rawlog_slot_t *e = (rawlog_slot_t *)(void *)(b->data + end);
            e->lo = step | size << 32;
            e->hi = addr | (uint64_t)op << 48;
            b->base = seq;
            atomic_store_explicit(&b->end, end + RAWLOG_EVENT_SIZE, memory_order_release);
            b->events++;
            return;
        }
        rec_event(op, seq, addr, size, aux, caller);
        return;
    }
    log_slow(op, addr, size, aux, caller);
}

/* ---- Meta file ---- */

static bool needs_quotes(const char *arg)
{
    if (!*arg)
        return true;
    for (; *arg; arg++)
        if (!((*arg >= 'a' && *arg <= 'z') || (*arg >= 'A' && *arg <= 'Z') ||
              (*arg >= '0' && *arg <= '9') || *arg == '/' || *arg == '.' || *arg == '-' ||
              *arg == '_' || *arg == '=' || *arg == ':' || *arg == ',' || *arg == '+'))
            return true;
    return false;
}

/* The command line as a shell would take it back: arguments separated by blanks, quoted
 * ('...', a quote as '\'') when they hold anything else than plain word characters;
 * control bytes become '?' (the trace keeps one line per item). */
static void read_cmdline(text_t *t)
{
    char raw[PATH_BYTES * 4];
    t->len = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, raw, sizeof raw - 1);
    close(fd);
    size_t len = n > 0 ? (size_t)n : 0;
    raw[len] = '\0';
    for (size_t at = 0; at < len; at += strlen(raw + at) + 1) {
        const char *arg = raw + at;
        bool quote = needs_quotes(arg);
        if (at)
            text_str(t, " ");
        if (quote)
            text_str(t, "'");
        for (const char *c = arg; *c; c++) {
            char one[2] = {(unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c, 0};
            text_str(t, *c == '\'' ? "'\\''" : one);
        }
        if (quote)
            text_str(t, "'");
    }
    t->buf[t->len] = '\0';
}

static void copy_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    meta_line("maps-begin", "");
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        logfile_write(&meta, chunk, (size_t)n);
    close(fd);
    meta_line("maps-end", "");
}

/* Creates <pid>.<k>.meta for the first k not taken (an exec'd image keeps the pid). */
static bool open_meta(void)
{
    image_pid = (unsigned long)getpid();
    for (image_k = 0; image_k < 1000; image_k++) {
        text_t path;
        image_path(&path, ".meta");
        if (logfile_create(&meta, path.buf, true))
            return true;
        if (errno != EEXIST)
            return false;
    }
    return false;
}

/* A (CLOCK_MONOTONIC, counter) pair: with two of them the converter turns stamps into
 * nanoseconds. */
static void meta_clock(const char *when)
{
    text_t key = {.len = 0};
    text_str(&key, when);
    text_str(&key, "-ns");
    key.buf[key.len] = '\0';
    meta_number(key.buf, now_ns());
    if (use_tsc) {
        key.len = 0;
        text_str(&key, when);
        text_str(&key, "-tsc");
        key.buf[key.len] = '\0';
        meta_number(key.buf, read_tsc());
    }
}

/* "tick NS COUNT": a pair for a process that may never write its end (killed). */
static void meta_tick(void)
{
    if (!use_tsc || ending)
        return;
    text_t t = {.len = 0};
    text_str(&t, "tick ");
    text_u64(&t, now_ns());
    text_str(&t, " ");
    text_u64(&t, read_tsc());
    text_str(&t, "\n");
    if (meta.fd >= 0)
        logfile_write(&meta, t.buf, t.len);
}

static void write_meta_start(unsigned long parent_pid, unsigned long parent_k, uint64_t fork_seq)
{
    text_t t;
    meta_line("heapkit-raw", "3");
    meta_number("pid", image_pid);
    meta_number("ppid", (uint64_t)getppid());
    meta_number("image", image_k);
    meta_number("event-size", event_size);
    meta_number("callsites", rec_callsites);
    t.len = 0;
    ssize_t n = readlink("/proc/self/exe", t.buf, sizeof t.buf - 1);
    t.buf[n > 0 ? n : 0] = '\0';
    meta_line("exe", t.buf);
    read_cmdline(&t);
    meta_line("cmdline", t.buf);
    meta_line("clock", use_tsc ? "tsc" : "ns");
    meta_clock("start");
    if (parent_pid) {
        t.len = 0;
        text_u64(&t, parent_pid);
        text_str(&t, ".");
        text_u64(&t, parent_k);
        t.buf[t.len] = '\0';
        meta_line("forked-from", t.buf);
        meta_number("fork-seq", fork_seq);
    }
}

void rec_flush_all(const char *how)
{
    /* A vfork child (libiberty's pex, for one) runs in its parent's memory until it execs:
     * everything here is the parent's, which goes on running. */
    if ((!rec_on && meta.fd < 0) || (unsigned long)getpid() != image_pid)
        return;
    ending = true; /* other threads' buffer write-outs stop adding ticks to the meta file */
    for (buffer_t *b = registry; b; b = b->next_all)
        flush_other(b);
    meta_clock("end");
    meta_line("ended", how);
    uint64_t events = 0;
    for (buffer_t *b = registry; b; b = b->next_all)
        events += b->events;
    meta_number("events", events);
    meta_number("dropped", atomic_load(&events_dropped));
    if (rec_callsites)
        copy_maps();
    ending = false; /* a failed exec goes on recording */
}

/* ---- Fork ---- */

static uint64_t fork_point; /* taken in the parent just before the fork: the child's copy */

/* The child inherits what the parent held before this point: a number taken in the child
 * would also count what the parent did after the fork, running on meanwhile. The point
 * is a counter read by this thread, kept as its stamp (its later calls stamp above it),
 * and a thread that never recorded takes a number here, so that any other thread reads
 * the counter again before it stamps: counting on, its first calls after the fork could
 * stay below the point. */
static void before_fork(void)
{
    spin_lock(&pool_lock);
    take_number();
    buffer_t *b = tls_buffer;
    if (use_tsc && b) {
        tls_sync = 0;
        fork_point = stamp(b);
        tls_sync = 0;
    } else {
        fork_point = use_tsc ? read_tsc() : atomic_load(&seq_counter);
    }
}
static void after_fork_parent(void) { spin_unlock(&pool_lock); }

/* The child: every buffer's contents and file are the parent's; start an image of its own. */
static void after_fork_child(void)
{
    unsigned long parent_pid = image_pid, parent_k = image_k;
    pool = NULL;
    for (buffer_t *b = registry; b; b = b->next_all) {
        logfile_close(&b->file);
        b->flushed = 0;
        b->last_seq = 0;
        b->base = 0;
        b->events = 0;
        atomic_store(&b->end, 0);
        atomic_flag_clear(&b->flag);
        b->next_free = pool;
        pool = b;
    }
    atomic_flag_clear(&pool_lock);
    tls_buffer = NULL;
    pthread_setspecific(thread_key, NULL);
    atomic_store(&events_dropped, 0);
    atomic_store(&many_threads, false); /* the forking thread is the child's only one */
    logfile_close(&meta);
    tls_exiting = false;
    if (!open_meta()) {
        rec_on = false;
        return;
    }
    write_meta_start(parent_pid, parent_k, fork_point);
}

/* ---- Exit and fatal signals ---- */

static const int fatal_signals[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,  SIGABRT, SIGSYS,
                                    SIGTRAP, SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGPIPE,
                                    SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ};

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static _Atomic uint64_t caught; /* bit s: our handler is signal s's action */

bool rec_catches(int sig) { return sig > 0 && sig < 64 && (atomic_load(&caught) >> sig) & 1; }
void rec_release_signal(int sig)
{
    if (sig > 0 && sig < 64)
        atomic_fetch_and(&caught, ~((uint64_t)1 << sig));
}
int rec_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!real_sigaction) {
        errno = ENOSYS;
        return -1;
    }
    return real_sigaction(sig, act, old);
}

static void on_fatal_signal(int sig)
{
    text_t t = {.len = 0};
    text_str(&t, "signal ");
    text_u64(&t, (uint64_t)sig);
    t.buf[t.len] = '\0';
    rec_busy++;
    rec_flush_all(t.buf);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    rec_release_signal(sig);
    rec_sigaction(sig, &dfl, NULL);
    raise(sig); /* a fault re-raised by returning would do too; this covers both kinds */
}

/* Only where the program starts with the default action (an inherited "ignore" stays),
 * and invisibly: signal_hooks.c shows the program SIG_DFL where our handler is, so a
 * runtime that installs its own only over the default (CPython's SIGINT) still does. */
static void catch_fatal_signals(void)
{
    void *sym = dlsym(RTLD_NEXT, "sigaction");
    memcpy(&real_sigaction, &sym, sizeof real_sigaction);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        int sig = fatal_signals[i];
        struct sigaction old, sa;
        if (rec_sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sa.sa_flags = SA_RESTART | SA_NODEFER | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        atomic_fetch_or(&caught, (uint64_t)1 << sig);
        if (rec_sigaction(sig, &sa, NULL) != 0)
            rec_release_signal(sig);
    }
}

/* quick_exit skips destructors and reaches glibc's own _exit, not the hook. */
static void at_quick_exit_hook(void)
{
    if (rec_on)
        rec_flush_all("exit (quick_exit)");
}

__attribute__((destructor)) static void at_exit(void)
{
    if (!rec_on)
        return;
    rec_flush_all("exit");
    unbuffered = true; /* later frees (other libraries' destructors) still reach the file */
    fast = false;
}

/* ---- Start ---- */

static const char no_dir[] =
    "heapkit-record: HEAPKIT_RECORD_DIR is not set: not recording (use `heapkit record`)\n";

void rec_start(void)
{
    const char *d = getenv("HEAPKIT_RECORD_DIR");
    const char *cs = getenv("HEAPKIT_RECORD_CALLSITES");
    if (!d || !*d || strlen(d) >= PATH_BYTES - 64) {
        write_all(2, no_dir, sizeof no_dir - 1);
        return;
    }
    memcpy(dir, d, strlen(d) + 1);
    rec_callsites = cs && cs[0] == '1';
    event_size = RAWLOG_EVENT_SIZE + (rec_callsites ? 8 : 0);
    use_tsc = kernel_uses_tsc();
    if (pthread_key_create(&thread_key, release_buffer) != 0 || !open_meta())
        return;
    write_meta_start(0, 0, 0);
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    at_quick_exit(at_quick_exit_hook);
    catch_fatal_signals();
    fast = use_tsc && !rec_callsites;
    rec_on = true;
}

void rec_exit_now(int status)
{
    if (rec_on) {
        text_t t = {.len = 0};
        text_str(&t, "exit ");
        text_u64(&t, (uint64_t)(status & 0xff));
        t.buf[t.len] = '\0';
        rec_flush_all(t.buf);
    }
    syscall(SYS_exit_group, status);
    for (;;)
        pause();
}
