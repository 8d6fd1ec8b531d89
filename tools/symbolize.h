/*
 * symbolize.h -- code addresses of a finished process, resolved offline to symbols.
 *
 * Design:      The recorder keeps, for each allocation, the caller's return address and,
 *              at the end, the text of the process's /proc/self/maps. After the process
 *              is gone, another process turns those addresses into "symbol+offset
 *              (object)" for reports. symbolizer_open() parses the maps text once; the
 *              symbols of an object (elfsym.h) are read the first time an address falls
 *              in it, and kept, so each of a few hundred objects is read at most once
 *              however many addresses are resolved.
 *              Every file mapping is kept, executable or not (newer linkers map text at a
 *              nonzero offset, and any mapping of an ELF file translates through its
 *              PT_LOAD segments). A mapping whose path ends in " (deleted)" is shown by
 *              name but its file is never read: whatever now has that path is not what
 *              the process ran. Likewise a file replaced after the process ended is read
 *              as it is now.
 * Complexity:  open O(m log m) for m maps lines; a lookup O(log m + log s) for s symbols
 *              of the object, plus reading the object the first time.
 */
#ifndef HK_TOOLS_SYMBOLIZE_H
#define HK_TOOLS_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

/* Separate debug files are looked for under this folder (see elfsym.h). */
#define SYMBOLIZE_DEBUG_ROOT "/usr/lib/debug"

typedef struct symbolizer symbolizer_t;

/* maps: the text of a /proc/PID/maps file (len bytes, need not be NUL-terminated).
 * Lines that do not parse are skipped. Returns NULL only when out of memory. */
symbolizer_t *symbolizer_open(const char *maps, size_t len);

/* Writes a description of addr into buf (NUL-terminated, truncated to n bytes; nothing is
 * written when n is 0):
 *   "PyObject_Malloc+0x1c (libpython3.11.so.1.0)"  a function covers addr ("+0x0" omitted)
 *   "0x1a2b3c (python3.11)"     in a file mapping but no function covers it: the ELF
 *                               virtual address, or the file offset when the file is not
 *                               a readable ELF file or no PT_LOAD segment holds that byte
 *   "0x7f12345678"              in no file mapping (anonymous, [vdso], [stack], unmapped)
 * Returns 1 when a symbol was found, 0 otherwise. s may be NULL (no mappings). */
int symbolize(symbolizer_t *s, uint64_t addr, char *buf, size_t n);

void symbolizer_close(symbolizer_t *s);

#endif
