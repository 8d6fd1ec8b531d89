#!/bin/sh
# test_hygiene.sh -- the STYLE hygiene rules (STYLE.md sections 0, 3, 6, 9, 10), checked:
#
#   1. OS primitives only in the OS layers: no <sys/mman.h>, mmap/munmap/madvise/mremap,
#      getenv or __linux__ in src/ outside src/os/; no mapping calls in lab/ outside lab/mem.c.
#   2. The allocator never uses stdio or the system malloc: no <stdio.h> and no printf-family
#      or puts calls in src/, and no object of src/ (compiled as the library is) refers to
#      malloc, free, ..., printf, stdout, ... (the library has its own formatter, output.c).
#   3. Headers are hermetic: each header of include/, src/, src/os/, lab/ and tools/
#      compiles alone, with the project's warnings, under cc (and clang when installed).
#   4. include/heapkit.h includes only <stddef.h> and compiles as C++.
#   5. No placeholder is left: no file includes "stub.h", and every policy that
#      `heapkit policies` lists has a description that is not "not yet implemented".
#   6. Every lab policy file (one that defines a lab_policy_t) names a check function
#      that exists, and its top comment states the invariants.
#
# Code is searched with comments removed, so prose that names mmap() is fine.
# Offenders are printed under the failing check.
#
#   sh tests/tools/test_hygiene.sh [HEAPKIT]      (default: $HEAPKIT, else build/heapkit)
#
# Run from the top of the tree. Ends with the line "N passed, N failed"; exits non-zero
# if anything failed.
hk=${1:-${HEAPKIT:-build/heapkit}}
CC=${CC:-cc}
. "$(dirname "$0")/../lib.sh"


# The project's warnings (Makefile WARN) plus what the library adds for its own objects.
WARN="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes
      -Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wcast-align -Wundef -Wvla
      -Wwrite-strings -Wformat=2 -Wimplicit-fallthrough -Wdouble-promotion"
LIB_FLAGS="-O2 -fPIC -fvisibility=hidden -ftls-model=initial-exec -pthread
           -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free"

# code FILE...: prints "file:line: text" for every line, with comments blanked out
# (string and character literals are kept, so a "/*" inside a string is not a comment).
code() {
    awk '
    FNR == 1 { incom = 0 }
    {
        s = $0; n = length(s); out = ""; instr = 0
        for (i = 1; i <= n; i++) {
            c = substr(s, i, 1); d = substr(s, i, 2)
            if (incom) { if (d == "*/") { incom = 0; i++ } continue }
            if (instr) {
                if (c == "\\") { out = out d; i++; continue }
                if (c == q) instr = 0
                out = out c; continue
            }
            if (d == "/*") { incom = 1; out = out " "; i++; continue }
            if (d == "//") break
            if (c == "\"" || c == "\047") { instr = 1; q = c }
            out = out c
        }
        print FILENAME ":" FNR ": " out
    }' "$@"
}

