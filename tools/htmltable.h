/*
 * htmltable.h -- the tables of the `heapkit report` page (htmlpage.h): one row per replay
 *                result, and the call sites; plus the number formats the page shares.
 *
 * Design:      Each cell carries its exact value in data-v, which the page's script
 *              sorts by (a cell without data-v, "–", sorts last either way), and the
 *              readable form as text (bytes in binary units with the exact count on
 *              hover). In the rows table the best value of each column among the rows
 *              that have it is marked (class "best"; every row that ties), and the rows
 *              the verdict picked carry their role next to the name.
 */
#ifndef HK_TOOLS_HTMLTABLE_H
#define HK_TOOLS_HTMLTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "htmlpage.h"
#include "verdict.h"

/* "1,234,567" */
void htmltable_count(char *buf, size_t len, uint64_t v);

/* The rows of one trace as a sortable <table class="rows">. */
void htmltable_rows(FILE *f, const htmlpage_trace_t *s, const verdict_t *v);

/* The top call sites by bytes requested and by bytes live at the peak (two tables side
 * by side); nothing when the trace has no call-site counts. Returns -1 when out of
 * memory, else 0. */
int htmltable_sites(FILE *f, const htmlpage_trace_t *s);

#endif
