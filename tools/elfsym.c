/*
 * elfsym.c -- an object's segments and function symbols, sorted for lookup (see elfsym.h).
 *
 * Design:      elffile.c does the bounded reading; this file chooses the symbol table
 *              (steps 1-3 of elfsym.h), keeps its functions and turns them into the sorted
 *              array of S1/S2. Aliases (getpid, __getpid, __GI_getpid at one address) are
 *              merged into one symbol named by the most readable alias: fewest leading
 *              underscores, then global before weak before local, then the shortest.
 * Invariants:  S1, S2 of elfsym.h: established by symbols_finish(), checked by
 *              elfsym_check().
 * Complexity:  load O(n log n) for the n symbols of the table used; lookup O(log n).
 */
#include "elfsym.h"
#include "elffile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Types ---- */

typedef struct segment {
    uint64_t offset, filesz, vaddr; /* a PT_LOAD: file bytes [offset, offset+filesz) at vaddr */
} segment_t;

typedef struct symbol {
    uint64_t addr, end; /* covers [addr, end) */
    const char *name;   /* in strtab */
} symbol_t;

/* A function symbol before aliases are merged and ends computed. */
typedef struct candidate {
    uint64_t addr, size, section_end; /* section_end 0: unknown */
    const char *name;
    unsigned rank; /* lower is more readable */
} candidate_t;

struct elfsym {
    segment_t *segs;
    size_t nsegs;
    symbol_t *syms; /* nsyms, sorted by addr (S1) */
    size_t nsyms;
    char *strtab; /* the string table the names point into */
    elfsym_source_t source;
};

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* ---- Symbol tables ---- */

static unsigned name_rank(const char *name, unsigned char info)
{
    unsigned underscores = 0, bind;
    while (name[underscores] == '_' && underscores < 3)
        underscores++;
    switch (ELF64_ST_BIND(info)) {
    case STB_GLOBAL:
        bind = 0;
        break;
    case STB_WEAK:
        bind = 1;
        break;
    case STB_LOCAL:
        bind = 2;
        break;
    default:
        bind = 3;
        break;
    }
    return underscores * 4 + bind;
}

static int candidate_cmp(const void *pa, const void *pb)
{
    const candidate_t *a = pa, *b = pb;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    size_t la = strlen(a->name), lb = strlen(b->name);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* The function symbols of syms[0..count) whose names lie in strtab; returns how many. */
static size_t collect_functions(const elffile_t *f, const Elf64_Sym *syms, size_t count,
                                const char *strtab, uint64_t strtab_size, candidate_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const Elf64_Sym *s = &syms[i];
        int type = ELF64_ST_TYPE(s->st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_value == 0 ||
            s->st_value == UINT64_MAX || /* S2 needs room for end > addr */
            s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE || s->st_name >= strtab_size ||
            strtab[s->st_name] == '\0')
            continue;
        candidate_t *c = &out[n++];
        c->addr = s->st_value;
        c->size = s->st_size;
        c->name = strtab + s->st_name;
        c->rank = name_rank(c->name, s->st_info);
        c->section_end = 0;
        if (s->st_shndx < f->shnum) {
            const Elf64_Shdr *sec = &f->sh[s->st_shndx];
            if (c->addr >= sec->sh_addr && c->addr - sec->sh_addr < sec->sh_size)
                c->section_end = add_sat(sec->sh_addr, sec->sh_size);
        }
    }
    return n;
}

/* Sorts candidates, merges aliases into the best-ranked name and gives each symbol its
 * end: its own size when it has one, else up to the next symbol or its section's end.
 * Establishes S1 and S2; returns the number of symbols written to out. */
static size_t symbols_finish(candidate_t *c, size_t n, symbol_t *out)
{
    qsort(c, n, sizeof *c, candidate_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; m++) {
        size_t j = i + 1;
        uint64_t size = c[i].size, section_end = c[i].section_end;
        for (; j < n && c[j].addr == c[i].addr; j++) {
            size = c[j].size > size ? c[j].size : size;
            section_end = c[j].section_end > section_end ? c[j].section_end : section_end;
        }
        uint64_t end = j < n ? c[j].addr : 0;
        if (section_end > c[i].addr && (end == 0 || section_end < end))
            end = section_end;
        if (size > 0)
            end = add_sat(c[i].addr, size);
        else if (end == 0)
            end = add_sat(c[i].addr, 1);
        out[m] = (symbol_t){.addr = c[i].addr, .end = end, .name = c[i].name};
        i = j;
    }
    return m;
}

