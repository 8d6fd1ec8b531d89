/*
 * startup_lib.c -- librbctor.so: a shared library whose constructor allocates.
 *
 * Linked into the startup test program, so its constructor runs before the program's
 * own constructors and before main (with the static build, even before libheapkit's own
 * constructor, which lives in the program). Exports what it built and how many of its
 * checks failed. Before its first allocation it creates 40 pthread keys, so that the
 * allocator's own key (created when it initializes, inside our first malloc) is past
 * glibc's first 32: then pthread_setspecific on it calls calloc -- from inside the
 * allocator's thread set-up, in every new thread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rb_lib_failures(void);
const char *rb_lib_message(void);
void *rb_lib_block(void);

static int failures;
static char *message;
static void *kept[64];

static pthread_key_t keys[40];

__attribute__((constructor)) static void lib_ctor(void)
{
    for (int i = 0; i < 40; i++)
        if (pthread_key_create(&keys[i], NULL) != 0)
            failures++;
    /* many small and a few large blocks, some freed at once */
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t)16 << (i % 14);
        kept[i] = malloc(n);
        if (!kept[i]) {
            failures++;
            continue;
        }
        memset(kept[i], i, n);
    }
    for (int i = 0; i < 64; i += 2) {
        free(kept[i]);
        kept[i] = NULL;
    }
    long *z = calloc(4096, sizeof *z);
    if (!z)
        failures++;
    else
        for (int i = 0; i < 4096; i++)
            failures += z[i] != 0;
    free(z);
    char *s = NULL;
    for (int i = 0; i < 200; i++) {
        size_t len = s ? strlen(s) : 0;
        char *t = realloc(s, len + 3);
        if (!t) {
            failures++;
            break;
        }
        s = t;
        snprintf(s + len, 3, "%c", 'a' + i % 26);
    }
    if (s && (strlen(s) != 200 || s[0] != 'a' || s[199] != 'a' + 199 % 26))
        failures++;
    free(s);
    message = strdup("library constructor ok"); /* glibc's strdup calls malloc */
    if (!message)
        failures++;
}

int rb_lib_failures(void)
{
    for (int i = 1; i < 64; i += 2) {
        const unsigned char *b = kept[i];
        size_t n = (size_t)16 << (i % 14);
        if (!b || b[0] != i || b[n - 1] != i)
            return failures + 1;
    }
    return failures;
}

const char *rb_lib_message(void)
{
    return message;
}

void *rb_lib_block(void)
{
    return kept[1];
}
