/*
 * test_symbolize.c -- the offline symbolizer (tools/symbolize.h) and its ELF reader
 * (tools/elfsym.h), tried on this very process and on copies of its binary.
 *
 * Design:      The test reads its own /proc/self/maps and resolves its own functions
 *              (from .symtab: the binary is built with -g), a libc function (.dynsym, or
 *              libc6-dbg's debug file when installed), anonymous memory and garbage maps
 *              text. Then, in a scratch folder, objcopy makes copies of the binary: at a
 *              path with spaces, stripped (the .dynsym path; tests.mk links this test
 *              with -rdynamic so its functions are in .dynsym), with its debug file under
 *              a .build-id tree, and with a .gnu_debuglink instead of a build id. Last,
 *              truncated and corrupted copies must load or fail without a fault (run it
 *              under ASan: make VARIANT=sanitize test-lab). objcopy and readelf come from
 *              binutils; without them the copy tests are skipped with a note.
 */
#include "harness.h"
#include "elfsym.h"
#include "symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Functions to find ---- */

int symtest_public(int x);

/* Not static: in .symtab and, thanks to -rdynamic, in .dynsym too. */
int symtest_public(int x)
{
    volatile int acc = x;
    for (int i = 0; i < x; i++)
        acc = acc * 31 + i;
    return acc;
}

/* Static: only in .symtab (and in the debug file of a stripped copy). */
static __attribute__((noinline)) int symtest_local(int x)
{
    volatile int acc = x;
    for (int i = 0; i < x; i++)
        acc = acc * 17 + i;
    return acc;
}

static int (*volatile local_fn)(int) = symtest_local;

static uint64_t addr_of(int (*fn)(int))
{
    return (uint64_t)(uintptr_t)fn;
}

/* ---- Helpers ---- */

/* The whole file, NUL-terminated (*len bytes before the NUL), or NULL. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = f ? malloc(cap) : NULL;
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap *= 2);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    if (f)
        fclose(f);
    if (buf)
        buf[n] = '\0'; /* n < cap when the loop ends */
    *len = n;
    return buf;
}

