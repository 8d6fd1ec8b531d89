/*
 * elffile.c -- bounded reading of ELF64 files: headers, notes, debuglink (see elffile.h).
 *
 * Design:      Tables are read into their own malloc'd buffers sized from the header
 *              fields, after elffile_read() has checked the range; entries are copied out
 *              with memcpy where a buffer is not a typed array, so no cast depends on the
 *              file's alignment. Limits below turn absurd sizes into "absent" before any
 *              allocation is attempted.
 * Complexity:  O(size of what is read); note scanning is capped at NOTES_BUDGET bytes per
 *              file, so a file with thousands of huge note sections stays cheap.
 */
#include "elffile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "ELF64LSB fields are read as host integers, so the host must be little-endian");

/* ---- Limits ---- */

#define TABLE_MAX_SIZE ((uint64_t)1 << 32) /* no real symbol or string table is 4 GiB */
#define NOTES_BUDGET   ((uint64_t)1 << 20) /* nor are the notes of one file 1 MiB */
#define LINK_MAX_SIZE  4096                /* .gnu_debuglink: a file name and a CRC */

static uint64_t align_up(uint64_t x, uint64_t align)
{
    return (x + align - 1) & ~(align - 1);
}

/* ---- Reading ---- */

int elffile_read(const elffile_t *f, uint64_t off, uint64_t size, void *dst)
{
    if (off > f->size || size > f->size - off)
        return -1;
    char *p = dst;
    while (size > 0) {
        ssize_t got = pread(f->fd, p, (size_t)size, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        size -= (uint64_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

char *elffile_strings(const elffile_t *f, uint64_t off, uint64_t size, uint64_t max)
{
    if (size == 0 || size > max || size > TABLE_MAX_SIZE)
        return NULL;
    char *buf = malloc((size_t)size + 1);
    if (buf == NULL || elffile_read(f, off, size, buf) != 0) {
        free(buf);
        return NULL;
    }
    buf[size] = '\0';
    return buf;
}

void *elffile_table(const elffile_t *f, uint64_t off, uint64_t count, size_t entry_size)
{
    if (count == 0 || entry_size == 0 || count > TABLE_MAX_SIZE / entry_size)
        return NULL;
    void *t = malloc((size_t)count * entry_size);
    if (t == NULL || elffile_read(f, off, count * entry_size, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

/* ---- Headers ---- */

static int header_is_valid(const Elf64_Ehdr *eh)
{
    return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
           eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_ident[EI_VERSION] == EV_CURRENT &&
           eh->e_machine == EM_X86_64 && (eh->e_type == ET_EXEC || eh->e_type == ET_DYN);
}

/* Section headers and names; a file without a usable table just has no sections. */
static void read_sections(elffile_t *f)
{
    const Elf64_Ehdr *eh = &f->eh;
    if (eh->e_shnum == 0 || eh->e_shentsize != sizeof(Elf64_Shdr))
        return;
    f->sh = elffile_table(f, eh->e_shoff, eh->e_shnum, sizeof(Elf64_Shdr));
    if (f->sh == NULL)
        return;
    f->shnum = eh->e_shnum;
    if (eh->e_shstrndx < f->shnum && f->sh[eh->e_shstrndx].sh_type == SHT_STRTAB) {
        const Elf64_Shdr *s = &f->sh[eh->e_shstrndx];
        f->shstr = elffile_strings(f, s->sh_offset, s->sh_size, TABLE_MAX_SIZE);
        f->shstr_size = f->shstr ? s->sh_size : 0;
    }
}

int elffile_open(elffile_t *f, const char *path)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return -1;
    /* Only regular files: a maps line may name /dev/zero or a FIFO. */
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        elffile_close(f);
        return -1;
    }
    f->size = (uint64_t)st.st_size;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    if (elffile_read(f, 0, sizeof f->eh, &f->eh) != 0 || !header_is_valid(&f->eh)) {
        elffile_close(f);
        return -1;
    }
    if (f->eh.e_phentsize == sizeof(Elf64_Phdr)) {
        f->ph = elffile_table(f, f->eh.e_phoff, f->eh.e_phnum, sizeof(Elf64_Phdr));
        f->phnum = f->ph ? f->eh.e_phnum : 0;
    }
    read_sections(f);
    return 0;
}

void elffile_close(elffile_t *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f->ph);
    free(f->sh);
    free(f->shstr);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

const char *elffile_section_name(const elffile_t *f, size_t idx)
{
    uint32_t at = f->sh[idx].sh_name;
    return f->shstr && at < f->shstr_size ? f->shstr + at : "";
}

/* ---- Build id ---- */

/* Advances *pos by n bytes, or to the end when fewer are left. */
static void skip(uint64_t *pos, uint64_t size, uint64_t n)
{
    *pos += n < size - *pos ? n : size - *pos;
}

/* Scans one note area (entries padded to align) for the GNU build id. */
static size_t notes_build_id(const unsigned char *p, uint64_t size, uint64_t align,
                             unsigned char *id)
{
    uint64_t pos = 0;
    while (size - pos >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p + pos, sizeof nh);
        pos += sizeof nh;
        if (nh.n_namesz > size - pos)
            return 0;
        const unsigned char *name = p + pos;
        skip(&pos, size, align_up(nh.n_namesz, align));
        if (nh.n_descsz > size - pos)
            return 0;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
            nh.n_descsz > 0 && nh.n_descsz <= ELFFILE_BUILD_ID_MAX) {
            memcpy(id, p + pos, nh.n_descsz);
            return nh.n_descsz;
        }
        skip(&pos, size, align_up(nh.n_descsz, align));
    }
    return 0;
}

/* Reads and scans one note area, charging its size to *budget. */
static size_t area_build_id(const elffile_t *f, uint64_t off, uint64_t size, uint64_t align,
                            uint64_t *budget, unsigned char *id)
{
    if (size > *budget)
        return 0;
    *budget -= size;
    unsigned char *notes = (unsigned char *)elffile_strings(f, off, size, NOTES_BUDGET);
    size_t len = notes ? notes_build_id(notes, size, align == 8 ? 8 : 4, id) : 0;
    free(notes);
    return len;
}

/* Sections first: a debug file keeps its note sections, while its PT_NOTE segments may
 * describe bytes it no longer has. Segments second: sstrip-ed files have no sections. */
size_t elffile_build_id(const elffile_t *f, unsigned char id[ELFFILE_BUILD_ID_MAX])
{
    uint64_t budget = NOTES_BUDGET;
    size_t len = 0;
    for (size_t i = 0; i < f->shnum && len == 0; i++) {
        const Elf64_Shdr *s = &f->sh[i];
        if (s->sh_type == SHT_NOTE)
            len = area_build_id(f, s->sh_offset, s->sh_size, s->sh_addralign, &budget, id);
    }
    for (size_t i = 0; i < f->phnum && len == 0; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type == PT_NOTE)
            len = area_build_id(f, p->p_offset, p->p_filesz, p->p_align, &budget, id);
    }
    return len;
}

/* ---- Debuglink ---- */

/* The section holds a file name, NUL, padding to 4 bytes, then the CRC-32 of that file. */
char *elffile_debuglink(const elffile_t *f, uint32_t *crc)
{
    for (size_t i = 0; i < f->shnum; i++) {
        const Elf64_Shdr *s = &f->sh[i];
        if (s->sh_type != SHT_PROGBITS || strcmp(elffile_section_name(f, i), ".gnu_debuglink") != 0)
            continue;
        char *link = elffile_strings(f, s->sh_offset, s->sh_size, LINK_MAX_SIZE);
        if (link == NULL)
            return NULL;
        uint64_t len = strlen(link), crc_at = align_up(len + 1, 4);
        if (len == 0 || strchr(link, '/') != NULL || crc_at + 4 > s->sh_size) {
            free(link);
            return NULL;
        }
        memcpy(crc, link + crc_at, 4);
        return link;
    }
    return NULL;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32), the one objcopy --add-gnu-debuglink
 * writes. The table is built per call: this runs at most once per object. */
int elffile_crc32(const elffile_t *f, uint32_t *crc)
{
    uint32_t table[256], c = 0xffffffffu;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t t = i;
        for (int k = 0; k < 8; k++)
            t = t & 1 ? 0xedb88320u ^ (t >> 1) : t >> 1;
        table[i] = t;
    }
    unsigned char buf[1 << 16];
    for (uint64_t off = 0; off < f->size;) {
        uint64_t n = f->size - off < sizeof buf ? f->size - off : sizeof buf;
        if (elffile_read(f, off, n, buf) != 0)
            return -1;
        for (uint64_t i = 0; i < n; i++)
            c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
        off += n;
    }
    *crc = c ^ 0xffffffffu;
    return 0;
}
