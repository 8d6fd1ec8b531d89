#!/bin/sh
# test_install.sh -- `make install PREFIX=...` into a scratch prefix, then use what it
# installed as a user would: the heapkit command (and `heapkit record` with the installed
# recorder), the header, the pkg-config file, and both libraries (a program linked with
# -lheapkit, and one linked statically).
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/../lib.sh"
ok() { pass; echo "ok   $1"; }
expect() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

sh "$here/scripts/deps.sh" pkg-config >/dev/null || exit 1
prefix="$tmp/prefix"
if make -C "$here" --no-print-directory install PREFIX="$prefix" >"$tmp/install.log" 2>&1; then
    ok "make install PREFIX=..."
else
    fail "make install PREFIX=..."
    tail -5 "$tmp/install.log"
fi
expect "heapkit command installed and runs" "'$prefix/bin/heapkit' policies | grep -q '^hkfit'"
expect "header installed" "[ -f '$prefix/include/heapkit.h' ]"
expect "shared and static libraries installed" \
    "[ -f '$prefix/lib/libheapkit.so' ] && [ -f '$prefix/lib/libheapkit.a' ]"
expect "the recorder library installed" "[ -f '$prefix/lib/heapkit/libheapkit-record.so' ]"
# the installed command finds the installed recorder (not the build tree's)
rm -f "$tmp/ls.hkt"
expect "installed heapkit record works" \
    "(cd '$tmp' && '$prefix/bin/heapkit' record -q -o ls.hkt -- ls / >/dev/null) && '$prefix/bin/heapkit' replay --policy hkfit --repeat 0 '$tmp/ls.hkt' | grep -q ' ok$'"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
expect "pkg-config knows heapkit" "pkg-config --exists heapkit"

cat >"$tmp/app.c" <<'C'
#include <heapkit.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    char *p = hk_malloc(100);
    if (!p)
        return 1;
    strcpy(p, "installed heapkit works");
    p = hk_realloc(p, 5000);
    puts(p);
    hk_free(p);
    return hk_usable_size(NULL) != 0;
}
C
if cc -o "$tmp/app" "$tmp/app.c" $(pkg-config --cflags --libs heapkit) 2>"$tmp/cc.log"; then
    ok "a program builds with pkg-config --cflags --libs heapkit"
else
    fail "a program builds with pkg-config --cflags --libs heapkit"
    head -5 "$tmp/cc.log"
fi
expect "it runs against the installed libheapkit.so" \
    "LD_LIBRARY_PATH='$prefix/lib' '$tmp/app' | grep -q 'installed heapkit works'"
if cc -static -o "$tmp/app-static" "$tmp/app.c" $(pkg-config --cflags heapkit) \
    "$prefix/lib/libheapkit.a" -pthread 2>"$tmp/cc-static.log"; then
    expect "a statically linked program runs" "'$tmp/app-static' | grep -q 'installed heapkit works'"
else
    fail "static link against libheapkit.a"
    head -5 "$tmp/cc-static.log"
fi
finish
