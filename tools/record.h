/*
 * record.h -- `heapkit record`: run a program with the recorder preloaded and write its
 *             allocations as heapkit-traces (record.c).
 */
#ifndef HK_TOOLS_RECORD_H
#define HK_TOOLS_RECORD_H

/* argv[0] is "record". Returns the exit status (record.c says which). */
int record_main(int argc, char **argv);

#endif
