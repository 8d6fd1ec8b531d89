/*
 * record.c -- `heapkit record -o OUT -- CMD ARGS...`: runs CMD with the recorder library
 *             preloaded, then turns what it logged into heapkit-traces.
 *
 * Design:      The recorder (tools/recorder/) only logs raw events into a fresh folder
 *              beside OUT; everything else happens here: each process image (a process,
 *              or what a process became after exec) becomes one trace (rawread.h), CMD's
 *              own first image while CMD runs (rawlive.h: the user then waits only for
 *              its last events), the others, and that one when its live conversion had
 *              to give up, after CMD has ended. Naming: what CMD's own process finally was (its
 *              last image: a wrapper script exec's the real program) is OUT; every other
 *              image is OUT with ".<pid>" (and ".<k>" for the k-th exec of that pid)
 *              before its extension; a "%p" in OUT is replaced by each image's pid
 *              instead, for every image. Like time(1), this process ignores
 *              SIGINT and SIGQUIT while CMD runs (CMD gets them, and its recorder writes
 *              out what it has), and exits with CMD's status.
 * Exit status: CMD's (128 + N when a signal N ended it); 2 on bad usage, when CMD could
 *              not be started, or when a trace could not be written.
 */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "rawlive.h"
#include "rawread.h"
#include "trace.h"

static const char record_usage[] =
    "usage: heapkit record [OPTIONS] [--] CMD [ARGS...]\n"
    "\n"
    "Runs CMD with heapkit's recorder preloaded and writes every allocation call it and\n"
    "its child processes make (malloc, calloc, realloc, reallocarray, free, free_sized,\n"
    "posix_memalign, aligned_alloc, memalign, valloc, pvalloc; C++ new and delete go\n"
    "through them) as a heapkit-trace (docs/TRACE-FORMAT.md): thread and time of each\n"
    "call, across threads, fork and exec.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the trace of CMD's process, as it ended (after any exec) (default:\n"
    "                     CMD's name + .hkt); every other process or earlier program of\n"
    "                     it gets OUT with .PID (.PID.K: its K-th exec) before the\n"
    "                     extension, or %p in OUT is replaced by each process's pid\n"
    "  --callsites        also log each call's return address, named after the program\n"
    "                     ended (function+offset and object)\n"
    "  --keep-raw         keep the raw log folder (named on stderr)\n"
    "  -q, --quiet        no summary on stderr\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: CMD's own (128+N if signal N ended it); 2 if CMD could not be run or a\n"
    "trace could not be written. Environment: HEAPKIT_RECORDER names the recorder library\n"
    "(default: found beside this heapkit, or in ../lib/heapkit/); HEAPKIT_RECORD_LIVE=0\n"
    "converts only after CMD ended (default: CMD's process while it runs), =say tells how\n"
    "each process image was converted.\n";

typedef struct record_args {
    const char *out;
    bool        callsites, keep_raw, quiet;
    bool        live, say_live; /* HEAPKIT_RECORD_LIVE: 0 (off), say */
    char      **cmd;
} record_args_t;

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "heapkit: %s%s%s%s\n(try `heapkit record --help`)\n", what,
            arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

