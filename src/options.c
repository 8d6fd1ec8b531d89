/*
 * options.c -- runtime options: HEAPKIT_* environment variables, read once at init.
 *
 * Design:      one table {name, default, description}; the table of docs/OPTIONS.md is
 *              generated from it (`make options-doc`, by tools/options_doc.c through
 *              hki_option_row()), and `HEAPKIT_VERBOSE=1` prints the values in effect. A bad value keeps the
 *              default and prints one warning. Values live in hki_options[], which holds
 *              the defaults before initialization, so early calls see sane values.
 */
#include "config.h"
#include "support.h"
#include "os.h"

#include <string.h>

typedef struct hk_option_desc_s {
    const char *name;
    long def;
    long min, max;
    const char *const *words; /* named values (index = value), or NULL for a number */
    const char *description;
} hk_option_desc_t;

static const char *const on_error_words[] = {"abort", "warn", "ignore", NULL};
static const char *const bool_words[] = {"0", "1", NULL};

// clang-format off
static const hk_option_desc_t option_table[HK_OPT_COUNT] = {
    [HK_OPT_STATS]       = {"HEAPKIT_STATS", 0, 0, 1, bool_words,
                            "1: print statistics to stderr at exit"},
    [HK_OPT_VERBOSE]     = {"HEAPKIT_VERBOSE", 0, 0, 1, bool_words,
                            "1: print options and segment events to stderr"},
    [HK_OPT_PURGE_DELAY] = {"HEAPKIT_PURGE_DELAY", 100, -1, 3600000, NULL,
                            "ms before unused pages and cached huge blocks return to the OS "
                            "(0: at once, -1: never)"},
    [HK_OPT_ON_ERROR]    = {"HEAPKIT_ON_ERROR", HK_ON_ERROR_ABORT, 0, 2, on_error_words,
                            "action on an invalid free/double free: abort, warn (print, "
                            "ignore the call) or ignore (silently)"},
    [HK_OPT_HUGE_CACHE]  = {"HEAPKIT_HUGE_CACHE", 64, 0, 1 << 20, NULL,
                            "MiB of freed huge blocks kept mapped for reuse"},
    [HK_OPT_QUARANTINE]  = {"HEAPKIT_QUARANTINE", 0, 0, 1 << 20, NULL,
                            "libheapkit-secure.so only: KiB of freed blocks each thread holds "
                            "back before reuse (at most 1024 blocks; 0: no quarantine)"},
    [HK_OPT_ZERO_ON_FREE] = {"HEAPKIT_ZERO_ON_FREE", 0, 0, 1, bool_words,
                            "libheapkit-secure.so only: 1: a freed block's data is zeroed (huge "
                            "blocks: their pages given back) before anyone can reuse it"},
    [HK_OPT_EXIT_KEEP]   = {"HEAPKIT_EXIT_KEEP", 1024, 0, 1 << 20, NULL,
                            "KiB of free page slots the heaps of exited threads keep committed "
                            "(all together) for the threads that take them over; the rest "
                            "returns to the OS at thread exit"},
};
// clang-format on

long hki_options[HK_OPT_COUNT] = {
    [HK_OPT_STATS] = 0,
    [HK_OPT_VERBOSE] = 0,
    [HK_OPT_PURGE_DELAY] = 100,
    [HK_OPT_ON_ERROR] = HK_ON_ERROR_ABORT,
    [HK_OPT_HUGE_CACHE] = 64,
    [HK_OPT_QUARANTINE] = 0,
    [HK_OPT_ZERO_ON_FREE] = 0,
    [HK_OPT_EXIT_KEEP] = 1024,
};

/* Row i of the table (see internal.h); read by tools/options_doc.c. */
bool hki_option_row(unsigned i, const char **name, long *def, long *min, long *max,
                    const char *const **words, const char **description)
{
    if (i >= HK_OPT_COUNT)
        return false;
    const hk_option_desc_t *d = &option_table[i];
    *name = d->name;
    *def = d->def;
    *min = d->min;
    *max = d->max;
    *words = d->words;
    *description = d->description;
    return true;
}

static bool parse_long(const char *s, long *out)
{
    bool neg = false;
    long v = 0;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > 100000000L)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (*s != '\0')
        return false;
    *out = neg ? -v : v;
    return true;
}

void hki_options_init(void)
{
    for (unsigned i = 0; i < HK_OPT_COUNT; i++) {
        const hk_option_desc_t *d = &option_table[i];
        hki_options[i] = d->def;
        const char *s = hki_os_getenv(d->name);
        if (s == NULL || *s == '\0')
            continue;
        long v = 0;
        bool ok = false;
        if (d->words != NULL) {
            for (long w = 0; d->words[w] != NULL; w++) {
                if (strcmp(s, d->words[w]) == 0) {
                    v = w;
                    ok = true;
                }
            }
        }
        if (!ok)
            ok = parse_long(s, &v) && v >= d->min && v <= d->max;
        if (ok)
            hki_options[i] = v;
        else
            hki_printf("heapkit: warning: %s=%s is not valid (%s); using the default %ld\n",
                       d->name, s, d->description, d->def);
    }
    if (hki_options[HK_OPT_STATS] || hki_options[HK_OPT_VERBOSE])
        hki_os_keep_stderr();
    if (hki_options[HK_OPT_VERBOSE]) {
        for (unsigned i = 0; i < HK_OPT_COUNT; i++)
            hki_printf("heapkit: option %s = %ld\n", option_table[i].name, hki_options[i]);
    }
}