static int write_all(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The lines of maps whose path is `from`, with the path replaced by `to` (a new string). */
static char *retarget(const char *maps, const char *from, const char *to, size_t *len)
{
    size_t cap = strlen(maps) * (strlen(to) + 2) + 1, n = 0;
    char *out = malloc(cap);
    for (const char *p = maps; out && *p;) {
        const char *eol = strchr(p, '\n');
        size_t line = eol ? (size_t)(eol - p) : strlen(p);
        const char *path = memchr(p, '/', line);
        if (path && (size_t)(p + line - path) == strlen(from) &&
            memcmp(path, from, strlen(from)) == 0)
            n += (size_t)snprintf(out + n, cap - n, "%.*s%s\n", (int)(path - p), p, to);
        p += line + (eol != NULL);
    }
    if (out)
        out[n] = '\0';
    *len = n;
    return out;
}

/* The file offset of addr in this process's mappings of `path`, from the maps text. */
static int file_offset_of(const char *maps, const char *path, uint64_t addr, uint64_t *off)
{
    for (const char *p = maps; *p;) {
        uint64_t start, end, offset;
        const char *eol = strchr(p, '\n');
        size_t line = eol ? (size_t)(eol - p) : strlen(p);
        const char *where = memchr(p, '/', line);
        size_t path_len = where ? line - (size_t)(where - p) : 0;
        if (sscanf(p, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &start, &end, &offset) == 3 &&
            where && path_len == strlen(path) && memcmp(where, path, path_len) == 0 &&
            addr >= start && addr < end) {
            *off = addr - start + offset;
            return 1;
        }
        p += line + (eol != NULL);
    }
    return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- This process ---- */

static void test_own_process(const char *maps, size_t len)
{
    char buf[512];
    symbolizer_t *s = symbolizer_open(maps, len);
    REQUIRE("open own maps", s != NULL);

    int found = symbolize(s, addr_of(symtest_public), buf, sizeof buf);
    CHECK("public function", found == 1 && strcmp(buf, "symtest_public (test_symbolize)") == 0);
    if (!found || !starts_with(buf, "symtest_public"))
        fprintf(stderr, "  got: %s\n", buf);

    found = symbolize(s, addr_of(symtest_public) + 4, buf, sizeof buf);
    CHECK("inside a function", found && strcmp(buf, "symtest_public+0x4 (test_symbolize)") == 0);

    found = symbolize(s, addr_of(local_fn), buf, sizeof buf);
    CHECK("static function",
          found && starts_with(buf, "symtest_local") && strstr(buf, "+0x") == NULL);
    if (!found)
        fprintf(stderr, "  got: %s\n", buf);

    /* getpid has no IFUNC (strlen has, and resolves to __strlen_avx2 or the like). libc
     * exports getpid and __getpid at one address; either name is a right answer. */
    void *dyn = dlsym(RTLD_DEFAULT, "getpid");
    found = symbolize(s, (uint64_t)(uintptr_t)dyn, buf, sizeof buf);
    CHECK("libc function",
          found && strstr(buf, "getpid") != NULL && strstr(buf, "(libc.so") != NULL);
    printf("getpid: %s\n", buf);
    found = symbolize(s, (uint64_t)(uintptr_t)&getpid + 2, buf, sizeof buf);
    CHECK("inside a libc function", found && strstr(buf, "getpid+0x2 (") != NULL);

    void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE("mmap", anon != MAP_FAILED);
    symbolizer_t *s2 = symbolizer_open(maps, len); /* maps predates anon: still no file there */
    char want[64];
    snprintf(want, sizeof want, "0x%" PRIx64, (uint64_t)(uintptr_t)anon + 8);
    found = symbolize(s2, (uint64_t)(uintptr_t)anon + 8, buf, sizeof buf);
    CHECK("anonymous memory is bare hex", found == 0 && strcmp(buf, want) == 0);
    munmap(anon, 4096);
    symbolizer_close(s2);
    CHECK("address 0", symbolize(s, 0, buf, sizeof buf) == 0 && strcmp(buf, "0x0") == 0);
    CHECK("no symbolizer", symbolize(NULL, 0x10, buf, sizeof buf) == 0 && strcmp(buf, "0x10") == 0);

    CHECK("truncated to n",
          symbolize(s, addr_of(symtest_public), buf, 8) == 1 && strcmp(buf, "symtest") == 0);
    buf[0] = 'x';
    CHECK("n == 1 writes only the NUL",
          symbolize(s, addr_of(symtest_public), buf, 1) == 1 && buf[0] == '\0');
    CHECK("n == 0 writes nothing", symbolize(s, addr_of(symtest_public), NULL, 0) == 1);

    /* Many distinct addresses around our own text: each object is read once. */
    int hits = 0;
    for (uint64_t i = 0; i < 100000; i++)
        hits += symbolize(s, addr_of(symtest_public) - 50000 + i, buf, sizeof buf);
    CHECK("10^5 lookups", hits > 0);
    symbolizer_close(s);
}

/* The tables behind the answers above: sound, and from the expected source. */
static void test_tables(const char *exe)
{
    static const char *names[] = {"none", ".symtab", "debug file (build id)",
                                  "debug file (debuglink)", ".dynsym"};
    elfsym_t *e = elfsym_load(exe, SYMBOLIZE_DEBUG_ROOT);
    REQUIRE("load own binary", e != NULL);
    CHECK("own binary: .symtab", elfsym_source(e) == ELFSYM_SYMTAB && elfsym_count(e) > 0);
    CHECK("own binary: S1 S2", elfsym_check(e) == 0);
    elfsym_free(e);

    Dl_info info;
    REQUIRE("dladdr(getpid)", dladdr((void *)(uintptr_t)&getpid, &info) != 0);
    e = elfsym_load(info.dli_fname, SYMBOLIZE_DEBUG_ROOT);
    REQUIRE("load libc", e != NULL);
    CHECK("libc: S1 S2", elfsym_check(e) == 0 && elfsym_count(e) > 0);
    printf("%s: %" PRIu64 " functions from %s\n", info.dli_fname, elfsym_count(e),
           names[elfsym_source(e)]);
    elfsym_free(e);
}

static void test_garbage(void)
{
    static const char *texts[] = {
        "",
        "\n\n\n",
        "not a maps file at all",
        "1-2",
        "1-2 r-xp",
        "2-1 r-xp 00000000 00:00 0 /usr/bin/env\n",
        "ffffffffffffffffff-1 r-xp 0 00:00 0 /x\n",
        "0-ffffffffffffffff r-xp ffffffffffffffff 00:00 0 /nonexistent path (deleted)\n",
        "1000-2000 r-xp 00000000 00:00 0 /dev/zero\n3000-4000 r-xp 0 0:0 0 /\n",
        "1000-2000 r-xp 0 00:00 0 [vdso]\n5000-6000 ---p 0 00:00 0\n",
        "1000-2000 r-xp 0 00:00 18446744073709551616 /bin/sh\n",
        " (deleted)",
        "1000-2000 r-xp 0 00:00 0 / (deleted)",
        "1000-2000 r-xp 0 00:00 0 /proc/self/maps",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        symbolizer_t *s = symbolizer_open(texts[i], strlen(texts[i]));
        CHECK("garbage opens", s != NULL);
        for (uint64_t a = 0; a < 0x7000; a += 0x7ff)
            symbolize(s, a, buf, sizeof buf);
        symbolize(s, UINT64_MAX, buf, sizeof buf);
        symbolizer_close(s);
    }
    symbolizer_t *s = symbolizer_open(texts[7], strlen(texts[7]));
    CHECK("a deleted file is named, never read",
          symbolize(s, 0x10, buf, sizeof buf) == 0 && strcmp(buf, "0xf (nonexistent path)") == 0);
    symbolizer_close(s);
    s = symbolizer_open(texts[8], strlen(texts[8]));
    CHECK("a device is not read",
          symbolize(s, 0x1010, buf, sizeof buf) == 0 && strcmp(buf, "0x10 (zero)") == 0);
    symbolizer_close(s);
    s = symbolizer_open(NULL, 0);
    CHECK("no text", s != NULL && symbolize(s, 0x1234, buf, sizeof buf) == 0);
    symbolizer_close(s);

    char noise[4096];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof noise; i++) {
            static const char alphabet[] = "0123456789abcdef- \n/:rwxp()deleted";
            noise[i] = round % 2 ? (char)rng() : alphabet[rng() % (sizeof alphabet - 1)];
        }
        s = symbolizer_open(noise, sizeof noise);
        for (int k = 0; s && k < 64; k++)
            symbolize(s, rng() % 0x100000, buf, sizeof buf);
        symbolizer_close(s);
    }
    CHECK("random maps text", 1);
}

