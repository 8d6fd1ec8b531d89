/*
 * lines.c -- the line reader and number parsing of lines.h.
 *
 * Design:      see lines.h. The buffer holds LINES_BUF bytes; a line is complete when a
 *              newline is found in [start, end) or at the end of the file. When no
 *              newline is in sight the unread bytes move to the front and more are read,
 *              so a line never needs more than the buffer. Errors from zlib (a truncated
 *              or damaged gzip stream) are reported at the line being read.
 * Complexity:  O(bytes) for the whole file.
 */
#include "lines.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINES_BUF ((size_t)64 << 10)

_Static_assert(LINES_MAX_BYTES + 2 < LINES_BUF, "a whole line must fit in the buffer");

void lines_report(const lines_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heapkit: %s:%llu: ", r->path, (unsigned long long)(r->line ? r->line : 1));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int lines_open(lines_t *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->buf = malloc(LINES_BUF + 1);
    errno = 0;
    r->file = r->buf ? gzopen(path, "rb") : NULL;
    if (!r->file) {
        fprintf(stderr, "heapkit: %s: cannot open: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        free(r->buf);
        r->buf = NULL;
        return -1;
    }
    gzbuffer(r->file, 128 << 10);
    return 0;
}

void lines_close(lines_t *r)
{
    if (r->file)
        gzclose(r->file);
    free(r->buf);
    r->file = NULL;
    r->buf = NULL;
}

/* zlib prefixes its messages with the path, which ours already carry. */
static const char *zlib_message(const lines_t *r, const char *msg)
{
    size_t n = strlen(r->path);
    if (strncmp(msg, r->path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

/* Moves the unread bytes to the front and reads more. Returns 0, or -1 (reported). */
static int refill(lines_t *r)
{
    size_t unread = r->end - r->start;
    memmove(r->buf, r->buf + r->start, unread);
    r->start = 0;
    r->end = unread;
    int got = gzread(r->file, r->buf + r->end, (unsigned)(LINES_BUF - r->end));
    int err = Z_OK;
    const char *msg = got <= 0 ? gzerror(r->file, &err) : NULL;
    /* zlib reports a gzip stream that ends early as an error after the last bytes */
    if (got < 0 || (err != Z_OK && err != Z_STREAM_END)) {
        r->line++;
        lines_report(r, "read error: %s",
                     err == Z_ERRNO ? strerror(errno) : zlib_message(r, msg));
        return -1;
    }
    if (got == 0)
        r->eof = true;
    r->end += (size_t)got;
    return 0;
}

/* Cuts the next raw line (without its newline) out of the buffer into r->text. Returns 1,
 * 0 at the end, -1 on error. */
static int next_raw_line(lines_t *r)
{
    for (;;) {
        char *from = r->buf + r->start;
        char *nl = memchr(from, '\n', r->end - r->start);
        if (nl || (r->eof && r->end > r->start)) {
            size_t len = nl ? (size_t)(nl - from) : r->end - r->start;
            r->line++;
            if (len > LINES_MAX_BYTES) {
                lines_report(r, "line longer than %d bytes: not a trace", LINES_MAX_BYTES);
                return -1;
            }
            from[len] = '\0'; /* the newline, or the spare byte after the buffer */
            r->start += len + (nl ? 1 : 0);
            r->text = from;
            r->len = len;
            return 1;
        }
        if (r->eof)
            return 0;
        if (r->end - r->start > LINES_MAX_BYTES) {
            r->line++;
            lines_report(r, "line longer than %d bytes: not a trace", LINES_MAX_BYTES);
            return -1;
        }
        if (refill(r) < 0)
            return -1;
    }
}

const char *lines_skip_blanks(const char *s)
{
    while (*s && lines_is_blank(*s))
        s++;
    return s;
}

int lines_next(lines_t *r)
{
    for (;;) {
        int got = next_raw_line(r);
        if (got <= 0)
            return got;
        if (strlen(r->text) != r->len) {
            lines_report(r, "NUL byte in the line: not a trace");
            return -1;
        }
        while (r->len > 0 && lines_is_blank(r->text[r->len - 1]))
            r->text[--r->len] = '\0';
        const char *s = lines_skip_blanks(r->text);
        if (*s) {
            r->len -= (size_t)(s - r->text);
            r->text += s - r->text;
            return 1;
        }
    }
}

lines_excerpt_t lines_excerpt(const char *s)
{
    lines_excerpt_t e;
    size_t n = 0;
    for (; s[n] && n < sizeof e.text - 4; n++)
        e.text[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
    if (s[n]) {
        memcpy(e.text + n, "...", 3);
        n += 3;
    }
    e.text[n] = '\0';
    return e;
}

int lines_number(lines_t *r, const char **s, const char *what, uint64_t max, uint64_t *out)
{
    const char *start = lines_skip_blanks(*s), *p = start;
    if (*p == '-') {
        lines_report(r, "negative %s", what);
        return -1;
    }
    if (*p < '0' || *p > '9') {
        if (*p)
            lines_report(r, "expected %s, found '%s'", what, lines_excerpt(p).text);
        else
            lines_report(r, "missing %s", what);
        return -1;
    }
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) {
            lines_report(r, "%s is absurdly large", what);
            return -1;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p && !lines_is_blank(*p)) {
        lines_report(r, "expected %s, found '%s'", what, lines_excerpt(start).text);
        return -1;
    }
    if (v > max) {
        lines_report(r, "%s %llu is absurd (limit %llu)", what, (unsigned long long)v,
                     (unsigned long long)max);
        return -1;
    }
    *out = v;
    *s = p;
    return 0;
}

int lines_expect_end(lines_t *r, const char *s)
{
    s = lines_skip_blanks(s);
    if (*s) {
        lines_report(r, "unexpected text '%s' at the end of the line", lines_excerpt(s).text);
        return -1;
    }
    return 0;
}
