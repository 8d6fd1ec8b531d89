/*
 * logfile.h -- a file the recorder writes while the program runs, kept safe from the
 *              program's own use of file descriptors.
 *
 * Design:      A program may close every descriptor it did not open (daemons do, shells
 *              do before exec) and open files of its own, which then get our numbers: a
 *              write to a stale descriptor would land in the program's file. So a log
 *              file's descriptor is moved high (near RLIMIT_NOFILE, where open() does not
 *              look first), and before every write the descriptor is checked to still be
 *              the file we opened (device and inode, one fstat per 256 KiB of events); if
 *              it is not, the file is opened again by its path and the program's file is
 *              left alone.
 */
#ifndef HK_LOGFILE_H
#define HK_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LOGFILE_PATH 1024

typedef struct logfile {
    int   fd;  /* -1: not open */
    dev_t dev;
    ino_t ino;
    char  path[LOGFILE_PATH];
} logfile_t;

/* Creates path for appending (exclusive: fail if it exists). Returns false with errno. */
bool logfile_create(logfile_t *f, const char *path, bool exclusive);
/* Appends n bytes. Returns false with errno when they could not all be written. */
bool logfile_write(logfile_t *f, const void *p, size_t n);
/* Closes it if open (still ours) and marks it not open. */
void logfile_close(logfile_t *f);

#endif
