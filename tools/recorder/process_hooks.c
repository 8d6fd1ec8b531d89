/*
 * process_hooks.c -- the process events the recorder must see: exec (the address space
 *                    is about to vanish with whatever is buffered) and _exit / _Exit
 *                    (which skip the destructor that would write it out).
 *
 * Design:      Each exec entry point writes everything out, then calls the next
 *              library's function; if exec fails, the image goes on recording and a
 *              later "ended" line replaces the "exec" one (rawlog.h). glibc's exec
 *              functions call each other internally, not through these symbols, so
 *              every public one is here. The execl family is variadic: its arguments
 *              are gathered into an array on the stack, as execv wants them.
 *              fork needs no hook: log.c registers pthread_atfork handlers. posix_spawn
 *              and vfork children exec at once, and their new image records itself.
 */
#include "rec.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#define RESOLVE(fn, name)                                                                          \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_NEXT, name);                                                       \
        memcpy(&(fn), &sym_, sizeof(fn));                                                          \
    } while (0)

static void before_exec(void)
{
    if (rec_on) {
        rec_busy++;
        rec_flush_all("exec");
        rec_busy--;
    }
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    execve_fn next;
    RESOLVE(next, "execve");
    before_exec();
    return next ? next(path, argv, envp) : (errno = ENOSYS, -1);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    execve_fn next;
    RESOLVE(next, "execvpe");
    before_exec();
    return next ? next(file, argv, envp) : (errno = ENOSYS, -1);
}

EXPORT int execv(const char *path, char *const argv[])
{
    execv_fn next;
    RESOLVE(next, "execv");
    before_exec();
    return next ? next(path, argv) : (errno = ENOSYS, -1);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    execv_fn next;
    RESOLVE(next, "execvp");
    before_exec();
    return next ? next(file, argv) : (errno = ENOSYS, -1);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    int (*next)(int, char *const[], char *const[]);
    RESOLVE(next, "fexecve");
    before_exec();
    return next ? next(fd, argv, envp) : (errno = ENOSYS, -1);
}

/* ---- The variadic ones ---- */

#define MAX_EXECL_ARGS 4096

/* Collects arg0 and the rest up to NULL into argv; with envp_out, the pointer after the
 * NULL too (execle). Returns -1 (E2BIG) when there are too many. */
static int gather(char **argv, const char *arg0, va_list ap, char *const **envp_out)
{
    size_t n = 0;
    argv[n++] = (char *)arg0;
    while (argv[n - 1] != NULL) {
        if (n == MAX_EXECL_ARGS) {
            errno = E2BIG;
            return -1;
        }
        argv[n++] = va_arg(ap, char *);
    }
    if (envp_out)
        *envp_out = va_arg(ap, char *const *);
    return 0;
}

EXPORT int execl(const char *path, const char *arg0, ...)
{
    char *argv[MAX_EXECL_ARGS];
    va_list ap;
    va_start(ap, arg0);
    int ok = gather(argv, arg0, ap, NULL);
    va_end(ap);
    return ok < 0 ? -1 : execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg0, ...)
{
    char *argv[MAX_EXECL_ARGS];
    va_list ap;
    va_start(ap, arg0);
    int ok = gather(argv, arg0, ap, NULL);
    va_end(ap);
    return ok < 0 ? -1 : execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg0, ...)
{
    char *argv[MAX_EXECL_ARGS];
    char *const *envp = NULL;
    va_list ap;
    va_start(ap, arg0);
    int ok = gather(argv, arg0, ap, &envp);
    va_end(ap);
    return ok < 0 ? -1 : execve(path, argv, envp);
}

/* ---- Exits that skip destructors ---- */

EXPORT _Noreturn void _exit(int status) { rec_exit_now(status); }
EXPORT _Noreturn void _Exit(int status) { rec_exit_now(status); }
