/*
 * callgrind.c -- the cost split of one function in a callgrind output file
 *                (see callgrind.h).
 *
 * Design:      The format is line-based: "fn=NAME" opens a function's block; inside it,
 *              a cost line is "POSITION IR ...", except the one right after "calls=N
 *              TARGET", which is the inclusive cost of the call that the preceding
 *              "cfn=NAME" names. Other specification lines (ob=, fl=, fi=, fe=, cob=,
 *              cfi=, ...) do not change the function. A name may carry a "'N" recursion
 *              suffix, which is ignored.
 * Complexity:  O(file size), one line in memory.
 */
#include "callgrind.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does the name (up to a newline or "'N" suffix) equal fn? */
static bool name_is(const char *name, const char *fn)
{
    size_t n = strlen(fn);
    return strncmp(name, fn, n) == 0 &&
           (name[n] == '\0' || name[n] == '\n' || name[n] == '\'');
}

/* The Ir of a cost line "POSITION IR ...": its second number (0 if it has none). */
static uint64_t cost_of(const char *line)
{
    char *end;
    strtoull(line, &end, 10);
    if (end == line)
        return 0;
    return strtoull(end, NULL, 10);
}

int callgrind_split(const char *path, const char *fn, const char *own_prefix,
                    callgrind_split_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(out, 0, sizeof *out);
    char *line = NULL;
    size_t cap = 0;
    bool in_fn = false, call_cost = false, own_callee = false;
    while (getline(&line, &cap, f) >= 0) {
        if (strncmp(line, "fn=", 3) == 0) {
            in_fn = name_is(line + 3, fn);
            out->blocks += in_fn;
            call_cost = false;
        } else if (!in_fn) {
            continue;
        } else if (strncmp(line, "cfn=", 4) == 0) {
            own_callee = strncmp(line + 4, own_prefix, strlen(own_prefix)) == 0;
        } else if (strncmp(line, "calls=", 6) == 0) {
            call_cost = true;
        } else if ((line[0] >= '0' && line[0] <= '9') || line[0] == '+' || line[0] == '-') {
            uint64_t ir = cost_of(line);
            if (!call_cost)
                out->self += ir;
            else if (own_callee)
                out->own_calls += ir;
            else
                out->other_calls += ir;
            call_cost = false;
        }
    }
    free(line);
    fclose(f);
    return 0;
}
