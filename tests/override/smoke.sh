#!/bin/sh
# smoke.sh -- LD_PRELOAD smoke test: real programs give the same output with and without
# libheapkit. Usage: smoke.sh /abs/path/libheapkit.so
lib=$1
. "$(dirname "$0")/../lib.sh"
seq 1 20000 | awk '{ print ($1 * 7919) % 10007, $1 }' > "$tmp/input"
same() { same_preloaded "$lib" "$@"; }
same ls ls -la /usr/bin
same sort sort -n "$tmp/input"
same sort-parallel sort --parallel=4 -S 10M -k2,2 "$tmp/input"
same sh sh -c 'for i in 1 2 3; do echo $i; done | tr 1 x; x=$(echo abc | rev); echo $x'
same awk awk '{ a[$1] += $2 } END { n = 0; for (k in a) n += a[k]; print n }' "$tmp/input"
same grep grep -c 7 "$tmp/input"
if command -v python3 >/dev/null 2>&1; then
    same python3 python3 -c 'import json, threading
d = {str(i): [i] * (i % 50) for i in range(20000)}
s = json.dumps(d); print(len(s), len(json.loads(s)))
out = []
def work(k): out.append(sum(len(str(x)) for x in range(k * 10000)))
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(out))'
fi
if command -v c++ >/dev/null 2>&1; then
    cat > "$tmp/t.cc" <<'CC'
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>
int main() {
    std::map<std::string, std::vector<int>> m;
    for (int i = 0; i < 20000; i++) m[std::to_string(i % 997)].push_back(i);
    auto p = std::make_unique<long[]>(1 << 20);
    p[12345] = 7;
    size_t n = 0;
    for (auto &kv : m) n += kv.second.size();
    std::cout << n << " " << p[12345] << std::endl;
}
CC
    if c++ -O1 -o "$tmp/t" "$tmp/t.cc" 2>/dev/null; then
        same c++new "$tmp/t"
    fi
fi
# statistics at exit go to stderr and do not disturb the program
HEAPKIT_STATS=1 LD_PRELOAD="$lib" sort -n "$tmp/input" 2>"$tmp/err" >/dev/null
if grep -q 'heapkit: statistics' "$tmp/err" && grep -q 'peak committed' "$tmp/err"; then
    pass
else
    fail "HEAPKIT_STATS=1 printed no statistics"
fi
rm -rf "$tmp"
finish
