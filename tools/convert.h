/*
 * convert.h -- `heapkit convert`: a trace from one format into the other (convert.c).
 */
#ifndef HK_TOOLS_CONVERT_H
#define HK_TOOLS_CONVERT_H

/* argv[0] is "convert". Returns the exit status: 0 ok, 2 bad usage, bad input or I/O. */
int convert_main(int argc, char **argv);

#endif