/* Loads the function symbols of f's table of type SHT_SYMTAB or SHT_DYNSYM into e; e is
 * left as it was when the table is missing, malformed or has no functions. Returns the
 * count loaded (0 for none). */
static size_t load_table(elfsym_t *e, const elffile_t *f, uint32_t type)
{
    size_t idx = 0;
    while (idx < f->shnum && f->sh[idx].sh_type != type)
        idx++;
    if (idx == f->shnum)
        return 0;
    const Elf64_Shdr *tab = &f->sh[idx];
    if (tab->sh_entsize != sizeof(Elf64_Sym) || tab->sh_link >= f->shnum ||
        f->sh[tab->sh_link].sh_type != SHT_STRTAB)
        return 0;
    const Elf64_Shdr *str = &f->sh[tab->sh_link];
    uint64_t count = tab->sh_size / sizeof(Elf64_Sym);
    Elf64_Sym *syms = elffile_table(f, tab->sh_offset, count, sizeof(Elf64_Sym));
    char *strtab = syms ? elffile_strings(f, str->sh_offset, str->sh_size, UINT64_MAX) : NULL;
    candidate_t *cands = strtab ? malloc((size_t)count * sizeof *cands) : NULL;
    size_t n = cands ? collect_functions(f, syms, (size_t)count, strtab, str->sh_size, cands) : 0;
    symbol_t *out = n ? malloc(n * sizeof *out) : NULL;
    if (out != NULL) {
        free(e->syms);
        free(e->strtab);
        e->nsyms = symbols_finish(cands, n, out);
        e->syms = out;
        e->strtab = strtab;
        strtab = NULL;
    }
    free(syms);
    free(strtab);
    free(cands);
    return out ? e->nsyms : 0;
}

/* ---- Separate debug files ---- */

/* Takes the .symtab of the debug file at dpath if it belongs to f: the same build id when
 * f has one, else a CRC-32 equal to crc. Returns 1 when symbols were loaded into e. */
static int load_debug_file(elfsym_t *e, const elffile_t *f, const char *dpath,
                           const unsigned char *id, size_t id_len, uint32_t crc)
{
    elffile_t d;
    if (elffile_open(&d, dpath) != 0)
        return 0;
    int ok = !(d.dev == f->dev && d.ino == f->ino);
    if (ok && id_len > 0) {
        unsigned char did[ELFFILE_BUILD_ID_MAX];
        ok = elffile_build_id(&d, did) == id_len && memcmp(did, id, id_len) == 0;
    } else if (ok) {
        uint32_t dcrc;
        ok = elffile_crc32(&d, &dcrc) == 0 && dcrc == crc;
    }
    ok = ok && load_table(e, &d, SHT_SYMTAB) > 0;
    elffile_close(&d);
    return ok;
}

