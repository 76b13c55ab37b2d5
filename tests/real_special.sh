#!/usr/bin/env bash
# Real programs under the special pool (issue 12 item 6): sqlite3, python3
# and git, each with one of its modules' allocations in guard pages
# (`pooltag run --special module:GLOB`), run their workloads with output
# identical to a plain run, exit 0, and print nothing from pooltag; and in
# the middle of each, `pooltag special PID --json` (from sqlite3's .shell,
# python3's subprocess, git's external diff driver) shows that blocks really were placed
# in the pool (allocs > 0) and no report was written.
# shellcheck source=tests/real_trace_lib.sh
. "$(dirname "$0")/real_trace_lib.sh"
need_preload
need_trace
timeout 20 "$POOLTAG" run -- /bin/true >/dev/null 2>&1 ||
    skip "'pooltag run -- /bin/true' does not work yet"

# mid.json -> "allocs reports blocks_live" of the pool
pool_counts() {
    "$PY" - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["pool"]
print(p["allocs"], d["reports"], p["blocks_live"])
EOF
}

# check NAME: compares $T/NAME.plain.out with $T/NAME.pt.out, the status
# files, stderr, and the mid-run reading $T/NAME.mid.json
check() {
    local name=$1 what=$2
    local prc; prc=$(cat "$T/$name.plain.rc")
    local rc; rc=$(cat "$T/$name.pt.rc")
    if [ "$prc" = 0 ] && [ "$rc" = 0 ]; then
        ok "$name: $what: status 0 plain and under the special pool"
    else
        bad "$name: status $prc plain, $rc under the special pool: $(head -c 400 "$T/$name.pt.err")"
    fi
    if [ -s "$T/$name.plain.out" ] && cmp -s "$T/$name.plain.out" "$T/$name.pt.out"; then
        ok "$name: output identical to the plain run ($(wc -l <"$T/$name.pt.out") lines)"
    else
        bad "$name: output differs: $(diff "$T/$name.plain.out" "$T/$name.pt.out" 2>&1 | head -5)"
    fi
    if grep -q 'pooltag' "$T/$name.pt.err"; then
        bad "$name: pooltag wrote on stderr: $(grep pooltag "$T/$name.pt.err" | head -3)"
    else
        ok "$name: nothing from pooltag on stderr"
    fi
    local c
    if ! c=$(pool_counts "$T/$name.mid.json" 2>/dev/null); then
        bad "$name: pooltag special PID --json (mid-run) gave no reading: $(head -c 300 "$T/$name.mid.err" 2>/dev/null)"
        return
    fi
    read -r allocs reports live <<<"$c"
    if [ "$allocs" -gt 0 ] && [ "$reports" = 0 ]; then
        ok "$name: mid-run, $allocs blocks placed in the special pool ($live live), no report"
    else
        bad "$name: mid-run, special pool allocs $allocs (want > 0), reports $reports (want 0)"
    fi
}

# --- sqlite3, libsqlite3's allocations ----------------------------------
cat >"$T/sq.sql" <<'EOF'
.bail on
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val REAL, payload BLOB);
CREATE INDEX t_name ON t(name);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO t SELECT i, printf('name-%06d', (i * 7919) % 100003), i / 7.0,
       CASE WHEN i % 3 = 0 THEN zeroblob(i % 900) ELSE hex(i * 31337) END FROM n;
.shell sh -c 'test -n "$PT_MID" && "$POOLTAG" special "$PPID" --json >"$PT_MID" 2>"$PT_MID.err"; true'
UPDATE t SET val = val * 3 WHERE id % 7 = 0;
DELETE FROM t WHERE id % 11 = 0;
SELECT count(*), sum(length(payload)), round(total(val), 3) FROM t;
SELECT name, val FROM t ORDER BY name LIMIT 5;
PRAGMA integrity_check;
EOF
if command -v sqlite3 >/dev/null; then
    for m in plain pt; do
        rm -f "$T/sq.$m.db"
        rc=0
        if [ "$m" = plain ]; then
            timeout -k 5 300 sqlite3 -init /dev/null -batch "$T/sq.$m.db" <"$T/sq.sql" \
                >"$T/sqlite.$m.out" 2>"$T/sqlite.$m.err" || rc=$?
        else
            PT_MID="$T/sqlite.mid.json" POOLTAG="$POOLTAG" timeout -k 5 300 "$POOLTAG" run \
                --special 'module:libsqlite3*' --max-pages 65536 -- \
                sqlite3 -init /dev/null -batch "$T/sq.$m.db" <"$T/sq.sql" \
                >"$T/sqlite.$m.out" 2>"$T/sqlite.$m.err" || rc=$?
        fi
        echo "$rc" >"$T/sqlite.$m.rc"
    done
    check sqlite "sqlite3 with libsqlite3's blocks in guard pages"