/* Returns -1 when the arguments are fine, else an exit status. */
static int parse_args(int argc, char **argv, record_args_t *a)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"callsites", no_argument, NULL, 'c'},
        {"keep-raw", no_argument, NULL, 'k'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int opt;
    /* "+": options end at CMD, whose own options are its business */
    while ((opt = getopt_long(argc, argv, "+:ho:q", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(record_usage, stdout);
            return 0;
        case 'o':
            a->out = optarg;
            break;
        case 'c':
            a->callsites = true;
            break;
        case 'k':
            a->keep_raw = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case ':':
            return usage_error("option needs a value:", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind == argc)
        return usage_error("record needs a command to run", NULL);
    a->cmd = argv + optind;
    return -1;
}

/* ---- Paths ---- */

/* snprintf that says whether the whole path fit (a cut path would name another file). */
static bool __attribute__((format(printf, 3, 4))) path_fmt(char *buf, size_t n, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return len >= 0 && (size_t)len < n;
}

/* ---- Finding the recorder library ---- */

static bool readable(const char *path) { return access(path, R_OK) == 0; }

static int find_recorder(char *path, size_t n)
{
    const char *env = getenv("HEAPKIT_RECORDER");
    if (env && *env) {
        return path_fmt(path, n, "%s", env) && readable(path) ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (path_fmt(path, n, "%s/libheapkit-record.so", exe) && readable(path))
        return 0; /* the build tree */
    return path_fmt(path, n, "%s/../lib/heapkit/libheapkit-record.so", exe) && readable(path)
               ? 0
               : -1; /* installed */
}

/* ---- The raw folder ---- */

static char *make_raw_dir(const char *out)
{
    char base[PATH_MAX], *dir;
    if (!path_fmt(base, sizeof base, "%s", out))
        return NULL;
    char *slash = strrchr(base, '/');
    const char *parent = slash ? (*slash = '\0', base[0] ? base : "/") : ".";
    char tmpl[PATH_MAX];
    if (!path_fmt(tmpl, sizeof tmpl, "%s/.heapkit-record.XXXXXX", parent) || !mkdtemp(tmpl))
        return NULL;
    dir = realpath(tmpl, NULL); /* the program may chdir: give the recorder a full path */
    return dir;
}

static void remove_raw_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(dh)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            path_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(dh);
    rmdir(dir);
}

/* Bytes logged so far (for the progress line). */
static unsigned long long raw_bytes(const char *dir)
{
    DIR *dh = opendir(dir);
    unsigned long long total = 0;
    if (!dh)
        return 0;
    struct dirent *e;
    char path[PATH_MAX];
    struct stat st;
    while ((e = readdir(dh)) != NULL) {
        path_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (unsigned long long)st.st_size;
    }
    closedir(dh);
    return total;
}

/* ---- Running CMD ---- */

static void run_child(const record_args_t *a, const char *recorder, const char *dir)
{
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(recorder) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(n);
    if (!preload)
        _exit(127);
    /* first, so the recorder sees the calls; a preloaded allocator is then "next" */
    snprintf(preload, n, "%s%s%s", recorder, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("HEAPKIT_RECORD_DIR", dir, 1);
    setenv("HEAPKIT_RECORD_CALLSITES", a->callsites ? "1" : "0", 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    execvp(a->cmd[0], a->cmd);
    fprintf(stderr, "heapkit: cannot run '%s': %s\n", a->cmd[0], strerror(errno));
    _exit(127);
}

static void on_child(int sig) { (void)sig; }

#define PROGRESS_NS (250 * 1000 * 1000ull)
#define IDLE_NS     (2 * 1000 * 1000) /* nothing new to convert: look again after this */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits for pid, converting its log meanwhile (live, when not NULL); with a terminal on
 * stderr, shows how much has been logged. */
static int wait_child(pid_t pid, const char *dir, progress_t *progress, raw_live_t *live)
{
    int status = 0;
    if (!progress->on && !live) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            continue;
        return status;
    }
    signal(SIGCHLD, on_child); /* wakes the sleep below at once */
    uint64_t said = 0;
    for (;;) {
        bool converting = live && raw_live_on(live);
        if (!converting && !progress->on) { /* it gave up: nothing to do but wait */
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                continue;
            break;
        }
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR))
            break;
        bool busy = converting && raw_live_step(live);
        uint64_t now = mono_ns();
        if (progress->on && now - said >= PROGRESS_NS) {
            progress_say(progress, "%.1f MB logged", (double)raw_bytes(dir) / 1e6);
            said = now;
        }
        struct timespec ts = {0, converting ? IDLE_NS : (long)PROGRESS_NS};
        if (!busy)
            nanosleep(&ts, NULL);
    }
    signal(SIGCHLD, SIG_DFL);
    progress_clear(progress);
    return status;
}

/* ---- Naming and writing the traces ---- */

/* The file of image img (root: the last image of CMD's process). False when too long. */
static bool trace_name(char *buf, size_t n, const char *out, const raw_image_t *img, bool root)
{
    const char *pct = strstr(out, "%p");
    char tag[64];
    if (pct) { /* %p -> pid; the k-th exec of a pid adds ".k" before the extension */
        const char *rest = pct + 2, *dot = strrchr(rest, '.');
        int head = (int)(pct - out), stem = dot ? (int)(dot - rest) : (int)strlen(rest);
        unsigned long long pid = (unsigned long long)img->pid, k = (unsigned long long)img->k;
        if (k)
            return path_fmt(buf, n, "%.*s%llu%.*s.%llu%s", head, out, pid, stem, rest, k,
                            dot ? dot : "");
        return path_fmt(buf, n, "%.*s%llu%s", head, out, pid, rest);
    }
    if (root)
        return path_fmt(buf, n, "%s", out);
    if (img->k)
        snprintf(tag, sizeof tag, ".%llu.%llu", (unsigned long long)img->pid,
                 (unsigned long long)img->k);
    else
        snprintf(tag, sizeof tag, ".%llu", (unsigned long long)img->pid);
    const char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : out))
        return path_fmt(buf, n, "%s%s", out, tag);
    return path_fmt(buf, n, "%.*s%s%s", (int)(dot - out), out, tag, dot);
}