/* ---- Copies of the binary ---- */

typedef struct copies {
    char dir[256];
    const char *exe, *maps;
    int have_build_id;
} copies_t;

/* Makes the copies of the binary in a scratch folder; 0 when binutils did it. */
static int make_copies(copies_t *c)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(c->dir, sizeof c->dir, "%s/hk-symbolize.XXXXXX", tmp);
    if (mkdtemp(c->dir) == NULL)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exe='%s' && mkdir 'dir with space' dl dl/.debug root &&"
             " cp \"$exe\" 'dir with space/prog' &&"
             " objcopy --strip-all \"$exe\" stripped &&"
             " objcopy --only-keep-debug \"$exe\" prog.debug &&"
             " cp stripped dl/.debug/prog.debug &&"
             " objcopy --strip-all --remove-section=.note.gnu.build-id"
             "   --add-gnu-debuglink=prog.debug \"$exe\" dl/prog 2>/dev/null &&"
             " mkdir -p \"root$PWD/dl\" && cp prog.debug \"root$PWD/dl/\" &&"
             " id=$(readelf -n \"$exe\" | sed -n 's/.*Build ID: *//p') &&"
             " if [ -n \"$id\" ]; then"
             "   rest=${id#??}; mkdir -p root/.build-id/${id%%\"$rest\"} &&"
             "   cp prog.debug root/.build-id/${id%%\"$rest\"}/$rest.debug; fi",
             c->dir, c->exe);
    if (system(cmd) != 0)
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/root/.build-id", c->dir);
    snprintf(cmd, sizeof cmd, "[ -n \"$(ls '%s')\" ]", path);
    c->have_build_id = system(cmd) == 0;
    return 0;
}

static void remove_copies(const copies_t *c)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", c->dir);
}

/* A symbolizer whose only mappings are this process's mappings of its binary, retargeted
 * at `to`. */
static symbolizer_t *open_retargeted(const copies_t *c, const char *to)
{
    size_t len;
    char *text = retarget(c->maps, c->exe, to, &len);
    symbolizer_t *s = text ? symbolizer_open(text, len) : NULL;
    free(text);
    return s;
}

static void test_space_and_deleted(const copies_t *c)
{
    char path[512], buf[512];
    snprintf(path, sizeof path, "%s/dir with space/prog", c->dir);
    symbolizer_t *s = open_retargeted(c, path);
    REQUIRE("open retargeted", s != NULL);
    CHECK("path with spaces", symbolize(s, addr_of(symtest_public), buf, sizeof buf) == 1 &&
                                  strcmp(buf, "symtest_public (prog)") == 0);
    symbolizer_close(s);

    strcat(path, " (deleted)");
    s = open_retargeted(c, path);
    REQUIRE("open deleted", s != NULL);
    CHECK("deleted: named, not read", symbolize(s, addr_of(symtest_public), buf, sizeof buf) == 0 &&
                                          starts_with(buf, "0x") && strstr(buf, " (prog)") != NULL);
    symbolizer_close(s);
}