else
    note "sqlite3 not installed: its part skipped"
fi

# --- python3, the interpreter's allocations --------------------------------
cat >"$T/py.py" <<'EOF'
import json, os, subprocess, sys
d = {}
for i in range(20000):
    d["k%d" % i] = [i, str(i) * (i % 7), {"x": i % 13}]
s = json.dumps(d, sort_keys=True)
back = json.loads(s)
words = sorted(set(s.split('"')))[:20]
mid = os.environ.get("PT_MID")
if mid:
    with open(mid, "w") as f, open(mid + ".err", "w") as e:
        subprocess.run([os.environ["POOLTAG"], "special", str(os.getpid()), "--json"],
                       stdout=f, stderr=e)
print(len(s), len(back), sum(v[0] for v in back.values()))
print(words)
EOF
for m in plain pt; do
    rc=0
    if [ "$m" = plain ]; then
        timeout -k 5 300 "$PY" "$T/py.py" >"$T/python.$m.out" 2>"$T/python.$m.err" || rc=$?
    else
        PT_MID="$T/python.mid.json" POOLTAG="$POOLTAG" timeout -k 5 300 "$POOLTAG" run \
            --special 'module:python3*' --max-pages 65536 -- "$PY" "$T/py.py" \
            >"$T/python.$m.out" 2>"$T/python.$m.err" || rc=$?
    fi
    echo "$rc" >"$T/python.$m.rc"
done
check python "python3 with the interpreter's blocks in guard pages"

# --- git, its own allocations ---------------------------------------------
if command -v git >/dev/null; then
    repo="$T/repo"
    mkdir -p "$repo"
    (
        cd "$repo" || exit 1
        git init -q . && git config user.email t@example.org && git config user.name t
        for i in $(seq 1 30); do
            seq "$i" $((i * 40)) >"f$((i % 7)).txt"
            git add -A && git commit -q -m "change $i"
        done
    ) >/dev/null 2>&1 || bad "git: could not make the test repository"
    for m in plain pt; do
        rc=0
        # An external diff driver, which git runs for every file of every
        # commit and waits for: $PPID in it is git (the first call reads
        # the pool; temporary file names left out of its output).
        xd="$T/xdiff.sh"
        printf '%s\n' '#!/bin/sh' \
            'if [ -n "$PT_MID" ] && [ ! -e "$PT_MID" ]; then "$POOLTAG" special "$PPID" --json >"$PT_MID" 2>"$PT_MID.err"; fi' \
            'echo "== $1"' 'diff -u "$2" "$5" | tail -n +3' 'exit 0' >"$xd"
        chmod +x "$xd"
        if [ "$m" = plain ]; then
            (cd "$repo" && GIT_EXTERNAL_DIFF="$xd" timeout -k 5 300 git log -p --ext-diff --stat) \
                >"$T/git.$m.out" 2>"$T/git.$m.err" || rc=$?
        else
            (cd "$repo" && GIT_EXTERNAL_DIFF="$xd" PT_MID="$T/git.mid.json" POOLTAG="$POOLTAG" \
                timeout -k 5 300 "$POOLTAG" run --special module:git --max-pages 65536 -- \
                git log -p --ext-diff --stat) >"$T/git.$m.out" 2>"$T/git.$m.err" || rc=$?
        fi
        echo "$rc" >"$T/git.$m.rc"
    done
    check git "git log -p (an external diff driver) with git's blocks in guard pages"
else
    note "git not installed: its part skipped"
fi
finish
