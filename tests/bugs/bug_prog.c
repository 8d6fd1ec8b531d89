/*
 * bug_prog.c -- one heap bug per case, made through plain malloc/free so that it runs on
 *               any allocator preloaded under it: `bug_prog CASE` (no argument: the list).
 *
 * Design:      built with -fno-builtin and linked with nothing but libc, so the compiler
 *              keeps every bug as written and LD_PRELOAD decides whose malloc sees it.
 *              Each case does its bug once, then calls into the allocator again (churn:
 *              allocate, fill, free), which is where most allocators notice damage; a
 *              case that comes through prints "survived CASE" on stdout and exits 0.
 * Crashes:     where a SIGSEGV or SIGBUS happens decides whose fault it is, so the
 *              program keeps a phase and a handler prints it before dying of the signal:
 *                bug    the program's own bad access (writing or reading freed memory, the
 *                       overflow itself): the program's crash, not the allocator's
 *                alloc  inside a call into malloc, free, realloc, malloc_usable_size
 *                use    filling a block a malloc just returned: the allocator handed out
 *                       memory that is not usable, so this one is the allocator's too
 *                program anything else the program does (nothing that can crash)
 *              The line is "bug_prog: SIGSEGV in alloc (free)"; tests/bugs/classify.sh reads
 *              it. Only this program's handler writes lines starting "bug_prog:", so any
 *              other stderr line is the allocator's own message.
 */
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMALL ((size_t)32)
#define LARGE ((size_t)256 * 1024) /* above glibc's mmap threshold; a large class of heapkit */

/* ---- phases and the crash handler ---- */

typedef enum phase { PHASE_PROGRAM, PHASE_BUG, PHASE_ALLOC, PHASE_USE } phase_t;
static const char *const phase_names[] = {"program", "bug", "alloc", "use"};
static volatile sig_atomic_t phase = PHASE_PROGRAM;
static const char *volatile phase_call = "";

static void say(const char *s)
{
    ssize_t n = write(2, s, strlen(s));
    (void)n;
}

static void on_crash(int sig)
{
    say("bug_prog: ");
    say(sig == SIGSEGV ? "SIGSEGV" : "SIGBUS");
    say(" in ");
    say(phase_names[phase]);
    say(" (");
    say(phase_call);
    say(")\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Every call into the allocator goes through these, so a crash names it. */
static void enter(const char *call)
{
    phase_call = call;
    phase = PHASE_ALLOC;
}
static void leave(void)
{
    phase = PHASE_PROGRAM;
}

static void *a_malloc(size_t n)
{
    enter("malloc");
    void *p = malloc(n);
    phase = PHASE_USE;
    if (p != NULL)
        memset(p, 0x5a, n); /* the block must be writable */
    leave();
    return p;
}
static void a_free(void *p)
{
    enter("free");
    free(p);
    leave();
}
static void *a_realloc(void *p, size_t n)
{
    enter("realloc");
    void *q = realloc(p, n);
    leave();
    return q;
}
static size_t a_usable(void *p)
{
    enter("malloc_usable_size");
    size_t n = malloc_usable_size(p);
    leave();
    return n;
}

/* The program's own bad access. */
static void bug(void)
{
    phase_call = "the bug itself";
    phase = PHASE_BUG;
}

/* Hides a pointer from the compiler, which would otherwise see the bug coming. */
static void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

/* After the bug: the allocator goes on working for a while, as in a real program. */
static void churn(size_t size)
{
    void *blocks[64];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++)
            blocks[i] = a_malloc(size);
        for (int i = 0; i < 64; i++)
            a_free(blocks[i]);
    }
}

static void print_number(const char *what, size_t n)
{
    char line[64];
    snprintf(line, sizeof line, "%s %zu\n", what, n);
    ssize_t w = write(1, line, strlen(line));
    (void)w;
}

/* ---- the cases ---- */

static void double_free(size_t size)
{
    char *p = a_malloc(size);
    a_free(p);
    a_free(launder(p));
    churn(size);
}

static void double_free_small(void) { double_free(SMALL); }
static void double_free_large(void) { double_free(LARGE); }

/* The second free comes after other blocks of the size came and went. */
static void double_free_delayed(void)
{
    char *p = a_malloc(SMALL);
    a_free(p);
    void *others[16];
    for (int i = 0; i < 16; i++)
        others[i] = a_malloc(SMALL * 2);
    for (int i = 0; i < 16; i++)
        a_free(others[i]);
    a_free(launder(p));
    churn(SMALL);
}

static void free_invalid(void)
{
    int local = 0;
    a_free(launder(&local)); /* a stack address */
    churn(SMALL);
}

