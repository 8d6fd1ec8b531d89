/*
 * progress.c -- the progress line of progress.h.
 */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void progress_init(progress_t *p, const char *who, bool quiet)
{
    p->on = !quiet && isatty(STDERR_FILENO) == 1;
    p->shown = false;
    p->who = who;
}

void progress_say(progress_t *p, const char *fmt, ...)
{
    if (!p->on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K%s: ", p->who);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    p->shown = true;
}

void progress_clear(progress_t *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}
