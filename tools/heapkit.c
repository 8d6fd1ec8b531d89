/* heapkit.c -- placeholder main until the CLI lands. */
#include "policy.h"
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "policies") == 0) {
        for (const lab_policy_t *const *p = lab_policies; *p; p++)
            printf("%-16s %s\n", (*p)->name, (*p)->description);
        return 0;
    }
    fprintf(stderr, "usage: heapkit policies\n");
    return 2;
}