# no_match NAME REGEX FILE...: passes when no code line of the files matches REGEX.
no_match() {
    name=$1 re=$2
    shift 2
    if [ $# -eq 0 ]; then
        fail "$name: no files to search"
        return
    fi
    code "$@" | grep -E -- "$re" >"$tmp/hits"
    if [ -s "$tmp/hits" ]; then
        fail "$name"
        sed 's/^/    /' "$tmp/hits"
    else
        pass
    fi
}

# Calls are names not preceded by an identifier character (so hki_os_mmap( is fine).
call() { echo "(^|[^A-Za-z0-9_])($1)[[:space:]]*\\("; }

# ---- 1. OS primitives only in the OS layers ----

src_files=$(find src -name '*.[ch]' ! -path 'src/os/*' | sort)
# shellcheck disable=SC2086
no_match "OS primitives in src/ outside src/os/" \
    "sys/mman\\.h|__linux__|$(call 'mmap|munmap|madvise|mremap|getenv|secure_getenv')" \
    $src_files

lab_files=$(find lab -name '*.[ch]' ! -path lab/mem.c | sort)
# shellcheck disable=SC2086
no_match "mapping calls in lab/ outside lab/mem.c" \
    "sys/mman\\.h|$(call 'mmap|munmap|madvise|mremap')" $lab_files

# ---- 2. No stdio, no system malloc in the allocator ----

all_src=$(find src -name '*.[ch]' | sort)
# shellcheck disable=SC2086
no_match "<stdio.h> included in src/" '#[[:space:]]*include[[:space:]]*<stdio\.h>' $all_src
stdio='printf|fprintf|sprintf|snprintf|vprintf|vfprintf|vsprintf|vsnprintf|dprintf'
stdio="$stdio|puts|fputs|putchar|fputc|fwrite|fflush|fopen|perror"
# shellcheck disable=SC2086
no_match "stdio calls in src/" "$(call "$stdio")" $all_src

# What the compiler really emits: an undefined reference is a call into libc.
libc_syms="malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc"
libc_syms="$libc_syms|strdup|strndup|$stdio|stdout|stderr|__[a-z]*printf_chk"
if command -v nm >/dev/null 2>&1; then
    for c in $(find src -name '*.c' | sort); do
        o="$tmp/$(echo "$c" | tr / _).o"
        secure="" # secure.c is built only into libheapkit-secure.so (src/src.mk)
        [ "$c" = src/secure.c ] && secure=-DHK_SECURE=1
        # shellcheck disable=SC2086
        if ! $CC $WARN $LIB_FLAGS $secure -Iinclude -Isrc -c "$c" -o "$o" 2>"$tmp/err"; then
            fail "$c does not compile as the library does"
            sed 's/^/    /' "$tmp/err" | head -n 5
            continue
        fi
        nm -u "$o" | awk '{print $NF}' | sed 's/@.*//' | grep -Ex "$libc_syms" >"$tmp/syms"
        if [ -s "$tmp/syms" ]; then
            fail "$c refers to libc's malloc or stdio: $(tr '\n' ' ' <"$tmp/syms")"
        else
            pass
        fi
    done
else
    echo "nm not installed: skipping the symbol check of src/"
fi

# ---- 3. Headers are hermetic ----

# header_compiles COMPILER HEADER -I...: a file that only includes HEADER must compile.
# The typedef after the include keeps a header of macros alone (config.h) from leaving an
# empty translation unit, which -Wpedantic rejects; it does not help a header compile.
header_compiles() {
    cc_=$1 h=$2
    shift 2
    flags=""
    # static (inline) helpers in a header are not "unused" in the file that includes it
    grep -q '^static' "$h" && flags="-Wno-unused-function"
    printf '#include "%s"\ntypedef int hk_hygiene_unit;\n' "$PWD/$h" >"$tmp/hdr.c"
    # shellcheck disable=SC2086
    if $cc_ $WARN $flags "$@" -fsyntax-only "$tmp/hdr.c" 2>"$tmp/err"; then
        pass
    else
        fail "$h does not compile alone under $cc_"
        sed 's/^/    /' "$tmp/err" | head -n 8
    fi
}

compilers=$CC
command -v clang >/dev/null 2>&1 && [ "$CC" != clang ] && compilers="$compilers clang"
for cc_ in $compilers; do
    for h in include/*.h; do header_compiles "$cc_" "$h" -Iinclude; done
    for h in src/*.h src/os/*.h; do
        [ -e "$h" ] && header_compiles "$cc_" "$h" -Iinclude -Isrc
    done
    for h in lab/*.h; do header_compiles "$cc_" "$h" -Ilab; done
    for h in tools/*.h; do header_compiles "$cc_" "$h" -Itools -Ilab; done
done

# ---- 4. The public header ----

if [ -f include/heapkit.h ]; then
    code include/heapkit.h | grep -E '#[[:space:]]*include' | grep -v '<stddef\.h>' >"$tmp/hits"
    if [ -s "$tmp/hits" ]; then
        fail "include/heapkit.h includes more than <stddef.h>"
        sed 's/^/    /' "$tmp/hits"
    else
        pass
    fi
    if command -v g++ >/dev/null 2>&1; then
        if g++ -fsyntax-only -x c++ -Wall -Wextra -Werror -Wpedantic include/heapkit.h \
            2>"$tmp/err"; then
            pass
        else
            fail "include/heapkit.h does not compile as C++"
            sed 's/^/    /' "$tmp/err" | head -n 8
        fi
    else
        echo "g++ not installed: skipping the C++ check of include/heapkit.h"
    fi
else
    fail "include/heapkit.h is missing"
fi

# ---- 5. No placeholder left ----

stub_files=$(find src lab tools tests include bench -name '*.[ch]' 2>/dev/null | sort)
# shellcheck disable=SC2086
no_match 'a file includes "stub.h"' '#[[:space:]]*include[[:space:]]*["<]([^">]*/)?stub\.h[">]' \
    $stub_files

if [ -x "$hk" ]; then
    if "$hk" policies >"$tmp/policies" 2>"$tmp/err" && [ -s "$tmp/policies" ]; then
        while read -r name desc; do
            case $desc in
            "") fail "policy $name has no description" ;;
            *[Nn]ot\ yet\ implemented*) fail "policy $name is a placeholder: $desc" ;;
            *) pass ;;
            esac
        done <"$tmp/policies"
    else
        fail "$hk policies: no list"
        sed 's/^/    /' "$tmp/err" | head -n 5
    fi
else
    fail "$hk not found: build it first (make)"
fi

# ---- 6. Every lab policy has a checker and states its invariants ----

# shellcheck disable=SC2013 # file names have no spaces
for f in $(grep -lE '^const lab_policy_t lab_policy_[A-Za-z0-9_]+[[:space:]]*=' lab/*.c); do
    fn=$(code "$f" | sed -nE 's/.*\.check[[:space:]]*=[[:space:]]*([A-Za-z_][A-Za-z0-9_]*).*/\1/p' |
        sort -u)
    defined=""
    for g in $fn; do
        [ "$g" = NULL ] && continue
        grep -qE "^(static )?int $g\\(" lab/*.c && defined="$defined $g"
    done
    if [ -n "$defined" ] && [ "$(echo "$fn" | grep -c '^NULL$')" -eq 0 ]; then
        pass
    else
        fail "$f: no check function (.check = ${fn:-nothing})"
    fi
    # the top comment: line 1 opens it, the first "*/" closes it
    if sed -n '1{/^\/\*/!q;};p;/\*\//q' "$f" | grep -qi 'invariant'; then
        pass
    else
        fail "$f: the top comment does not state the invariants"
    fi
done

finish
