/* gen.c -- placeholder until the generator lands. */
#include "gen.h"
#include <stdio.h>
int gen_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "heapkit gen: not implemented yet\n");
    return 2;
}