static void test_stripped(const copies_t *c)
{
    char path[512], buf[512];
    snprintf(path, sizeof path, "%s/stripped", c->dir);
    symbolizer_t *s = open_retargeted(c, path);
    REQUIRE("open stripped", s != NULL);
    CHECK("stripped: exported function from .dynsym",
          symbolize(s, addr_of(symtest_public) + 1, buf, sizeof buf) == 1 &&
              strcmp(buf, "symtest_public+0x1 (stripped)") == 0);
    int found = symbolize(s, addr_of(local_fn), buf, sizeof buf);
    CHECK("stripped: a static function is an address in the file",
          found == 0 && starts_with(buf, "0x") && strstr(buf, " (stripped)") != NULL);
    symbolizer_close(s);

    elfsym_t *e = elfsym_load(path, NULL);
    REQUIRE("load stripped", e != NULL);
    CHECK("stripped uses .dynsym", elfsym_source(e) == ELFSYM_DYNSYM && elfsym_count(e) > 0);
    CHECK("stripped: S1 S2", elfsym_check(e) == 0);
    elfsym_free(e);
}

/* Loads path with debug files under root and looks up the static function. */
static void check_debug(const copies_t *c, const char *name, const char *file, const char *root,
                        elfsym_source_t want)
{
    char path[512], rootp[512];
    snprintf(path, sizeof path, "%s/%s", c->dir, file);
    snprintf(rootp, sizeof rootp, "%s/%s", c->dir, root);
    elfsym_t *e = elfsym_load(path, rootp);
    REQUIRE(name, e != NULL);
    CHECK(name, elfsym_source(e) == want);
    CHECK(name, elfsym_check(e) == 0);
    uint64_t off, vaddr, delta = 1;
    const char *sym = NULL;
    if (file_offset_of(c->maps, c->exe, addr_of(local_fn), &off) && elfsym_vaddr(e, off, &vaddr))
        sym = elfsym_lookup(e, vaddr, &delta);
    if (want == ELFSYM_DYNSYM)
        CHECK(name, sym == NULL);
    else
        CHECK(name, sym && starts_with(sym, "symtest_local") && delta == 0);
    elfsym_free(e);
}

static void test_debug_files(const copies_t *c)
{
    if (c->have_build_id)
        check_debug(c, "debug file by build id", "stripped", "root", ELFSYM_DEBUG_BUILD_ID);
    else
        printf("the test binary has no build id: skipping the .build-id lookup\n");
    check_debug(c, "debug file by debuglink, CRC checked", "dl/prog", "root", ELFSYM_DEBUG_LINK);
    /* Only dl/.debug/prog.debug is left, and it is the wrong file: its CRC must not match. */
    check_debug(c, "debuglink to a wrong file", "dl/prog", "no-root", ELFSYM_DYNSYM);
}

/* ---- Truncated and corrupted files ---- */

/* Loads the bytes as a file and looks up addresses in it; the test is that this returns. */
static void load_bytes(const copies_t *c, const char *name, const unsigned char *data, size_t len,
                       const char *root)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    if (write_all(path, data, len) != 0)
        return;
    elfsym_t *e = elfsym_load(path, root);
    if (e && elfsym_check(e) != 0)
        CHECK("a damaged file still gives a sound table", 0);
    uint64_t vaddr, delta;
    for (int k = 0; e && k < 64; k++) {
        uint64_t off = k == 0 ? 0x1000 : rng() % (len + 1);
        if (elfsym_vaddr(e, off, &vaddr))
            elfsym_lookup(e, vaddr, &delta);
        elfsym_lookup(e, rng() % 0x100000, &delta);
    }
    elfsym_free(e);
}

/* Flips a few bytes, mostly in the headers and symbol tables, where they matter. */
static void corrupt(unsigned char *d, size_t len, const uint64_t *hot, size_t nhot)
{
    int flips = 1 + (int)(rng() % 8);
    for (int i = 0; i < flips; i++) {
        size_t k = (size_t)(rng() % (nhot / 2 + 1));
        uint64_t at =
            k < nhot / 2 ? hot[2 * k] + rng() % (hot[2 * k + 1] ? hot[2 * k + 1] : 1) : rng() % len;
        if (at < len)
            d[at] = (unsigned char)rng();
    }
}

/* (offset, size) pairs of the ELF header, the program and section header tables, and the
 * symbol and string tables of a trusted file. */
