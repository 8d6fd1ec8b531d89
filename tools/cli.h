/*
 * cli.h -- what every subcommand's option parsing shares: the usage error and numbers.
 */
#ifndef HK_TOOLS_CLI_H
#define HK_TOOLS_CLI_H

#include <stdbool.h>

#define CLI_BAD_USAGE 2 /* the exit status of bad usage and bad input, for every command */

/* Prints "heapkit: <message>" and "(try `heapkit COMMAND --help`)"; returns CLI_BAD_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A whole decimal number in [lo, hi] (no sign, no blanks, nothing after), else false. */
bool cli_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);

#endif