static void say_summary(const char *name, const raw_image_t *img, const trace_t *t,
                        const raw_summary_t *s, uint64_t peak_live)
{
    const char *prog = img->exe ? strrchr(img->exe, '/') : NULL;
    prog = prog ? prog + 1 : img->exe ? img->exe : "?";
    fprintf(stderr, "heapkit: %s: %s (pid %llu%s): %u ops, %u thread%s, peak live %llu bytes, "
                    "ended %s\n",
            name, prog, (unsigned long long)img->pid, img->forked_from[0] ? ", forked" : "",
            t->num_ops, t->num_threads, t->num_threads == 1 ? "" : "s",
            (unsigned long long)peak_live, t->meta.ended);
    if (s->inherited)
        fprintf(stderr, "heapkit: %s: starts with the %llu blocks it inherited at the fork\n",
                name, (unsigned long long)s->inherited);
    if (s->unknown_frees || s->implicit_frees || s->unknown_reallocs || s->unfinished_reallocs)
        fprintf(stderr, "heapkit: %s: repaired: %llu frees of blocks never seen allocated "
                        "(dropped), %llu allocations over live blocks (freed first), %llu "
                        "reallocs of unknown blocks (allocations), %llu reallocs never "
                        "completed (frees)\n",
                name, (unsigned long long)s->unknown_frees,
                (unsigned long long)s->implicit_frees, (unsigned long long)s->unknown_reallocs,
                (unsigned long long)s->unfinished_reallocs);
    if (s->oversized)
        fprintf(stderr, "heapkit: %s: %llu allocations above 2^40 bytes left out\n", name,
                (unsigned long long)s->oversized);
    if (img->dropped)
        fprintf(stderr, "heapkit: %s: the recorder lost %llu events (out of memory)\n", name,
                (unsigned long long)img->dropped);
    if (img->error)
        fprintf(stderr, "heapkit: %s: the recorder stopped early: %s\n", name, img->error);
}

/* The recorder cannot see the status a program returns from main ("ended exit"): for
 * CMD's own process, waitpid can. */
