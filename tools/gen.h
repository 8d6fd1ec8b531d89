/* gen.h -- `heapkit gen`: seeded synthetic trace generator. */
#ifndef HK_TOOLS_GEN_H
#define HK_TOOLS_GEN_H
/* argv[0] is "gen". Returns the process exit status. */
int gen_main(int argc, char **argv);
#endif
