/*
 * options_doc.c -- prints the markdown table of libheapkit's runtime options, row by row
 * from the one table in src/options.c (hki_option_row), so that docs/OPTIONS.md is
 * generated, not kept in step by hand (STYLE.md section 7).
 *
 *   build/tools/options_doc          the table: header, separator, one row per option
 *
 * `make options-doc` puts the output between the <!-- options:begin --> and
 * <!-- options:end --> lines of docs/OPTIONS.md; tests/tools/test_options_doc.sh checks
 * that it is there. Linked with the library's objects (not through libheapkit.so), so it
 * reads the table of the code it was built from. Unlike the library, it may use stdio.
 *
 * Exits 1, printing why on stderr, when the table cannot be written as markdown (a "|" or
 * a line break in a cell would split it) or when hki_options[], which holds the defaults
 * before initialization, disagrees with a default of the table.
 */
#include "internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A cell must stay on one line and inside its column. */
static bool cell_ok(const char *what, const char *name, const char *s)
{
    if (strpbrk(s, "|\n\r") == NULL)
        return true;
    fprintf(stderr, "options_doc: %s of %s contains '|' or a line break: \"%s\"\n", what, name, s);
    return false;
}

int main(void)
{
    bool ok = true;
    printf("| Variable | Default | Values | Meaning |\n");
    printf("|---|---|---|---|\n");
    const char *name = NULL, *desc = NULL;
    const char *const *words = NULL;
    long def = 0, min = 0, max = 0;
    unsigned i = 0;
    for (; hki_option_row(i, &name, &def, &min, &max, &words, &desc); i++) {
        ok = cell_ok("the name", name, name) && ok;
        ok = cell_ok("the description", name, desc) && ok;
        if (hki_options[i] != def) {
            fprintf(stderr,
                    "options_doc: %s: hki_options[] starts at %ld but the table's default "
                    "is %ld\n",
                    name, hki_options[i], def);
            ok = false;
        }
        printf("| `%s` | ", name);
        if (words != NULL) {
            long n = 0;
            while (words[n] != NULL)
                n++;
            if (def >= 0 && def < n) {
                printf("`%s`", words[def]);
            } else {
                fprintf(stderr, "options_doc: %s: default %ld has no name\n", name, def);
                ok = false;
                printf("`%ld`", def);
            }
            printf(" | ");
            for (long w = 0; w < n; w++)
                printf("%s`%s`", w > 0 ? ", " : "", words[w]);
        } else {
            printf("`%ld` | `%ld`..`%ld`", def, min, max);
        }
        printf(" | %s |\n", desc);
    }
    if (i != HK_OPT_COUNT) {
        fprintf(stderr, "options_doc: %u rows, but HK_OPT_COUNT is %d\n", i, (int)HK_OPT_COUNT);
        ok = false;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("options_doc: stdout");
        ok = false;
    }
    return ok ? 0 : 1;
}
