/*
 * progress.h -- one line of progress on stderr for the long commands (record, replay,
 *               report), only when stderr is a terminal: a log or a pipe gets nothing.
 *
 * Design:      The line is rewritten in place ("\r", erase to the end) and erased when
 *              the work is done, so the command's real output and messages are never
 *              mixed with it.
 */
#ifndef HK_TOOLS_PROGRESS_H
#define HK_TOOLS_PROGRESS_H

#include <stdbool.h>

typedef struct progress {
    bool        on;    /* stderr is a terminal and nobody asked for quiet */
    bool        shown; /* a line is on the screen */
    const char *who;   /* "heapkit replay" */
} progress_t;

void progress_init(progress_t *p, const char *who, bool quiet);
void progress_say(progress_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_clear(progress_t *p);

#endif
