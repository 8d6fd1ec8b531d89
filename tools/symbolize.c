/*
 * symbolize.c -- maps text -> file mappings -> objects -> symbols (see symbolize.h).
 *
 * Design:      symbolizer_open() parses every maps line into a raw record pointing into
 *              the text, sorts the records by file to give each distinct file one object
 *              (a file has several mappings, one per segment), then sorts the mappings by
 *              address for binary search. An object's symbols are loaded by the first
 *              lookup that needs them and the outcome, success or failure, is kept.
 * Layout:      mapping [start, end) at file offset `offset` of objects[object]; an
 *              address a in it is byte (a - start + offset) of the file.
 * Invariants:  M1 maps[] is sorted by start and every mapping has start < end
 *              M2 every mapping's object index is < nobjects
 *              M3 an object's state moves UNREAD -> LOADED or UNREAD -> FAILED, once
 * Complexity:  open O(m log m) for m lines; symbolize O(log m + log s) once loaded.
 */
#include "symbolize.h"
#include "elfsym.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Types ---- */

typedef enum object_state { OBJ_UNREAD, OBJ_LOADED, OBJ_FAILED } object_state_t;

typedef struct object {
    char *path;       /* as in maps, without " (deleted)" */
    const char *name; /* basename, inside path */
    elfsym_t *elf;    /* set when LOADED */
    object_state_t state;
} object_t;

typedef struct mapping {
    uint64_t start, end, offset;
    size_t object;
} mapping_t;

/* One parsed maps line, its path still inside the maps text. */
typedef struct raw_line {
    uint64_t start, end, offset, inode;
    const char *path;
    size_t path_len;
    int deleted;
    size_t object;
} raw_line_t;

struct symbolizer {
    mapping_t *maps; /* nmaps, M1 */
    size_t nmaps;
    object_t *objects;
    size_t nobjects;
};

/* ---- Parsing one maps line ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A number in base 16 or 10 at *p, at least one digit, no overflow. */
static int parse_number(const char **p, const char *end, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    int d;
    while (s < end && (d = hex_digit(*s)) >= 0 && (unsigned)d < base) {
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return 0;
        v = v * base + (unsigned)d;
        s++;
    }
    if (s == *p)
        return 0;
    *p = s;
    *out = v;
    return 1;
}

static int skip_spaces(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    int moved = s != *p;
    *p = s;
    return moved;
}

/* A field without spaces (perms, dev). */
static int skip_word(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && *s != ' ' && *s != '\t')
        s++;
    int moved = s != *p;
    *p = s;
    return moved;
}

/* "start-end perms offset dev inode   path": 1 for a mapping of a file (a path starting
 * with '/'), 0 for anything else, including lines that do not parse. */
static int parse_line(const char *p, const char *end, raw_line_t *r)
{
    static const char deleted[] = " (deleted)";
    const size_t deleted_len = sizeof deleted - 1;
    if (!parse_number(&p, end, 16, &r->start) || p == end || *p++ != '-' ||
        !parse_number(&p, end, 16, &r->end) || !skip_spaces(&p, end) || !skip_word(&p, end) ||
        !skip_spaces(&p, end) || !parse_number(&p, end, 16, &r->offset) || !skip_spaces(&p, end) ||
        !skip_word(&p, end) || !skip_spaces(&p, end) || !parse_number(&p, end, 10, &r->inode))
        return 0;
    skip_spaces(&p, end);
    if (p == end || *p != '/' || r->end <= r->start)
        return 0;
    r->path = p;
    r->path_len = (size_t)(end - p);
    r->deleted = r->path_len > deleted_len && memcmp(end - deleted_len, deleted, deleted_len) == 0;
    if (r->deleted)
        r->path_len -= deleted_len;
    return 1;
}

/* Every file mapping of the text, in a new array (*count of them); NULL when there are
 * none or memory runs out (*oom tells which). */
static raw_line_t *parse_maps(const char *maps, size_t len, size_t *count, int *oom)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += maps[i] == '\n';
    raw_line_t *raw = len ? malloc(lines * sizeof *raw) : NULL;
    *oom = len && raw == NULL;
    *count = 0;
    for (const char *p = maps, *end = maps + len; raw && p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol ? eol : end;
        *count += (size_t)parse_line(p, eol, &raw[*count]);
        p = eol + (eol < end);
    }
    return raw;
}

/* ---- Objects ---- */