static void complete_ending(trace_t *t, int wstatus)
{
    char how[32];
    if (WIFEXITED(wstatus))
        snprintf(how, sizeof how, "exit %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(how, sizeof how, "signal %d", WTERMSIG(wstatus));
    else
        return;
    bool vague = !t->meta.ended || strcmp(t->meta.ended, "exit") == 0 ||
                 strncmp(t->meta.ended, "unknown", 7) == 0;
    char *copy = vague ? strdup(how) : NULL;
    if (copy) {
        free(t->meta.ended);
        t->meta.ended = copy;
    }
}

/* HEAPKIT_RECORD_LIVE=say: how each image was converted (the tests look). */
static void say_conversion(const raw_image_t *img, const raw_live_t *live, bool was_live)
{
    const char *why = live && raw_live_follows(live, img) ? raw_live_why(live) : "";
    fprintf(stderr, "heapkit: %s: converted %s%s%s\n", img->name,
            was_live ? "while the program ran" : "after the program ended", *why ? ": " : "",
            why);
}

static int convert_all(const record_args_t *a, const char *dir, pid_t root, int wstatus,
                       progress_t *progress, raw_live_t *live)
{
    raw_dir_t d;
    if (raw_dir_open(&d, dir) < 0)
        return 2;
    int status = d.unreadable ? 2 : 0;
    if (d.unreadable)
        fprintf(stderr, "heapkit: %zu process image%s of the recording could not be read (said "
                        "above): no trace for %s\n",
                d.unreadable, d.unreadable == 1 ? "" : "s", d.unreadable == 1 ? "it" : "them");
    if (d.count == 0 && !d.unreadable)
        fprintf(stderr, "heapkit: nothing was recorded: '%s' allocated nothing, or is "
                        "statically linked or setuid (the recorder is a preload library)\n",
                a->cmd[0]);
    uint64_t root_last = 0; /* what CMD's process became: a wrapper exec'ing the program */
    for (size_t i = 0; i < d.count; i++)
        if (d.images[i].pid == (uint64_t)root && d.images[i].k > root_last)
            root_last = d.images[i].k;
    for (size_t i = 0; i < d.count; i++) {
        const raw_image_t *img = &d.images[i];
        char name[PATH_MAX];
        trace_t t;
        bool is_root = img->pid == (uint64_t)root && img->k == root_last;
        progress_say(progress, "writing the trace of %s (%zu/%zu)", img->name, i + 1, d.count);
        if (!trace_name(name, sizeof name, a->out, img, is_root)) {
            fprintf(stderr, "heapkit: %s: the trace name for image %s is too long\n", a->out,
                    img->name);
            status = 2;
            continue;
        }
        raw_summary_t sum;
        int got = live ? raw_live_finish(live, &d, i, &t, &sum) : 1;
        bool was_live = got == 0;
        if (got > 0)
            got = raw_image_trace(&d, i, &t, &sum);
        if (got < 0) {
            status = 2;
            continue;
        }
        if (a->say_live)
            say_conversion(img, live, was_live);
        if (is_root)
            complete_ending(&t, wstatus);
        uint64_t peak = 0;
        int written = was_live ? raw_live_write(live, &t, name, &peak)
                               : trace_write(&t, name, TRACE_FORMAT_HKT, TRACE_GZIP_FAST, NULL);
        progress_clear(progress);
        if (written < 0)
            status = 2;
        else if (!a->quiet)
            say_summary(name, img, &t, &sum, was_live ? peak : trace_peak_live(&t, NULL));
        trace_free(&t);
    }
    raw_dir_close(&d);
    return status;
}

/* ---- Public ---- */

int record_main(int argc, char **argv)
{
    record_args_t a = {0};
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    char default_out[PATH_MAX];
    if (!a.out) {
        const char *base = strrchr(a.cmd[0], '/');
        if (!path_fmt(default_out, sizeof default_out, "%s.hkt", base ? base + 1 : a.cmd[0]))
            return usage_error("the command's name is too long for a trace name", NULL);
        a.out = default_out;
    }
    const char *live_env = getenv("HEAPKIT_RECORD_LIVE");
    a.live = !live_env || strcmp(live_env, "0") != 0;
    a.say_live = live_env && !strcmp(live_env, "say");
    char recorder[PATH_MAX];
    if (find_recorder(recorder, sizeof recorder) < 0) {
        fprintf(stderr, "heapkit: cannot find the recorder library libheapkit-record.so "
                        "(build it with make, or set HEAPKIT_RECORDER)\n");
        return 2;
    }
    char *dir = make_raw_dir(a.out);
    if (!dir) {
        fprintf(stderr, "heapkit: cannot make a raw log folder beside '%s': %s\n", a.out,
                strerror(errno));
        return 2;
    }
    fflush(NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0)
        run_child(&a, recorder, dir);
    int wstatus = 0;
    progress_t progress;
    progress_init(&progress, "heapkit record", a.quiet);
    raw_live_t *live = pid > 0 && a.live ? raw_live_open(dir, (uint64_t)pid) : NULL;
    if (pid > 0)
        wstatus = wait_child(pid, dir, &progress, live);
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    if (pid < 0) {
        fprintf(stderr, "heapkit: cannot fork: %s\n", strerror(errno));
        remove_raw_dir(dir);
        free(dir);
        return 2;
    }
    bool ran = !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && raw_bytes(dir) == 0);
    int converted = ran ? convert_all(&a, dir, pid, wstatus, &progress, live) : 2;
    raw_live_close(live);
    progress_clear(&progress);
    if (a.keep_raw)
        fprintf(stderr, "heapkit: raw log kept in %s\n", dir);
    else
        remove_raw_dir(dir);
    free(dir);
    if (converted)
        return 2;
    return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}
