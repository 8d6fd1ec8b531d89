/*
 * output.c -- formatted output without malloc or stdio.
 *
 * Design:      a small vsnprintf (%s %c %d %i %u %x %p, flags '-' '0', a width, the
 *              length modifiers l ll z) writing to a stack buffer, then one write(2) to
 *              stderr per line (hki_os_write_stderr). Safe to call with any lock held.
 */
#include "config.h"
#include "support.h"
#include "os.h"

#include <stdarg.h>

typedef struct out_s {
    char *buf;
    size_t size, len;
} out_t;

static void out_char(out_t *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void out_num(out_t *o, unsigned long long v, unsigned base, bool neg, int width,
                    bool left, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    if (neg)
        tmp[n++] = '-';
    int fill = width > n ? width - n : 0;
    if (!left)
        while (fill-- > 0)
            out_char(o, pad);
    while (n > 0)
        out_char(o, tmp[--n]);
    if (left)
        while (fill-- > 0)
            out_char(o, ' ');
}

int hki_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    out_t o = {buf, size, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            out_char(&o, *f);
            continue;
        }
        f++;
        bool left = false;
        char pad = ' ';
        int width = 0, lng = 0;
        for (; *f == '-' || *f == '0'; f++) {
            if (*f == '-')
                left = true;
            else
                pad = '0';
        }
        for (; *f >= '0' && *f <= '9'; f++)
            width = width * 10 + (*f - '0');
        for (; *f == 'l' || *f == 'z'; f++)
            lng = *f == 'z' ? 3 : lng + 1;
        switch (*f) {
        case 'd':
        case 'i': {
            long long v = lng == 0 ? va_arg(ap, int)
                          : lng == 1 ? va_arg(ap, long)
                          : lng == 2 ? va_arg(ap, long long)
                                     : (long long)va_arg(ap, ptrdiff_t);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            out_num(&o, u, 10, v < 0, width, left, pad);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng == 0 ? va_arg(ap, unsigned)
                                   : lng == 1 ? va_arg(ap, unsigned long)
                                   : lng == 2 ? va_arg(ap, unsigned long long)
                                              : va_arg(ap, size_t);
            out_num(&o, v, *f == 'x' ? 16 : 10, false, width, left, pad);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            out_char(&o, '0');
            out_char(&o, 'x');
            out_num(&o, v, 16, false, 0, false, ' ');
            break;
        }
        case 'c':
            out_char(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            int n = 0;
            while (s[n])
                n++;
            int fill = width > n ? width - n : 0;
            if (!left)
                while (fill-- > 0)
                    out_char(&o, ' ');
            for (int i = 0; i < n; i++)
                out_char(&o, s[i]);
            if (left)
                while (fill-- > 0)
                    out_char(&o, ' ');
            break;
        }
        case '%':
            out_char(&o, '%');
            break;
        default:
            out_char(&o, '?');
            if (*f == '\0')
                f--;
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int hki_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = hki_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void vprint(const char *prefix, const char *fmt, va_list ap, bool newline)
{
    char buf[512];
    size_t len = 0;
    if (prefix != NULL)
        len = (size_t)hki_snprintf(buf, sizeof buf, "%s", prefix);
    int n = hki_vsnprintf(buf + len, sizeof buf - len - 1, fmt, ap);
    len += (size_t)n;
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    if (newline)
        buf[len++] = '\n';
    hki_os_write_stderr(buf, len);
}

void hki_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(NULL, fmt, ap, false);
    va_end(ap);
}

void hki_verbose(const char *fmt, ...)
{
    if (!hki_option(HK_OPT_VERBOSE))
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint("heapkit: ", fmt, ap, true);
    va_end(ap);
}

void hki_vprint_line(const char *prefix, const char *fmt, va_list ap)
{
    vprint(prefix, fmt, ap, true);
}

void hki_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("heapkit: fatal: ", fmt, ap, true);
    va_end(ap);
    hki_os_abort();
}