/* Orders raw lines by file: path, then inode, then deleted-ness. */
static int raw_file_cmp(const void *pa, const void *pb)
{
    const raw_line_t *a = pa, *b = pb;
    size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
    int c = memcmp(a->path, b->path, n);
    if (c != 0)
        return c;
    if (a->path_len != b->path_len)
        return a->path_len < b->path_len ? -1 : 1;
    if (a->inode != b->inode)
        return a->inode < b->inode ? -1 : 1;
    return a->deleted - b->deleted;
}

static int same_file(const raw_line_t *a, const raw_line_t *b)
{
    return raw_file_cmp(a, b) == 0;
}

static int object_init(object_t *o, const raw_line_t *r)
{
    o->path = malloc(r->path_len + 1);
    if (o->path == NULL)
        return -1;
    memcpy(o->path, r->path, r->path_len);
    o->path[r->path_len] = '\0';
    const char *slash = strrchr(o->path, '/');
    o->name = slash ? slash + 1 : o->path;
    o->elf = NULL;
    o->state = r->deleted ? OBJ_FAILED : OBJ_UNREAD; /* see symbolize.h: never read */
    return 0;
}

/* Gives raw[0..count) their object indexes, creating one object per distinct file. */
static int make_objects(symbolizer_t *s, raw_line_t *raw, size_t count)
{
    qsort(raw, count, sizeof *raw, raw_file_cmp);
    s->objects = malloc(count * sizeof *s->objects);
    if (s->objects == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (i == 0 || !same_file(&raw[i - 1], &raw[i])) {
            if (object_init(&s->objects[s->nobjects], &raw[i]) != 0)
                return -1;
            s->nobjects++;
        }
        raw[i].object = s->nobjects - 1;
    }
    return 0;
}

static void object_load(object_t *o)
{
    if (o->state != OBJ_UNREAD)
        return;
    o->elf = elfsym_load(o->path, SYMBOLIZE_DEBUG_ROOT);
    o->state = o->elf ? OBJ_LOADED : OBJ_FAILED;
}

/* ---- Mappings ---- */

static int mapping_cmp(const void *pa, const void *pb)
{
    const mapping_t *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

static int make_mappings(symbolizer_t *s, const raw_line_t *raw, size_t count)
{
    s->maps = malloc(count * sizeof *s->maps);
    if (s->maps == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        s->maps[i] = (mapping_t){raw[i].start, raw[i].end, raw[i].offset, raw[i].object};
    s->nmaps = count;
    qsort(s->maps, count, sizeof *s->maps, mapping_cmp);
    return 0;
}

/* The mapping holding addr: the last one starting at or below it, if it reaches addr. */
static const mapping_t *find_mapping(const symbolizer_t *s, uint64_t addr)
{
    size_t lo = 0, hi = s->nmaps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->maps[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && addr < s->maps[lo - 1].end ? &s->maps[lo - 1] : NULL;
}

/* ---- The API ---- */

symbolizer_t *symbolizer_open(const char *maps, size_t len)
{
    symbolizer_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    size_t count;
    int oom;
    raw_line_t *raw = parse_maps(maps, maps ? len : 0, &count, &oom);
    if (oom ||
        (count > 0 && (make_objects(s, raw, count) != 0 || make_mappings(s, raw, count) != 0))) {
        symbolizer_close(s);
        s = NULL;
    }
    free(raw);
    return s;
}

int symbolize(symbolizer_t *s, uint64_t addr, char *buf, size_t n)
{
    const mapping_t *m = s ? find_mapping(s, addr) : NULL;
    if (m == NULL) {
        snprintf(buf, n, "0x%" PRIx64, addr);
        return 0;
    }
    object_t *o = &s->objects[m->object];
    object_load(o);
    uint64_t offset = addr - m->start + m->offset, vaddr, delta;
    if (o->elf == NULL || !elfsym_vaddr(o->elf, offset, &vaddr)) {
        snprintf(buf, n, "0x%" PRIx64 " (%s)", offset, o->name);
        return 0;
    }
    const char *name = elfsym_lookup(o->elf, vaddr, &delta);
    if (name == NULL)
        snprintf(buf, n, "0x%" PRIx64 " (%s)", vaddr, o->name);
    else if (delta == 0)
        snprintf(buf, n, "%s (%s)", name, o->name);
    else
        snprintf(buf, n, "%s+0x%" PRIx64 " (%s)", name, delta, o->name);
    return name != NULL;
}

void symbolizer_close(symbolizer_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nobjects; i++) {
        elfsym_free(s->objects[i].elf);
        free(s->objects[i].path);
    }
    free(s->objects);
    free(s->maps);
    free(s);
}
