/*
 * elffile.h -- an ELF64 little-endian x86-64 file on disk, read with every range checked.
 *
 * Design:      The symbolizer reads files it did not produce: possibly truncated,
 *              replaced, or hostile. elffile_open() reads and validates the ELF header and
 *              loads the program and section header tables; everything else is read on
 *              request through elffile_read(), the single place that checks an (offset,
 *              size) pair against the file size. Callers still bounds-check what they find
 *              inside a buffer (an index into a table, an offset into a string table);
 *              the string reader appends a NUL so an in-range offset is always a
 *              terminated string. pread, not mmap: a file that shrinks while it is read
 *              gives a short read, which is an error, instead of SIGBUS.
 *              Extended section numbering (e_shnum 0) is not supported: only relocatable
 *              objects with more than 65279 sections need it, and those are never mapped.
 * Complexity:  open O(headers); elffile_crc32 reads the whole file.
 * References:  System V gABI, chapters 4 and 5; the GDB manual, "Debugging Information in
 *              Separate Files" (build id, .gnu_debuglink and its CRC).
 */
#ifndef HK_TOOLS_ELFFILE_H
#define HK_TOOLS_ELFFILE_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELFFILE_BUILD_ID_MAX 64 /* GNU ld writes 20 bytes (sha1); room for md5 .. sha512 */

typedef struct elffile {
    int fd;
    uint64_t size; /* bytes in the file: the bound of every read */
    dev_t dev;     /* tells a file from another name for it */
    ino_t ino;
    Elf64_Ehdr eh;
    Elf64_Phdr *ph; /* phnum program headers, or NULL */
    size_t phnum;
    Elf64_Shdr *sh; /* shnum section headers; NULL when missing or malformed */
    size_t shnum;
    char *shstr; /* section names, NUL-terminated at shstr_size, or NULL */
    uint64_t shstr_size;
} elffile_t;

/* Opens path and reads its headers. Returns 0, or -1 when it is not a readable regular
 * file holding an ELF64 little-endian x86-64 executable or shared object. */
int elffile_open(elffile_t *f, const char *path);
void elffile_close(elffile_t *f);

/* Reads exactly size bytes at off into dst; -1 unless [off, off+size) lies in the file. */
int elffile_read(const elffile_t *f, uint64_t off, uint64_t size, void *dst);
/* A new buffer (free it) with the size bytes at off and a NUL after them; NULL when size
 * is 0 or above max, the range is outside the file, or memory runs out. */
char *elffile_strings(const elffile_t *f, uint64_t off, uint64_t size, uint64_t max);
/* A new array (free it) of count entries of entry_size bytes read at off, or NULL. */
void *elffile_table(const elffile_t *f, uint64_t off, uint64_t count, size_t entry_size);

/* The name of section idx (< f->shnum), "" when it has none. */
const char *elffile_section_name(const elffile_t *f, size_t idx);
/* The GNU build id, from the note sections, else the PT_NOTE segments: its length in
 * bytes (copied to id), or 0 when there is none. */
size_t elffile_build_id(const elffile_t *f, unsigned char id[ELFFILE_BUILD_ID_MAX]);
/* The file name in .gnu_debuglink (a new string without '/', free it) and its CRC-32 in
 * *crc, or NULL when there is no usable debuglink. */
char *elffile_debuglink(const elffile_t *f, uint32_t *crc);
/* The CRC-32 of the whole file, as .gnu_debuglink records it. Returns 0, or -1. */
int elffile_crc32(const elffile_t *f, uint32_t *crc);

#endif