static size_t hot_ranges(const unsigned char *d, size_t len, uint64_t *hot, size_t cap)
{
    Elf64_Ehdr eh;
    size_t n = 0;
    if (len < sizeof eh)
        return 0;
    memcpy(&eh, d, sizeof eh);
    hot[n++] = 0;
    hot[n++] = sizeof eh;
    hot[n++] = eh.e_phoff;
    hot[n++] = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    hot[n++] = eh.e_shoff;
    hot[n++] = (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr);
    for (size_t i = 0; i < eh.e_shnum && n + 2 <= cap; i++) {
        Elf64_Shdr sh;
        if (eh.e_shoff + (i + 1) * sizeof sh > len)
            break;
        memcpy(&sh, d + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_NOTE ||
            sh.sh_type == SHT_STRTAB) {
            hot[n++] = sh.sh_offset;
            hot[n++] = sh.sh_size;
        }
    }
    return n;
}

static void fuzz_file(const copies_t *c, const char *src, const char *name, const char *root,
                      int rounds)
{
    size_t len;
    unsigned char *orig = (unsigned char *)read_all(src, &len);
    unsigned char *copy = orig ? malloc(len + 1) : NULL;
    REQUIRE("read a file to corrupt", copy != NULL && len > 0);
    uint64_t hot[64];
    size_t nhot = hot_ranges(orig, len, hot, 64);
    const size_t cuts[] = {0, 1, 4, 16, 63, 64, 65, 200, 1000, len / 4, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        load_bytes(c, name, orig, cuts[i], root);
    for (size_t i = 0; i + 1 < nhot; i += 2) /* cut inside every table */
        load_bytes(c, name, orig, hot[i] + hot[i + 1] / 2 < len ? hot[i] + hot[i + 1] / 2 : len,
                   root);
    for (int r = 0; r < rounds; r++) {
        memcpy(copy, orig, len);
        corrupt(copy, len, hot, nhot);
        load_bytes(c, name, copy, len, root);
    }
    free(orig);
    free(copy);
    CHECK("truncated and corrupted files do not crash", 1);
}

static void test_fuzz(const copies_t *c)
{
    fuzz_file(c, c->exe, "fuzzed", NULL, 300);
    /* A corrupted debug file, found by the build id of an intact stripped copy. */
    char src[512], root[512];
    snprintf(src, sizeof src, "%s/prog.debug", c->dir);
    snprintf(root, sizeof root, "%s/root", c->dir);
    if (c->have_build_id) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && f=$(ls root/.build-id/*/*.debug) && rm \"$f\" && ln -s "
                 "../../../fuzzed-debug \"$f\" && cp stripped fuzzed-host",
                 c->dir);
        if (system(cmd) == 0) {
            size_t len;
            unsigned char *orig = (unsigned char *)read_all(src, &len);
            uint64_t hot[64];
            size_t nhot = orig ? hot_ranges(orig, len, hot, 64) : 0;
            char host[512], dbg[512];
            snprintf(host, sizeof host, "%s/fuzzed-host", c->dir);
            snprintf(dbg, sizeof dbg, "%s/fuzzed-debug", c->dir);
            for (int r = 0; orig && r < 100; r++) {
                unsigned char *copy = malloc(len);
                if (copy == NULL)
                    break;
                memcpy(copy, orig, len);
                corrupt(copy, len, hot, nhot);
                elfsym_t *e = write_all(dbg, copy, r % 10 ? len : len / 2) == 0
                                  ? elfsym_load(host, root)
                                  : NULL;
                if (e && elfsym_check(e) != 0)
                    CHECK("a damaged debug file still gives a sound table", 0);
                elfsym_free(e);
                free(copy);
            }
            free(orig);
            CHECK("corrupted debug files do not crash", 1);
        }
    }
}

int main(void)
{
    size_t len;
    char *maps = read_all("/proc/self/maps", &len);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (maps == NULL || n <= 0) {
        CHECK("read /proc/self/maps and /proc/self/exe", 0);
        return hk_test_summary();
    }
    exe[n] = '\0';
    printf("random seed 0x%" PRIx64 "\n", rng_state);
    local_fn(3);
    symtest_public(3);

    test_own_process(maps, len);
    test_tables(exe);
    test_garbage();

    copies_t c = {.exe = exe, .maps = maps};
    if (make_copies(&c) == 0) {
        test_space_and_deleted(&c);
        test_stripped(&c);
        test_debug_files(&c);
        test_fuzz(&c);
    } else {
        printf("objcopy/readelf failed or missing: skipping the tests on copies\n");
    }
    if (c.dir[0])
        remove_copies(&c);
    free(maps);
    return hk_test_summary();
}
