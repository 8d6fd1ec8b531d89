/*
 * rss.c -- resident memory as the OS sees it: VmRSS and VmHWM of /proc/self/status,
 *          and the high-water reset.
 *
 * Design:      The footprint of a peer is VmHWM (the resident high-water mark) at the
 *              end minus the RSS at the baseline. Writing "5" to /proc/self/clear_refs
 *              (Linux >= 4.0) sets the high-water mark to the current RSS, so the peak
 *              measured is the replay's, not a transient of the player's set-up. Where
 *              the kernel refuses, the player says so (hwm_reset=0) and the mark still
 *              bounds the replay's peak from above. The status file is read into a stack
 *              buffer with read(2): reading it must not allocate.
 * Precision:   Both figures come from the kernel's RSS counters, which are per CPU
 *              since Linux 6.2 and may lag the page tables by up to 31 pages on each CPU
 *              the process ran on (/proc/self/smaps_rollup walks the page tables, but
 *              has no high-water mark); VmHWM is also only set from them when something
 *              is unmapped. A footprint can so read ~124 KiB per CPU off: that matters
 *              for a trace whose footprint is a few hundred KiB, not for a program's.
 * Complexity:  one read of a ~1.5 KiB file.
 */
#include "play.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The number of kB after `key` (e.g. "VmRSS:") in the status text, in bytes; -1 if absent. */
static int64_t field_bytes(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    if (!at)
        return -1;
    at += strlen(key);
    while (*at == ' ' || *at == '\t')
        at++;
    if (*at < '0' || *at > '9')
        return -1;
    int64_t kb = 0;
    while (*at >= '0' && *at <= '9')
        kb = kb * 10 + (*at++ - '0');
    return kb * 1024;
}

int play_rss(uint64_t *rss, uint64_t *hwm)
{
    char text[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, text + got, sizeof text - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    text[got] = '\0';
    int64_t r = field_bytes(text, "\nVmRSS:"), h = field_bytes(text, "\nVmHWM:");
    if (r < 0 || h < 0)
        return -1;
    *rss = (uint64_t)r;
    *hwm = (uint64_t)h;
    return 0;
}

int play_reset_hwm(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, "5", 1);
    close(fd);
    return w == 1 ? 0 : -1;
}
