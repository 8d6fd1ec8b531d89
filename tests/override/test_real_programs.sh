#!/bin/sh
# test_real_programs.sh LIB -- real programs from Debian run with LD_PRELOAD=LIB, their
# output compared with a run on the system allocator. Each program is chosen to allocate
# hard: python3 (PYTHONMALLOC=malloc, so every object goes through malloc), sqlite3,
# perl hashes, gcc on a generated C file, and a multithreaded program (xz -T2 and
# sort --parallel). Missing programs are installed with apt-get (scripts/deps.sh).
# HEAPKIT_ON_ERROR is left at its default (abort), so a detected heap error fails the test.
lib=$(readlink -f "${1:-build/libheapkit.so}")
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$lib" ] || { echo "no library at $lib"; echo "0 passed, 1 failed"; exit 1; }
sh "$here/scripts/deps.sh" python3 sqlite3 perl gcc xz-utils coreutils || exit 1
. "$(dirname "$0")/../lib.sh"

# same NAME CMD...: runs CMD plain and preloaded (tests/lib.sh same_preloaded); that the
# preloaded run really used heapkit is checked once below.
same() { same_preloaded "$lib" "$@"; }

# Did the preloaded library really serve malloc? Its symbol must win the lookup.
cat >"$tmp/who.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (!m || !dladdr(m, &info))
        return 1;
    printf("%s\n", info.dli_fname);
    return 0;
}
C
gcc -o "$tmp/who" "$tmp/who.c" -ldl
if LD_PRELOAD="$lib" "$tmp/who" | grep -q libheapkit; then
    pass; echo "ok   malloc resolves to libheapkit"
else
    fail "malloc does not resolve to libheapkit"
fi

cat >"$tmp/alloc.py" <<'PY'
import collections, json, random
random.seed(1)
d = {}
for i in range(200000):
    d[str(i) * (i % 7 + 1)] = [i] * (i % 13)
    if i % 3 == 0:
        d.pop(str(i // 2) * ((i // 2) % 7 + 1), None)
words = collections.Counter(random.choice("abcdefgh") * random.randint(1, 40) for _ in range(100000))
text = json.dumps({k: v for k, v in list(d.items())[:5000]})
print(len(d), sum(len(v) for v in d.values()), len(json.loads(text)), words.most_common(3))
PY
same "python3 (PYTHONMALLOC=malloc)" env PYTHONMALLOC=malloc /usr/bin/python3 "$tmp/alloc.py"

cat >"$tmp/work.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, printf('name-%d-%s', x, hex(randomblob(8 * (x % 5))) ), x * 0.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(length(name)), max(v) FROM t;
SELECT length(name) AS k, count(*) FROM t GROUP BY k ORDER BY k LIMIT 5;
DELETE FROM t WHERE id % 3 = 0;
VACUUM;
SELECT count(*) FROM t;
SQL
# randomblob differs per run, so the queries look only at lengths and counts
same "sqlite3 scripted workload" sh -c "sqlite3 :memory: < '$tmp/work.sql'"

cat >"$tmp/hash.pl" <<'PL'
my %h;
for my $i (1 .. 300000) { $h{"key$i"} = [ $i, "v" x ($i % 50) ]; delete $h{"key" . ($i / 2)} if $i % 4 == 0; }
my $n = 0; $n += scalar @{ $h{$_} } for keys %h;
my @top = (sort { $a cmp $b } keys %h)[0 .. 4];
print scalar(keys %h), " $n @top\n";
PL
same "perl hash-heavy script" perl "$tmp/hash.pl"

python3 - "$tmp/gen.c" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("#include <stdio.h>\n")
    for i in range(3000):
        f.write(f"static int f{i}(int x) {{ int a[{i % 17 + 1}] = {{0}}; a[0] = x * {i}; return a[0] + {i} + (x > {i} ? f{max(i - 1, 0)}(x - 1) : 0); }}\n")
    f.write("int main(void) { long s = 0;\n")
    for i in range(0, 3000, 7):
        f.write(f"  s += f{i}({i % 11});\n")
    f.write('  printf("%ld\\n", s); return 0; }\n')
PY
same "gcc -O2 compiling a generated C file" sh -c "gcc -O2 -w -o '$tmp/gen' '$tmp/gen.c' && '$tmp/gen'"

seq 1 400000 | awk '{ print ($1 * 7919) % 100003, $1 }' >"$tmp/nums.txt"
same "multithreaded: xz -T2" sh -c "xz -T2 -3 -c '$tmp/nums.txt' | xz -dc | md5sum"
same "multithreaded: sort --parallel=2" sh -c "sort --parallel=2 -S 8M -n '$tmp/nums.txt' | md5sum"

finish
