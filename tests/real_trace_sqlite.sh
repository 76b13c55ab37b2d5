#!/usr/bin/env bash
# `pooltag run --verify 'libsqlite3*' --fail-on-leak -- sqlite3 DB <
# workload.sql` (issue 11 item 5, real programs): pool tracking of the
# SQLite library inside Debian's sqlite3 shell.
#
# In the middle of the workload (20,000 rows inserted in an open
# transaction, indexes, the page cache full) the script runs `.shell`,
# which blocks sqlite3 in system() while `pooltag verify PID --stacks
# --json` reads it live and `pooltag snap` takes a snapshot of it.  Then:
#   - libsqlite3 is verified, with allocations counted;
#   - it has outstanding blocks (at least 50), each with a caller in
#     libsqlite3 and a stack, and stacks reach sqlite's API (sqlite3_step,
#     sqlite3_exec, sqlite3_prepare*, sqlite3_open*);
#   - no block whose caller is outside libsqlite3 (the shell's own module,
#     libc ... are not verified);
#   - `pooltag verify SNAPSHOT` lists the same blocks (sqlite3 did not run
#     between the two readings);
# and at sqlite3's clean exit (it frees every block: see real_sqlite.sh)
# no leak is reported and --fail-on-leak leaves the status 0.  The query
# results are those of a plain run.  The control: the same workload ended
# by `.exit 3` (the shell calls exit(3) with the database still open) must
# be reported as libsqlite3 leaking at exit, and --fail-on-leak must make
# the status 1.
# shellcheck source=tests/real_trace_lib.sh
. "$(dirname "$0")/real_trace_lib.sh"
need_preload
need_cmd sqlite3
need_trace
timeout 20 "$POOLTAG" run -- /bin/true >/dev/null 2>&1 ||
    skip "'pooltag run -- /bin/true' does not work yet"

cat >"$T/mid.sh" <<EOF
# mid.sh PID: run by sqlite3's .shell while sqlite3 waits for it.
"$POOLTAG" verify "\$1" --stacks --json >mid.json 2>mid.err
echo \$? >mid.rc
"$POOLTAG" snap -o mid.ptsnap "\$1" >snap.out 2>&1
echo \$? >snap.rc
EOF
cat >"$T/workload.sql" <<'EOF'
.bail on
.output result.txt
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT UNIQUE NOT NULL);
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL REFERENCES grp(id),
                  name TEXT NOT NULL, val REAL, payload BLOB);
CREATE INDEX item_grp ON item(grp);
CREATE INDEX item_name ON item(name);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO grp SELECT i, printf('group-%04d', (i * 7) % 1000) FROM n;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO item(id, grp, name, val, payload)
SELECT i, (i * 7919) % 200 + 1, printf('name-%08d', (i * 104729) % 1000003),
       (i % 1000) / 7.0, CASE WHEN i % 5 = 0 THEN zeroblob(i % 700) ELSE hex(i * 31337) END
FROM n;
SELECT count(*), sum(grp) FROM item;
.shell sh mid.sh $PPID
COMMIT;
UPDATE item SET val = val * 2 WHERE id % 10 = 0;
DELETE FROM item WHERE id % 97 = 0;
SELECT count(*), sum(grp), total(val), sum(length(payload)) FROM item;
SELECT g.label, count(*), round(avg(i.val), 6) FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.label ORDER BY count(*) DESC, g.label LIMIT 10;
PRAGMA integrity_check;
EOF

for mode in plain pt; do
    mkdir -p "$T/$mode"
    cp "$T/workload.sql" "$T/mid.sh" "$T/$mode/"
done
# plain: the same workload without pooltag (its .shell finds no segment).
(cd "$T/plain" && RUN_STDIN=workload.sql run_mode plain sqlite_plain 300 \
    sqlite3 -init /dev/null -batch test.db; echo "$RUN_RC" >"$T/plain.rc")
[ "$(cat "$T/plain.rc")" = 0 ] || bad "plain sqlite3 exited $(cat "$T/plain.rc"): $(head -c 300 "$T/sqlite_plain.err")"

rc=0
(cd "$T/pt" && timeout -k 10 300 "$POOLTAG" run --verify 'libsqlite3*' --fail-on-leak -- \
    sqlite3 -init /dev/null -batch test.db <workload.sql >"$T/pt.out" 2>"$T/pt.err") || rc=$?
if [ "$rc" = 0 ]; then
    ok "pooltag run --verify 'libsqlite3*' --fail-on-leak -- sqlite3: status 0"
else
    bad "pooltag run --verify 'libsqlite3*' --fail-on-leak -- sqlite3: status $rc: $(head -c 600 "$T/pt.err")"
fi
if grep -qiE 'leak|outstanding' "$T/pt.err"; then
    bad "a leak was reported at sqlite3's clean exit: $(grep -iE 'leak|outstanding' "$T/pt.err" | head -5)"
