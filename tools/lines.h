/*
 * lines.h -- a line reader for untrusted text files (plain or gzip) whose errors name
 *            FILE:LINE, and the number parsing every trace reader shares.
 *
 * Design:      zlib's gzread reads plain files as they are and gzip files inflated, so
 *              one reader serves both. Lines are cut from a 64 KiB buffer with memchr,
 *              which is faster than a gzgets per line on traces of millions of lines and,
 *              unlike gzgets, sees a NUL byte inside a line: a NUL is an error, never a
 *              silently shortened line. A line longer than LINES_MAX_BYTES is an error
 *              too (no valid trace line comes close), so memory stays bounded whatever
 *              the input. Blank lines are skipped; blanks at either end are trimmed.
 * Errors:      every function that fails has printed "heapkit: FILE:LINE: message" to
 *              stderr (lines_report) and returns -1.
 */
#ifndef HK_TOOLS_LINES_H
#define HK_TOOLS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define LINES_MAX_BYTES 4096 /* longest line accepted, newline excluded */

typedef struct lines {
    gzFile      file;
    const char *path;
    uint64_t    line;  /* number of the current line (1-based; 0 before the first) */
    char       *text;  /* the current line, NUL-terminated, trimmed */
    size_t      len;   /* strlen(text) */
    /* buffer state */
    char   *buf;
    size_t  start, end; /* unread bytes are buf[start, end) */
    bool    eof;
} lines_t;

/* Opens path (plain or gzip). Returns 0, or -1 after printing "heapkit: PATH: cannot open". */
int  lines_open(lines_t *r, const char *path);
void lines_close(lines_t *r);

/* Reads the next non-blank line into r->text. Returns 1, 0 at the end of the file, or -1
 * on error (reported). */
int lines_next(lines_t *r);

/* Prints "heapkit: FILE:LINE: <message>" for the current line. */
void lines_report(const lines_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool lines_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
const char *lines_skip_blanks(const char *s);

/* A short printable excerpt of untrusted text for a message (non-printables become '?'). */
typedef struct lines_excerpt {
    char text[28];
} lines_excerpt_t;
lines_excerpt_t lines_excerpt(const char *s);

/* Parses a non-negative decimal at *s (after blanks) that ends at a blank or the end of
 * the line, advancing *s. `what` names the field in messages; values above `max` are
 * rejected. Returns 0 or -1 (reported). */
int lines_number(lines_t *r, const char **s, const char *what, uint64_t max, uint64_t *out);
/* Fails unless only blanks remain at s. */
int lines_expect_end(lines_t *r, const char *s);

#endif
