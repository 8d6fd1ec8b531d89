/*
 * elfsym.h -- one ELF object's function symbols, read from the file (no libelf).
 *
 * Design:      The symbolizer (symbolize.h) needs two facts about an object whose code a
 *              finished process had mapped: how a file offset becomes an ELF virtual
 *              address (the PT_LOAD segments), and which function covers that address.
 *              elfsym_load() reads both once, from ELF64 little-endian x86-64 files only,
 *              and keeps the function symbols as an array sorted by address, so a lookup
 *              is a binary search. Symbols come from the first of these that has any:
 *                1. the file's own .symtab (an unstripped file);
 *                2. a separate debug file's .symtab, found by the NT_GNU_BUILD_ID note
 *                   (<debug_root>/.build-id/xx/yyyy.debug, where Debian's -dbgsym
 *                   packages install) or by the .gnu_debuglink name (next to the file,
 *                   in its .debug/ folder, or under <debug_root>/<the file's folder>/);
 *                   a debug file counts only when its build id equals the file's, or,
 *                   when the file has none, when its CRC-32 equals the debuglink's;
 *                3. the file's .dynsym (what a stripped file still exports).
 *              The reading is elffile.h's, bounds-checked throughout: a truncated or
 *              hostile file loads with fewer (or no) symbols or fails to load; it never
 *              makes the reader touch memory outside its buffers.
 *              A lookup sees the last symbol starting at or below the address; symbols
 *              nested inside others are not looked through (glibc's .symtab has none).
 * Invariants:  S1 symbols are sorted by strictly increasing address (aliases are merged)
 *              S2 every symbol covers [addr, end) with end > addr; a symbol of size 0
 *                 covers up to the next symbol or the end of its section
 *              elfsym_check() checks both.
 * Complexity:  load O(n log n) in the symbol count; lookup O(log n).
 */
#ifndef HK_TOOLS_ELFSYM_H
#define HK_TOOLS_ELFSYM_H

#include <stdint.h>

/* Where the symbols of a loaded object came from (step 1-3 above). */
typedef enum elfsym_source {
    ELFSYM_NONE,           /* no function symbols anywhere */
    ELFSYM_SYMTAB,         /* the file's own .symtab */
    ELFSYM_DEBUG_BUILD_ID, /* .symtab of <debug_root>/.build-id/xx/yyyy.debug */
    ELFSYM_DEBUG_LINK,     /* .symtab of the file named by .gnu_debuglink */
    ELFSYM_DYNSYM,         /* the file's own .dynsym */
} elfsym_source_t;

typedef struct elfsym elfsym_t;

/* Reads the object at path; debug_root is where separate debug files live (normally
 * "/usr/lib/debug"), or NULL to look for none. Returns NULL when the file cannot be read,
 * is not an ELF64 little-endian x86-64 file, or memory runs out. */
elfsym_t *elfsym_load(const char *path, const char *debug_root);
void elfsym_free(elfsym_t *e);

/* Translates an offset into the file to the ELF virtual address the PT_LOAD segment
 * holding it gives that byte. Returns 1 and sets *vaddr, or 0 when no segment holds it. */
int elfsym_vaddr(const elfsym_t *e, uint64_t file_offset, uint64_t *vaddr);

/* The function covering vaddr, or NULL; *delta is set to vaddr minus its start. The name
 * lives as long as e. */
const char *elfsym_lookup(const elfsym_t *e, uint64_t vaddr, uint64_t *delta);

elfsym_source_t elfsym_source(const elfsym_t *e);
/* Number of function symbols (after merging aliases). */
uint64_t elfsym_count(const elfsym_t *e);
/* Counts the violations of S1 and S2 (0 for a sound table). */
int elfsym_check(const elfsym_t *e);

#endif