static int load_by_build_id(elfsym_t *e, const elffile_t *f, const char *root,
                            const unsigned char *id, size_t id_len)
{
    char hex[2 * ELFFILE_BUILD_ID_MAX + 1], path[PATH_MAX];
    for (size_t i = 0; i < id_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    int len = snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", root, hex, hex + 2);
    return id_len >= 2 && len > 0 && (size_t)len < sizeof path &&
           load_debug_file(e, f, path, id, id_len, 0);
}

/* Writes the k-th place GDB looks for a debuglink name into path: beside the file, in
 * its .debug folder, under the debug root in the file's own folder. 0 when it fits. */
static int debuglink_path(char *path, size_t size, int k, const char *fpath, const char *root,
                          const char *name)
{
    const char *slash = strrchr(fpath, '/');
    int dir_len = slash ? (int)(slash - fpath) : 1;
    const char *dir = slash ? fpath : ".";
    int len = -1;
    switch (k) {
    case 0:
        len = snprintf(path, size, "%.*s/%s", dir_len, dir, name);
        break;
    case 1:
        len = snprintf(path, size, "%.*s/.debug/%s", dir_len, dir, name);
        break;
    case 2:
        len = snprintf(path, size, "%s%s%.*s/%s", root, slash ? "" : "/", dir_len, dir, name);
        break;
    default:
        break;
    }
    return len > 0 && (size_t)len < size ? 0 : -1;
}

static int load_by_debuglink(elfsym_t *e, const elffile_t *f, const char *fpath, const char *root,
                             const unsigned char *id, size_t id_len)
{
    uint32_t crc = 0;
    char *name = elffile_debuglink(f, &crc);
    int found = 0;
    for (int k = 0; name != NULL && k < 3 && !found; k++) {
        char path[PATH_MAX];
        found = debuglink_path(path, sizeof path, k, fpath, root, name) == 0 &&
                load_debug_file(e, f, path, id, id_len, crc);
    }
    free(name);
    return found;
}

/* ---- Loading ---- */

static int load_segments(elfsym_t *e, const elffile_t *f)
{
    e->segs = f->phnum ? malloc(f->phnum * sizeof *e->segs) : NULL;
    if (f->phnum && e->segs == NULL)
        return -1;
    for (size_t i = 0; i < f->phnum; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type == PT_LOAD && p->p_filesz > 0)
            e->segs[e->nsegs++] = (segment_t){p->p_offset, p->p_filesz, p->p_vaddr};
    }
    return 0;
}

/* Steps 1-3 of elfsym.h, first success wins; no debug file is looked for without a root. */
static void find_symbols(elfsym_t *e, const elffile_t *f, const char *path, const char *root)
{
    if (load_table(e, f, SHT_SYMTAB) > 0) {
        e->source = ELFSYM_SYMTAB;
        return;
    }
    unsigned char id[ELFFILE_BUILD_ID_MAX];
    size_t id_len = elffile_build_id(f, id);
    if (root && id_len > 0 && load_by_build_id(e, f, root, id, id_len))
        e->source = ELFSYM_DEBUG_BUILD_ID;
    else if (root && load_by_debuglink(e, f, path, root, id, id_len))
        e->source = ELFSYM_DEBUG_LINK;
    else if (load_table(e, f, SHT_DYNSYM) > 0)
        e->source = ELFSYM_DYNSYM;
}

elfsym_t *elfsym_load(const char *path, const char *debug_root)
{
    elffile_t f;
    if (elffile_open(&f, path) != 0)
        return NULL;
    elfsym_t *e = calloc(1, sizeof *e);
    if (e != NULL && load_segments(e, &f) == 0) {
        find_symbols(e, &f, path, debug_root);
    } else {
        elfsym_free(e);
        e = NULL;
    }
    elffile_close(&f);
    return e;
}

void elfsym_free(elfsym_t *e)
{
    if (e == NULL)
        return;
    free(e->segs);
    free(e->syms);
    free(e->strtab);
    free(e);
}

int elfsym_vaddr(const elfsym_t *e, uint64_t file_offset, uint64_t *vaddr)
{
    for (size_t i = 0; i < e->nsegs; i++) {
        const segment_t *s = &e->segs[i];
        if (file_offset >= s->offset && file_offset - s->offset < s->filesz) {
            *vaddr = s->vaddr + (file_offset - s->offset);
            return 1;
        }
    }
    return 0;
}

const char *elfsym_lookup(const elfsym_t *e, uint64_t vaddr, uint64_t *delta)
{
    size_t lo = 0, hi = e->nsyms; /* the answer is the last symbol with addr <= vaddr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->syms[mid].addr <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || vaddr >= e->syms[lo - 1].end)
        return NULL;
    *delta = vaddr - e->syms[lo - 1].addr;
    return e->syms[lo - 1].name;
}

elfsym_source_t elfsym_source(const elfsym_t *e)
{
    return e->source;
}

uint64_t elfsym_count(const elfsym_t *e)
{
    return e->nsyms;
}

int elfsym_check(const elfsym_t *e)
{
    int bad = 0;
    for (size_t i = 0; i < e->nsyms; i++) {
        bad += i > 0 && e->syms[i - 1].addr >= e->syms[i].addr; /* S1 */
        bad += e->syms[i].end <= e->syms[i].addr;               /* S2 */
    }
    return bad;
}
