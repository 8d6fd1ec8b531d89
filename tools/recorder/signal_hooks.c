/*
 * signal_hooks.c -- sigaction and signal, so that the recorder's handlers for fatal
 *                   signals (log.c) stay invisible to the program.
 *
 * Design:      The recorder catches fatal signals to write out what it has buffered. A
 *              program that asks what a signal's action is must still see the default
 *              it started with: runtimes install their own handler only over SIG_DFL
 *              (CPython's SIGINT, for KeyboardInterrupt), and would otherwise leave ours
 *              in place and behave differently under the recorder. So a query reports
 *              SIG_DFL where our handler is, and once the program installs an action of
 *              its own, ours is forgotten (the program's runs from then on).
 *              glibc's own code (system(), posix_spawn) calls its internal sigaction,
 *              which this does not see: it saves and restores our handler, unchanged.
 */
#include "rec.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static void as_default(struct sigaction *old)
{
    memset(old, 0, sizeof *old);
    old->sa_handler = SIG_DFL;
    sigemptyset(&old->sa_mask);
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    bool ours = rec_catches(sig);
    int r = rec_sigaction(sig, act, old);
    if (r == 0 && old && ours)
        as_default(old);
    if (r == 0 && act)
        rec_release_signal(sig);
    return r;
}

typedef void (*handler_t)(int);

EXPORT handler_t signal(int sig, handler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    sa.sa_flags = SA_RESTART; /* glibc's signal(): BSD semantics */
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}
