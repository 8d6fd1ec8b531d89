/*
 * import.h -- `heapkit import mtrace`: a glibc MALLOC_TRACE log into a heapkit-trace.
 */
#ifndef HK_TOOLS_IMPORT_H
#define HK_TOOLS_IMPORT_H

/* argv[0] is "import". Returns the exit status: 0 ok, 2 bad usage, bad input or I/O. */
int import_main(int argc, char **argv);

#endif
