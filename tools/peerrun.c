/*
 * peerrun.c -- running heapkit-play on each peer and making rows of its runs
 *              (see peerrun.h).
 *
 * Design:      One run is fork, exec of the player (under valgrind for the callgrind
 *              run) with the peer's LD_PRELOAD and LD_BIND_NOW (every symbol bound
 *              before the baseline, none lazily inside the timed loop), and a read of
 *              its stdout until it closes. The player's own alarm ends a replay that
 *              stops making progress with a message; heapkit kills a player that
 *              outlives that alarm anyway, so a hung allocator never hangs the table.
 *              The player's last line is the result (tools/play/player.c lists the
 *              forms); a death by signal is a crash of the allocator, named with the op
 *              the player's handler reported. What the player counted (ops, peak live)
 *              must equal what heapkit counted from the trace, or the row fails: a
 *              mismatch would mean the two read different traces.
 * Complexity:  runs x traces x peers player processes; O(ops) per play file.
 */
#include "peerrun.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "callgrind.h"
#include "playwrite.h"

#define PLAYER_TIMEOUT    "600"  /* seconds: the player's alarm for one replay */
#define CALLGRIND_TIMEOUT "3600" /* the same, under valgrind (~50x slower) */
#define GRACE_SECONDS     30     /* heapkit kills a player this long after its alarm */
#define LOOP_FUNCTION     "play_thread_ops" /* tools/play/ops.c: what callgrind collects */
#define OWN_PREFIX        "play_"           /* the player's own functions */
#define OUTPUT_MAX        4096

/* What one run of the player said. */
typedef struct outcome {
    bool     ok;
    uint32_t fail_op; /* 1-based; 0: not at an op */
    char     reason[200];
    uint64_t ns, baseline, peak, final, ops, peak_live;
    bool     hwm_reset;
} outcome_t;

static void __attribute__((format(printf, 2, 3))) set_reason(outcome_t *o, const char *fmt, ...)
{
    o->ok = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
}

/* ---- One run ---- */

typedef struct command {
    const char *argv[24];
    int         argc;
    char        cg_out_arg[PATH_MAX + 32];
    int         timeout; /* seconds until heapkit kills it */
} command_t;

static void add_arg(command_t *c, const char *arg) { c->argv[c->argc++] = arg; }

static void build_command(command_t *c, const peer_set_t *set, const peer_t *peer,
                          const char *file, const replay_options_t *opt, const char *cg_out)
{
    c->argc = 0;
    if (cg_out) {
        snprintf(c->cg_out_arg, sizeof c->cg_out_arg, "--callgrind-out-file=%s", cg_out);
        add_arg(c, "valgrind");
        add_arg(c, "--tool=callgrind");
        add_arg(c, "-q");
        add_arg(c, c->cg_out_arg);
        add_arg(c, "--collect-atstart=no");
        add_arg(c, "--toggle-collect=" LOOP_FUNCTION);
        add_arg(c, "--compress-strings=no");
        add_arg(c, "--compress-pos=no");
    }
    add_arg(c, set->player);
    add_arg(c, "--threads");
    add_arg(c, opt->threads_recorded ? "recorded" : "one");
    add_arg(c, "--expect");
    add_arg(c, peer->lib ? peer->lib : "libc");
    add_arg(c, "--timeout");
    add_arg(c, cg_out ? CALLGRIND_TIMEOUT : PLAYER_TIMEOUT);
    add_arg(c, file);
    c->argv[c->argc] = NULL;
    c->timeout = atoi(cg_out ? CALLGRIND_TIMEOUT : PLAYER_TIMEOUT) + GRACE_SECONDS;
}

