/*
 * logfile.c -- the recorder's files (see logfile.h). No malloc, no stdio.
 */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lowest number open() hands out that we would rather not hold. */
static int high_fd_floor(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 512;
    long soft = (long)rl.rlim_cur;
    return soft > 256 ? (int)(soft - 128) : soft > 32 ? (int)(soft - 16) : 3;
}

/* fd moved to a high number (the low one closed), or fd as it was if that fails. */
static int move_high(int fd)
{
    int floor = high_fd_floor();
    if (fd >= floor)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

static bool open_path(logfile_t *f, int flags)
{
    int fd = open(f->path, O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0644);
    if (fd < 0)
        return false;
    fd = move_high(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return false;
    }
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    return true;
}

bool logfile_create(logfile_t *f, const char *path, bool exclusive)
{
    size_t n = strlen(path);
    f->fd = -1;
    if (n >= sizeof f->path) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(f->path, path, n + 1);
    return open_path(f, O_CREAT | (exclusive ? O_EXCL : 0));
}

/* True when f->fd is still the file we opened. */
static bool still_ours(const logfile_t *f)
{
    struct stat st;
    return f->fd >= 0 && fstat(f->fd, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino;
}

bool logfile_write(logfile_t *f, const void *p, size_t n)
{
    if (!still_ours(f)) {
        f->fd = -1; /* whatever holds that number now is the program's: never close it */
        if (!open_path(f, 0))
            return false;
    }
    const char *at = p;
    while (n > 0) {
        ssize_t done = write(f->fd, at, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0) {
            if (done == 0)
                errno = EIO;
            return false;
        }
        at += done;
        n -= (size_t)done;
    }
    return true;
}

void logfile_close(logfile_t *f)
{
    if (still_ours(f))
        close(f->fd);
    f->fd = -1;
}
