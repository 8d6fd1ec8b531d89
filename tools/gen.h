/*
 * gen.h -- `heapkit gen`: a seeded generator of synthetic malloc-lab traces.
 *
 * Output is the CS:APP malloc-lab format (four header numbers, then `a id size`,
 * `r id size`, `f id`), balanced: every id is allocated once and freed by the end.
 * The same pattern, seed and options give the same bytes on every machine (integer
 * PRNG, no floating point, no libm).
 */
#ifndef HK_TOOLS_GEN_H
#define HK_TOOLS_GEN_H

/* argv[0] is "gen". Returns the process exit status: 0 ok, 1 I/O error, 2 bad usage. */
int gen_main(int argc, char **argv);

#endif