static void run_child(const command_t *c, const peer_t *peer, int out_fd)
{
    if (dup2(out_fd, 1) < 0)
        _exit(127);
    close(out_fd);
    unsetenv("LD_PRELOAD"); /* the user's preloads would be measured too */
    if (peer->lib)
        setenv("LD_PRELOAD", peer->lib, 1);
    setenv("LD_BIND_NOW", "1", 1);
    execvp(c->argv[0], (char *const *)(void *)c->argv);
    fprintf(stderr, "heapkit: cannot run %s: %s\n", c->argv[0], strerror(errno));
    _exit(127);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads fd until EOF into buf (keeping the first cap-1 bytes); false if the deadline
 * passed first. */
static bool read_until_eof(int fd, char *buf, size_t cap, double deadline)
{
    size_t len = 0;
    char sink[512];
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        char *to = len + 1 < cap ? buf + len : sink;
        size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
        ssize_t got = read(fd, to, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (to != sink)
            len += (size_t)got;
    }
    buf[len] = '\0';
    return true;
}

/* Runs c; the player's stdout into out, its wait status into *status. False when it had to
 * be killed (timeout) or could not be started (o says why). */
static bool run_command(const command_t *c, const peer_t *peer, char *out, int *status,
                        outcome_t *o)
{
    int fds[2];
    out[0] = '\0';
    if (pipe(fds) != 0) {
        set_reason(o, "cannot make a pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        set_reason(o, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        run_child(c, peer, fds[1]);
    }
    close(fds[1]);
    bool finished = read_until_eof(fds[0], out, OUTPUT_MAX, now_seconds() + c->timeout);
    close(fds[0]);
    if (!finished)
        kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        continue;
    if (!finished)
        set_reason(o, "the player did not finish within %d s and was killed", c->timeout);
    return finished;
}

/* ---- The player's result line ---- */

/* The last line of out that starts with `word` followed by a blank, or NULL. */
static const char *last_line(const char *out, const char *word)
{
    const char *found = NULL;
    size_t n = strlen(word);
    for (const char *line = out; *line;) {
        if (strncmp(line, word, n) == 0 && line[n] == ' ')
            found = line;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return found;
}

/* The number after " key=" (or "key=" at the start) on line; false if absent. */
static bool field(const char *line, const char *key, uint64_t *value)
{
    size_t n = strlen(key);
    for (const char *at = line; *at && *at != '\n'; at++) {
        if ((at == line || at[-1] == ' ') && strncmp(at, key, n) == 0 && at[n] == '=') {
            char *end;
            *value = strtoull(at + n + 1, &end, 10);
            return end != at + n + 1;
        }
    }
    return false;
}

/* The text of line after its first `skip` words, up to the newline. */
static void copy_message(char *to, size_t cap, const char *line, int skip)
{
    for (; skip > 0 && line; skip--) {
        line = strchr(line, ' ');
        line = line ? line + 1 : NULL;
    }
    const char *s = line ? line : "";
    size_t n = strcspn(s, "\n");
    snprintf(to, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
}

static void parse_ok(const char *line, outcome_t *o)
{
    uint64_t reset = 0;
    o->ok = field(line, "ns", &o->ns) && field(line, "baseline", &o->baseline) &&
            field(line, "peak", &o->peak) && field(line, "final", &o->final) &&
            field(line, "ops", &o->ops) && field(line, "peak_live", &o->peak_live) &&
            field(line, "hwm_reset", &reset);
    o->hwm_reset = reset != 0;
    if (!o->ok)
        set_reason(o, "unreadable result from the player: %.120s", line);
}

static void interpret(const char *out, int status, outcome_t *o)
{
    const char *line;
    uint64_t op = 0;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        line = last_line(out, "crash");
        if (line && field(line, "op", &op))
            o->fail_op = (uint32_t)op;
        set_reason(o, "the player crashed (signal %d, %s)", sig, strsignal(sig));
    } else if (WEXITSTATUS(status) == 0 && (line = last_line(out, "ok")) != NULL) {
        parse_ok(line, o);
    } else if ((line = last_line(out, "fail")) != NULL) {
        o->ok = false;
        if (field(line, "op", &op))
            o->fail_op = (uint32_t)op;
        copy_message(o->reason, sizeof o->reason, line, 2);
    } else if ((line = last_line(out, "error")) != NULL) {
        o->ok = false;
        snprintf(o->reason, sizeof o->reason, "player: ");
        copy_message(o->reason + 8, sizeof o->reason - 8, line, 1);
    } else {
        set_reason(o, WEXITSTATUS(status) == 127 ? "the player could not be started (see stderr)"
                                                  : "the player exited with status %d and no "
                                                    "result (see stderr)",
                   WEXITSTATUS(status));
    }
}

static void run_once(const peer_set_t *set, const peer_t *peer, const char *file,
                     const replay_options_t *opt, const char *cg_out, outcome_t *o)
{
    static char out[OUTPUT_MAX];
    command_t c;
    int status = 0;
    memset(o, 0, sizeof *o);
    build_command(&c, set, peer, file, opt, cg_out);
    if (run_command(&c, peer, out, &status, o))
        interpret(out, status, o);
}

/* ---- Rows ---- */

/* One run's figures (doubles: medians of two middle values are halves). */
typedef struct sample {
    double ns, footprint, baseline, final; /* final: above the baseline, may be < 0 */
} sample_t;

static void start_row(replay_result_t *r, const trace_t *t, const peer_t *peer, uint64_t live)
{
    memset(r, 0, sizeof *r);
    r->trace = t;
    r->name = peer->row;
    r->peer = peer->name;
    r->ops = t->num_ops;
    r->peak_live = live;
    r->ok = true;
}

static void fail_row(replay_result_t *r, const outcome_t *o, unsigned run, unsigned runs)
{
    r->ok = false;
    if (o->fail_op && o->fail_op <= r->trace->num_ops) {
        r->fail_op = o->fail_op;
        r->fail_line = r->trace->lines[o->fail_op - 1];
    }
    if (runs > 1)
        snprintf(r->reason, sizeof r->reason, "run %u of %u: %s", run + 1, runs, o->reason);
    else
        snprintf(r->reason, sizeof r->reason, "%s", o->reason);
}

/* A successful run's sample, or a failure if the player saw another trace than heapkit. */
static bool take_sample(replay_result_t *r, outcome_t *o, sample_t *s)
{
    if (o->ops != r->ops || o->peak_live != r->peak_live) {
        set_reason(o, "internal error: the player played %llu ops with peak live %llu; the "
                      "trace has %u and %zu", (unsigned long long)o->ops,
                   (unsigned long long)o->peak_live, r->ops, r->peak_live);
        return false;
    }
    s->ns = (double)o->ns;
    s->baseline = (double)o->baseline;
    s->footprint = (double)(o->peak - o->baseline);
    s->final = (double)o->final - (double)o->baseline;
    return true;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the field at byte offset `field` of n samples. */
static double median(const sample_t *s, unsigned n, size_t field)
{
    double v[REPLAY_MAX_TIMING_RUNS];
    for (unsigned i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&s[i] + field, sizeof v[i]);
    qsort(v, n, sizeof v[0], compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void finish_row(replay_result_t *r, const sample_t *s, unsigned n, bool timed)
{
    r->peak_footprint = (size_t)median(s, n, offsetof(sample_t, footprint));
    r->utilization =
        r->peak_footprint ? (double)r->peak_live / (double)r->peak_footprint : 0.0;
    r->baseline_rss = (size_t)median(s, n, offsetof(sample_t, baseline));
    r->final_rss = (long long)median(s, n, offsetof(sample_t, final));
    if (!timed)
        return;
    r->timing_runs = n;
    r->seconds = median(s, n, offsetof(sample_t, ns)) * 1e-9;
    if (r->seconds < 1e-9)
        r->seconds = 1e-9;
    r->ops_per_sec = (double)r->ops / r->seconds;
}

/* ---- The play files ---- */

typedef struct workdir {
    char   path[PATH_MAX];
    char **files; /* one play file per trace */
    size_t count;
} workdir_t;

static void workdir_remove(workdir_t *w)
{
    for (size_t i = 0; w->files && i < w->count; i++) {
        if (w->files[i])
            unlink(w->files[i]);
        free(w->files[i]);
    }
    free(w->files);
    if (w->path[0])
        rmdir(w->path);
}

static int workdir_make(workdir_t *w, const trace_t *traces, size_t ntraces)
{
    const char *tmp = getenv("TMPDIR");
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s/heapkit-play.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(w->path)) {
        fprintf(stderr, "heapkit: cannot make a folder for the play files (%s): %s\n", w->path,
                strerror(errno));
        w->path[0] = '\0';
        return -1;
    }
    w->files = calloc(ntraces ? ntraces : 1, sizeof *w->files);
    if (!w->files)
        return -1;
    w->count = ntraces;
    for (size_t t = 0; t < ntraces; t++) {
        char name[PATH_MAX + 32];
        snprintf(name, sizeof name, "%s/%zu.play", w->path, t);
        w->files[t] = strdup(name);
        if (!w->files[t] || playwrite(&traces[t], w->files[t]) != 0)
            return -1;
    }
    return 0;
}

/* ---- Callgrind ---- */

static bool valgrind_installed(void)
{
    const char *path = getenv("PATH");
    char dir[PATH_MAX + 16];
    for (const char *at = path ? path : "/usr/bin:/bin"; *at;) {
        size_t n = strcspn(at, ":");
        snprintf(dir, sizeof dir, "%.*s/valgrind", (int)(n ? n : 1), n ? at : ".");
        if (access(dir, X_OK) == 0)
            return true;
        at += n + (at[n] == ':');
    }
    return false;
}

static void count_instructions(const workdir_t *w, const peer_set_t *set,
                               const replay_options_t *opt, replay_result_t *r, size_t trace,
                               const peer_t *peer)
{
    char cg_out[PATH_MAX + 16];
    outcome_t o;
    callgrind_split_t cost;
    snprintf(cg_out, sizeof cg_out, "%s/callgrind.out", w->path);
    run_once(set, peer, w->files[trace], opt, cg_out, &o);
    if (!o.ok)
        fprintf(stderr, "heapkit: note: the callgrind run of %s on %s failed: %s\n",
                r->trace->name, peer->name, o.reason);
    else if (callgrind_split(cg_out, LOOP_FUNCTION, OWN_PREFIX, &cost) != 0 || !cost.blocks)
        fprintf(stderr, "heapkit: note: no callgrind figures for %s on %s\n", r->trace->name,
                peer->name);
    else if (r->ops) {
        r->has_instr = true;
        r->instr_per_op = (double)cost.other_calls / r->ops;
        r->player_instr_per_op = (double)cost.self / r->ops;
    }
    unlink(cg_out);
}

/* ---- Public ---- */

/* Run `run` of every (trace, peer) whose row has not failed. */
static void run_round(const workdir_t *w, const peer_set_t *set, const replay_options_t *opt,
                      replay_result_t *rows, size_t stride, size_t first, sample_t *samples,
                      unsigned run, unsigned runs, bool *noted)
{
    for (size_t t = 0; t < w->count; t++)
        for (size_t p = 0; p < set->count; p++) {
            replay_result_t *r = &rows[t * stride + first + p];
            outcome_t o;
            if (!r->ok)
                continue;
            run_once(set, &set->peers[p], w->files[t], opt, NULL, &o);
            if (!o.ok || !take_sample(r, &o, &samples[(t * set->count + p) * runs + run])) {
                fail_row(r, &o, run, runs);
                continue;
            }
            if (!o.hwm_reset && !*noted) {
                fputs("heapkit: note: the kernel refused to reset the RSS high-water mark "
                      "(/proc/self/clear_refs): peer footprints include the player's set-up\n",
                      stderr);
                *noted = true;
            }
        }
}

int peerrun_all(const trace_t *traces, size_t ntraces, const peer_set_t *set,
                const replay_options_t *opt, replay_result_t *rows, size_t stride, size_t first)
{
    unsigned runs = opt->timing_runs ? opt->timing_runs : 1;
    workdir_t w;
    sample_t *samples = calloc(ntraces * set->count * runs + 1, sizeof *samples);
    if (!samples || workdir_make(&w, traces, ntraces) != 0) {
        if (samples)
            workdir_remove(&w);
        free(samples);
        fputs("heapkit: cannot write the play files for the peers\n", stderr);
        return -1;
    }
    for (size_t t = 0; t < ntraces; t++) {
        uint64_t live = trace_peak_live(&traces[t], NULL);
        for (size_t p = 0; p < set->count; p++)
            start_row(&rows[t * stride + first + p], &traces[t], &set->peers[p], live);
    }
    bool noted = false;
    for (unsigned run = 0; run < runs; run++)
        run_round(&w, set, opt, rows, stride, first, samples, run, runs, &noted);
    for (size_t t = 0; t < ntraces; t++)
        for (size_t p = 0; p < set->count; p++) {
            replay_result_t *r = &rows[t * stride + first + p];
            if (r->ok)
                finish_row(r, &samples[(t * set->count + p) * runs], runs, opt->timing_runs > 0);
        }
    if (opt->callgrind && !valgrind_installed())
        fputs("heapkit: note: valgrind is not installed: no instruction counts "
              "(apt-get install valgrind)\n", stderr);
    else if (opt->callgrind)
        for (size_t t = 0; t < ntraces; t++)
            for (size_t p = 0; p < set->count; p++)
                if (rows[t * stride + first + p].ok)
                    count_instructions(&w, set, opt, &rows[t * stride + first + p], t,
                                       &set->peers[p]);
    workdir_remove(&w);
    free(samples);
    return 0;
}