static void free_unaligned(void)
{
    char *p = a_malloc(SMALL);
    a_free(launder(p + 1));
    churn(SMALL);
}

static void free_interior(void)
{
    char *p = a_malloc(SMALL * 4);
    a_free(launder(p + 16)); /* aligned, but inside the block */
    churn(SMALL);
}

/* An aligned address in the heap's own memory, beyond the blocks handed out so far. */
static void free_never_allocated(void)
{
    char *p = a_malloc(SMALL);
    a_free(launder(p + SMALL * 100));
    churn(SMALL);
}

/* What an uninitialized pointer holds, made repeatable: a stack slot of garbage. */
static void free_uninitialized(void)
{
    void *p;
    memset(&p, 0xbe, sizeof p);
    a_free(launder(p));
    churn(SMALL);
}

static void write_after_free(size_t size)
{
    char *keep = a_malloc(size); /* the page stays in use */
    char *p = a_malloc(size);
    a_free(p);
    bug();
    memset(launder(p), 0x41, size);
    churn(size);
    a_free(keep);
}

static void write_after_free_small(void) { write_after_free(SMALL); }
static void write_after_free_large(void) { write_after_free(LARGE); }

static void read_after_free(void)
{
    char *keep = a_malloc(SMALL);
    char *p = a_malloc(SMALL);
    a_free(p);
    bug();
    volatile char *v = launder(p);
    unsigned sum = 0;
    for (size_t i = 0; i < SMALL; i++)
        sum += (unsigned char)v[i];
    print_number("sum", sum);
    churn(SMALL);
    a_free(keep);
}

/* `extra` bytes written past the request, then both blocks freed and the size churned. */
static void overflow(size_t size, size_t extra)
{
    char *p = a_malloc(size);
    char *next = a_malloc(size);
    bug();
    memset((char *)launder(p) + size, 0x41, extra);
    a_free(p);
    a_free(next);
    churn(size);
}

static void overflow_1_small(void) { overflow(SMALL, 1); }
static void overflow_8_small(void) { overflow(SMALL, 8); }
static void overflow_1_large(void) { overflow(LARGE, 1); }
static void overflow_8_large(void) { overflow(LARGE, 8); }

/* strcpy of a string longer than the buffer: 36 bytes and its NUL into 16. */
static void string_overflow(void)
{
    char *p = a_malloc(16);
    char *next = a_malloc(16);
    bug();
    strcpy(launder(p), "a string of thirty-six bytes, at 16!");
    a_free(p);
    a_free(next);
    churn(16);
}

static void usable_size_freed(void)
{
    char *keep = a_malloc(SMALL);
    char *p = a_malloc(SMALL);
    a_free(p);
    print_number("usable", a_usable(launder(p)));
    churn(SMALL);
    a_free(keep);
}

static void usable_size_foreign(void)
{
    static char not_heap[64];
    print_number("usable", a_usable(launder(not_heap + 16)));
    churn(SMALL);
}

static void realloc_freed(void)
{
    char *keep = a_malloc(SMALL);
    char *p = a_malloc(SMALL);
    a_free(p);
    char *q = a_realloc(launder(p), SMALL * 2);
    print_number("realloc returned null", q == NULL);
    churn(SMALL);
    a_free(keep);
}

typedef struct bug_case {
    const char *name;
    void (*run)(void);
} bug_case_t;

static const bug_case_t cases[] = {
    {"double-free-small", double_free_small},
    {"double-free-large", double_free_large},
    {"double-free-delayed", double_free_delayed},
    {"free-invalid", free_invalid},
    {"free-unaligned", free_unaligned},
    {"free-interior", free_interior},
    {"free-never-allocated", free_never_allocated},
    {"free-uninitialized", free_uninitialized},
    {"write-after-free-small", write_after_free_small},
    {"write-after-free-large", write_after_free_large},
    {"read-after-free", read_after_free},
    {"overflow-1-small", overflow_1_small},
    {"overflow-8-small", overflow_8_small},
    {"overflow-1-large", overflow_1_large},
    {"overflow-8-large", overflow_8_large},
    {"string-overflow", string_overflow},
    {"usable-size-freed", usable_size_freed},
    {"usable-size-foreign", usable_size_foreign},
    {"realloc-freed", realloc_freed},
};

int main(int argc, char **argv)
{
    size_t count = sizeof cases / sizeof cases[0];
    if (argc < 2) {
        for (size_t i = 0; i < count; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].run();
            enter("printf"); /* stdio allocates its buffer */
            printf("survived %s\n", cases[i].name);
            return 0;
        }
    }
    fprintf(stderr, "bug_prog: unknown case %s\n", argv[1]);
    return 2;
}
