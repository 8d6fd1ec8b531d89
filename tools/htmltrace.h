/*
 * htmltrace.h -- one trace's section of the `heapkit report` page (htmlpage.h), and the
 *                pieces of it the page's index repeats.
 */
#ifndef HK_TOOLS_HTMLTRACE_H
#define HK_TOOLS_HTMLTRACE_H

#include <stddef.h>
#include <stdio.h>

#include "htmlpage.h"
#include "verdict.h"

/* The name a trace goes by: its program's file name, else the trace file's. */
const char *htmltrace_title(const trace_t *t);

/* The verdict in one sentence ("For this program: ..."); v->least must be set. */
/* lead: the sentence's start (NULL: "For this program: ", or "trace" for a classic one). */
void htmltrace_sentence(FILE *f, const trace_t *t, const verdict_t *v, const char *lead);

/* The section of trace s, with the anchor id "trace-<index + 1>". Returns 0, or -1 when
 * out of memory. */
int htmltrace_write(FILE *f, const htmlpage_trace_t *s, size_t index);

#endif
