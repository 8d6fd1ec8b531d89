#!/bin/sh
# symbols.sh -- the library never calls the system allocator or stdio.
#
# libheapkit.so: its undefined dynamic symbols (nm -D) include no allocation function
# (malloc & co. are defined by the library itself) and nothing from stdio, nor the libc
# functions known to allocate behind the caller's back (strdup, dlsym, atexit, ...);
# its PLT calls (objdump -d) go to none of them either; and it does define the standard
# allocator names. libheapkit.a: the same for the symbols its members leave undefined.
# Usage: symbols.sh build/libheapkit.so build/libheapkit.a
so=$1
ar=$2
. "$(dirname "$0")/../lib.sh"

# the system allocator (glibc's names and its internal entry points)
alloc='malloc calloc realloc free reallocarray posix_memalign aligned_alloc memalign valloc
pvalloc malloc_usable_size malloc_trim mallinfo mallinfo2 __libc_malloc __libc_calloc
__libc_realloc __libc_free __libc_memalign __libc_valloc __libc_pvalloc'
# stdio
stdio='printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf dprintf vdprintf
__printf_chk __fprintf_chk __sprintf_chk __snprintf_chk __vprintf_chk __vfprintf_chk
__vsprintf_chk __vsnprintf_chk __dprintf_chk puts fputs fputc putc putchar fwrite fread
fopen fopen64 fdopen freopen fclose fflush setvbuf setbuf fgets getc fgetc perror stdout
stderr stdin _IO_putc _IO_puts fileno open_memstream fmemopen'
# libc functions that allocate with the system malloc (or may)
hidden='strdup strndup __strdup asprintf vasprintf __asprintf_chk __vasprintf_chk getline
getdelim dlsym dlvsym dlopen dlerror atexit on_exit __cxa_atexit qsort qsort_r setlocale
newlocale opendir scandir realpath canonicalize_file_name tmpfile popen getpwnam getpwuid
backtrace backtrace_symbols strerror'
forbidden="$alloc $stdio $hidden"

# undefined symbols of the shared library, without version suffixes
if ! nm -D --undefined-only "$so" > "$tmp/und" 2>"$tmp/err"; then
    fail "nm -D $so failed: $(cat "$tmp/err")"
    finish
    exit 1
fi
awk '{ print $NF }' "$tmp/und" | sed 's/@.*//' | sort -u > "$tmp/und.names"
nm -D --defined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' | sort -u > "$tmp/def.names"
objdump -d "$so" | sed -n 's/.*call.*<\([^@>+]*\)@plt>.*/\1/p' | sort -u > "$tmp/plt.names"
echo "libheapkit.so imports: $(tr '\n' ' ' < "$tmp/und.names")"

for s in $forbidden; do
    if grep -qx "$s" "$tmp/und.names"; then
        fail "libheapkit.so imports $s"
    else
        pass
    fi
    if grep -qx "$s" "$tmp/plt.names"; then
        fail "libheapkit.so calls $s through its PLT (not bound to its own definition)"
    fi
done
[ -s "$tmp/und.names" ] && pass || fail "no undefined symbols at all? (nm output empty)"

# the standard names are defined by the library itself
for s in malloc calloc realloc free reallocarray posix_memalign aligned_alloc memalign valloc \
    pvalloc malloc_usable_size malloc_trim mallinfo2; do
    if grep -qx "$s" "$tmp/def.names"; then pass; else fail "libheapkit.so does not define $s"; fi
done

# malloc, calloc, realloc and free are their hk_* functions, not forwards to them (a
# forward is a jump more per call: src/config.h HK_OVERRIDE_ALIASES)
nm -D --defined-only "$so" | awk '{ print $1, $NF }' > "$tmp/def.addr"
for s in malloc calloc realloc free; do
    a=$(awk -v n="$s" '$2 == n { print $1 }' "$tmp/def.addr")
    b=$(awk -v n="hk_$s" '$2 == n { print $1 }' "$tmp/def.addr")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then pass; else fail "$s is not an alias of hk_$s ($a, $b)"; fi
done

# the archive: symbols undefined in some member and defined in none (malloc & co. are
# defined by its members, so the core's own calls to them would not show here: they
# would recurse into the library, not reach glibc)
if nm "$ar" > "$tmp/ar" 2>"$tmp/err"; then
    awk '$1 == "U" { print $2 }' "$tmp/ar" | sort -u > "$tmp/ar.und"
    awk 'NF == 3 && $2 ~ /^[TtDdBbRrWVC]$/ { print $3 }' "$tmp/ar" | sort -u > "$tmp/ar.def"
    comm -23 "$tmp/ar.und" "$tmp/ar.def" > "$tmp/ar.ext"
    echo "libheapkit.a imports: $(tr '\n' ' ' < "$tmp/ar.ext")"
    n=0
    for s in $forbidden; do
        if grep -qx "$s" "$tmp/ar.ext"; then
            fail "libheapkit.a imports $s"
            n=$((n + 1))
        fi
    done
    [ "$n" -eq 0 ] && pass
    for s in malloc free calloc realloc; do
        if grep -qx "$s" "$tmp/ar.def"; then pass; else fail "libheapkit.a does not define $s"; fi
    done
else
    fail "nm $ar failed: $(cat "$tmp/err")"
fi
finish
