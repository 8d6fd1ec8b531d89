/*
 * out.c -- what the player says: one result line on stdout for heapkit, and the
 *          handlers that still say something when the replay crashes or hangs.
 *
 * Design:      heapkit reads the last line the player writes (player.c lists the
 *              forms): "ok ...", "fail op=N ...", "error ..." or "crash op=N". Lines go
 *              out with write(2), never stdio, whose buffers are malloc'd (the allocator
 *              under test would serve them, and a crash would lose them). Messages are
 *              formatted with vsnprintf into static storage: glibc formats integers,
 *              strings and pointers without allocating. The signal handlers use only the
 *              little decimal formatter below, which is async-signal-safe.
 *              A failure ends the process at once (_exit): after a broken block nothing
 *              the allocator does is worth measuring, and other threads must not go on.
 * Concurrency: the first thread to fail writes its line; later ones wait to be killed
 *              by the exit.
 */
#include "play.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Thread_local play_thread_t *play_self;

static play_t *handler_play; /* for the timeout report */
static atomic_flag failing = ATOMIC_FLAG_INIT;

void play_write_line(const char *line)
{
    size_t n = strlen(line);
    while (n > 0) {
        ssize_t w = write(1, line, n);
        if (w <= 0)
            return; /* nobody to tell */
        line += w;
        n -= (size_t)w;
    }
}

/* ---- Async-signal-safe pieces ---- */

static char *put_str(char *at, char *end, const char *s)
{
    while (*s && at < end)
        *at++ = *s++;
    return at;
}

static char *put_u64(char *at, char *end, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && at < end)
        *at++ = digits[--n];
    return at;
}

/* ---- Failures ---- */

void play_fail(uint32_t op, const char *fmt, ...)
{
    static char line[1024];
    if (atomic_flag_test_and_set(&failing))
        for (;;)
            pause(); /* another thread is writing the line and exiting */
    int n = snprintf(line, sizeof line, "fail op=%u ", op);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    play_write_line(line);
    _exit(1);
}

void play_error(const char *fmt, ...)
{
    static char msg[1024], line[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "heapkit-play: %s\n", msg);
    if (write(2, line, strlen(line)) < 0)
        line[0] = 0;
    snprintf(line, sizeof line, "error %s\n", msg);
    play_write_line(line);
    _exit(2);
}

/* ---- Handlers ---- */

/* A crash (the allocator's, most likely): say at which op, then die of the signal. */
static void on_crash(int sig)
{
    char line[64], *end = line + sizeof line - 1, *at = line;
    at = put_str(at, end, "crash op=");
    at = put_u64(at, end, play_self ? play_self->current : 0);
    *at++ = '\n';
    if (write(1, line, (size_t)(at - line)) < 0)
        line[0] = 0;
    raise(sig); /* SA_RESETHAND: the default action, once this handler returns */
}

/* The replay's alarm rang: name the earliest op in flight and what it waits for. */
static void on_timeout(int sig)
{
    (void)sig;
    const play_t *pl = handler_play;
    uint32_t op = 0, waits = 0, thread = 0;
    uint32_t threads = pl && pl->threads ? (pl->recorded ? pl->hdr->num_threads : 1) : 0;
    for (uint32_t t = 0; t < threads; t++) {
        const play_thread_t *th = &pl->threads[t];
        uint32_t cur = th->current; /* 0 before its first op and after its last */
        if (cur && (op == 0 || cur < op)) {
            op = cur;
            waits = th->waiting;
            thread = t;
        }
    }
    char line[256], *end = line + sizeof line - 1, *at = line;
    at = put_str(at, end, "fail op=");
    at = put_u64(at, end, op);
    at = put_str(at, end, " timeout: the replay did not end in time");
    if (op) {
        at = put_str(at, end, "; the earliest op in flight is on trace thread ");
        at = put_u64(at, end, thread);
    }
    if (waits) {
        at = put_str(at, end, ", waiting for op ");
        at = put_u64(at, end, waits);
    }
    *at++ = '\n';
    if (write(1, line, (size_t)(at - line)) < 0)
        line[0] = 0;
    _exit(1);
}

void play_install_handlers(play_t *pl)
{
    handler_play = pl;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    static const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
        sigaction(crashes[i], &sa, NULL);
    sa.sa_handler = on_timeout;
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
}
