/*
 * startup.c -- allocation before main: in constructors of the program and of a linked
 * shared library (librbctor.so), and (run with interpose.so preloaded before libheapkit)
 * from inside a preloaded interposer that looks up malloc with dlsym(RTLD_NEXT).
 *
 * The constructors record what they allocated; main checks the contents, that the blocks
 * are heapkit's, frees them (blocks from before main must be freeable normally), and
 * prints what it found. With RB_INTERPOSE, main also checks the interposer's report.
 * Then threads start, allocate, free and exit (librbctor.so made the allocator's thread
 * key a high one, see there).
 * RB_NO_LIB: built without librbctor.so (then the interposer's constructor makes the
 * program's first allocations).
 */
#include <errno.h>
#include <pthread.h>

#include "robust.h"

#ifdef RB_NO_LIB
static int rb_lib_failures(void)
{
    return 0;
}
static const char *rb_lib_message(void)
{
    static char *m;
    if (!m)
        m = strdup("library constructor ok");
    return m;
}
static void *rb_lib_block(void)
{
    static void *b;
    if (!b)
        b = malloc(1);
    return b;
}
#else
int rb_lib_failures(void);
const char *rb_lib_message(void);
void *rb_lib_block(void);
#endif

static int early_failures;
static char *early_msg, *late_msg;
static int *early_ints;

__attribute__((constructor(101))) static void early_ctor(void)
{
    early_ints = calloc(1000, sizeof *early_ints);
    if (!early_ints)
        early_failures++;
    else
        for (int i = 0; i < 1000; i++) {
            early_failures += early_ints[i] != 0;
            early_ints[i] = i * i;
        }
    char *p = malloc(10);
    if (!p) {
        early_failures++;
        return;
    }
    strcpy(p, "early");
    char *q = realloc(p, 100000); /* small -> medium: a move */
    if (!q) {
        early_failures++;
        free(p);
        return;
    }
    strcat(q, " constructor ok");
    early_msg = realloc(q, 64);
    if (!early_msg) {
        early_failures++;
        free(q);
    }
    void *a = NULL;
    if (posix_memalign(&a, 4096, 100) != 0 || ((uintptr_t)a & 4095) != 0)
        early_failures++;
    free(a);
}

__attribute__((constructor)) static void late_ctor(void)
{
    late_msg = malloc(64);
    if (late_msg)
        snprintf(late_msg, 64, "late constructor ok (%d)", 42);
    else
        early_failures++;
}

#ifdef RB_INTERPOSE
typedef struct rb_interpose_report_s {
    int minimal;
    int failures;
    int resolved;     /* dlsym(RTLD_NEXT, "malloc") gave a function */
    int owned;        /* the block it returned was heapkit's */
    unsigned long calls; /* malloc calls seen by the interposer */
    const char *message;
} rb_interpose_report_t;
#endif

static void *thread_main(void *arg)
{
    unsigned k = (unsigned)(uintptr_t)arg;
    int bad = 0;
    char *keep[100];
    for (int i = 0; i < 100; i++) {
        keep[i] = malloc(16 + (size_t)(i * 37 + k) % 3000);
        if (!keep[i] || rb_is_owned(keep[i]) != 1) {
            bad = 1;
            break;
        }
        keep[i][0] = (char)i;
    }
    for (int i = 0; i < 100 && !bad; i++) {
        bad |= keep[i][0] != (char)i;
        free(keep[i]);
    }
    return (void *)(uintptr_t)bad;
}

int main(void)
{
    CHECK("program constructors", early_failures == 0);
    CHECK("library constructor", rb_lib_failures() == 0);
    int ok = early_msg && late_msg && rb_lib_message() && early_ints;
    CHECK("constructor results present", ok);
    if (!ok)
        return hk_test_summary();
    CHECK("early message", strcmp(early_msg, "early constructor ok") == 0);
    CHECK("late message", strcmp(late_msg, "late constructor ok (42)") == 0);
    CHECK("library message", strcmp(rb_lib_message(), "library constructor ok") == 0);
    CHECK("early ints", early_ints[999] == 999 * 999);
    CHECK("blocks from constructors are heapkit's",
          rb_is_owned(early_msg) == 1 && rb_is_owned(late_msg) == 1 &&
              rb_is_owned(rb_lib_message()) == 1 && rb_is_owned(rb_lib_block()) == 1 &&
              rb_is_owned(early_ints) == 1);
    printf("startup: %s; %s; %s\n", early_msg, late_msg, rb_lib_message());
    free(early_msg);
    free(late_msg);
    free(early_ints);
    free((void *)rb_lib_message());
#ifdef RB_INTERPOSE
    const rb_interpose_report_t *(*report)(void);
    *(void **)&report = dlsym(RTLD_DEFAULT, "rb_interpose_report");
    CHECK("interposer loaded", report != NULL);
    if (report) {
        const rb_interpose_report_t *r = report();
        CHECK("interposer found the next malloc", r->resolved);
        CHECK("the next malloc is heapkit's", r->owned == 1);
        CHECK("interposer's own checks", r->failures == 0);
        void *p = malloc(77);
        if (!r->minimal)
            CHECK("malloc goes through the interposer", r->calls > 0);
        CHECK("and ends in heapkit", p && rb_is_owned(p) == 1);
        free(p);
        printf("startup: %s\n", r->message ? r->message : "(no interposer message)");
    }
#endif
    int tbad = 0;
    for (int round = 0; round < 4; round++) {
        pthread_t t[8];
        for (uintptr_t i = 0; i < 8; i++)
            tbad += pthread_create(&t[i], NULL, thread_main, (void *)i) != 0;
        for (int i = 0; i < 8; i++) {
            void *ret = (void *)1;
            pthread_join(t[i], &ret);
            tbad += ret != NULL;
        }
    }
    CHECK("threads allocate, free and exit", tbad == 0);
    /* the allocator still works normally after all that */
    void *big = malloc(3 << 20);
    CHECK("malloc after start-up", big && rb_is_owned(big) == 1);
    free(big);
    return hk_test_summary();
}