else
    ok "no leak reported at sqlite3's clean exit"
fi
if [ -s "$T/plain/result.txt" ] && cmp -s "$T/plain/result.txt" "$T/pt/result.txt"; then
    ok "query results identical to the plain run ($(wc -l <"$T/pt/result.txt") lines)"
else
    bad "query results differ from the plain run: $(diff "$T/plain/result.txt" "$T/pt/result.txt" 2>&1 | head -5)"
fi

# The control: sqlite3 exits with its database open.
mkdir -p "$T/leak"
{ grep -v '^\.shell' "$T/workload.sql"; echo '.exit 3'; } >"$T/leak/workload.sql"
rc=0
(cd "$T/leak" && timeout -k 10 300 "$POOLTAG" run --verify 'libsqlite3*' --fail-on-leak -- \
    sqlite3 -init /dev/null -batch test.db <workload.sql >"$T/leak.out" 2>"$T/leak.err") || rc=$?
lk=$(grep -E 'libsqlite3[^ ]* at exit with [0-9]+ blocks \([0-9]+ bytes\) outstanding' "$T/leak.err" | head -1)
if [ -n "$lk" ] && [ "$rc" = 1 ]; then
    ok "control: sqlite3 ended by '.exit 3' with the database open: '${lk#pooltag: }', status 1 (--fail-on-leak)"
else
    bad "control: sqlite3 ended by '.exit 3': status $rc (want 1), leak report '${lk}': $(head -c 400 "$T/leak.err")"
fi

cd "$T/pt" || finish
if [ "$(cat mid.rc 2>/dev/null)" != 0 ]; then
    bad "pooltag verify of the running sqlite3 (from .shell) exited $(cat mid.rc 2>/dev/null): $(head -c 300 mid.err)"
    finish
fi
stacks_tsv mid.json >mid.tsv || { bad "pooltag verify --json: not JSON: $(head -c 200 mid.json)"; finish; }
att=$(json_get mid.json attempted)
if [ -n "$att" ] && [ "$att" -ge 20000 ]; then
    ok "live: libsqlite3 verified, $att allocations attempted"
else
    bad "live: allocations attempted '$att', want >= 20000 (20,000 rows inserted)"
fi
nb=$(wc -l <mid.tsv)
nsq=$(awk -F'\t' '$6 ~ /^libsqlite3\.so[^!]*!/' mid.tsv | wc -l)
api=$(awk -F'\t' '$6 ~ /libsqlite3\.so[^!]*!sqlite3_(step|exec|prepare[a-z0-9_]*|open[a-z0-9_]*)(\||$)/' mid.tsv | wc -l)
if [ "$nb" -ge 50 ] && [ "$nsq" = "$nb" ]; then
    ok "live: $nb outstanding blocks listed with stacks, every caller in libsqlite3"
else
    bad "live: $nb outstanding blocks listed (want >= 50), $nsq with their caller in libsqlite3 (want all)"
    awk -F'\t' '$6 !~ /^libsqlite3\.so[^!]*!/ { print "     " $0; if (++k == 3) exit }' mid.tsv
fi
if [ "$api" -ge 1 ]; then
    ok "live: $api stacks go through sqlite's API (sqlite3_step/exec/prepare/open)"
else
    bad "live: no stack goes through sqlite3_step, sqlite3_exec, sqlite3_prepare* or sqlite3_open*"
fi
ex=$(awk -F'\t' '$6 ~ /sqlite3_(step|exec)/ { print $6; exit }' mid.tsv)
note "a block's stack: ${ex//|/ < }"

if [ "$(cat snap.rc 2>/dev/null)" != 0 ]; then
    bad "pooltag snap of the running sqlite3 exited $(cat snap.rc 2>/dev/null): $(head -c 300 snap.out)"
else
    rc=0
    timeout 60 "$POOLTAG" verify mid.ptsnap --stacks --json >snap.json 2>snap.err || rc=$?
    if [ "$rc" != 0 ]; then
        bad "pooltag verify SNAPSHOT exited $rc: $(head -c 300 snap.err)"
    elif ! stacks_tsv snap.json >snap.tsv; then
        bad "pooltag verify SNAPSHOT --json: not JSON"
    elif [ -s snap.tsv ] && diff <(cut -f1-5 mid.tsv | sort) <(cut -f1-5 snap.tsv | sort) >/dev/null; then
        ok "the snapshot lists the same $(wc -l <snap.tsv) blocks (address, size, tag) as the live reading"
    else
        bad "the snapshot's blocks differ from the live reading: $(diff <(cut -f1-5 mid.tsv | sort) <(cut -f1-5 snap.tsv | sort) | head -4)"
    fi
fi
finish
