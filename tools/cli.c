/*
 * cli.c -- the option helpers of cli.h.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heapkit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(try `heapkit %s --help`)\n", command);
    va_end(ap);
    return CLI_BAD_USAGE;
}

bool cli_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
