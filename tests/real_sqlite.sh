#!/usr/bin/env bash
# sqlite3 under the preload: a script inserting 100,000 rows with indexes,
# then updates, deletes, joins, VACUUM and PRAGMA integrity_check, run once
# plain and once under libpooltag-preload.so.  The query results and the
# database file must be identical, integrity_check must say ok.
#
# sqlite3 is the program here that frees every block it allocates: with
# `-init /dev/null` (no getpwuid() for ~/.sqliterc) and its output in a file
# (.output, closed at exit: no stdout buffer), valgrind
# --run-libc-freeres=no reports "in use at exit: 0 bytes in 0 blocks" for
# this run.  So under the preload every tag must balance at exit: allocs =
# frees and bytes allocated = bytes freed.
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd sqlite3

cat >"$T/script.sql" <<'EOF'
.bail on
.output result.txt
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT UNIQUE NOT NULL);
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL REFERENCES grp(id),
                  name TEXT NOT NULL, val REAL, payload BLOB);
CREATE INDEX item_grp ON item(grp);
CREATE INDEX item_name ON item(name);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO grp SELECT i, printf('group-%04d', (i * 7) % 1000) FROM n;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO item(id, grp, name, val, payload)
SELECT i, (i * 7919) % 500 + 1,
       printf('name-%08d-%s', (i * 104729) % 1000003,
              substr('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 1 + i % 26, 1 + i % 23)),
       (i % 1000) / 7.0,
       CASE WHEN i % 5 = 0 THEN zeroblob(i % 700) ELSE hex(i * 31337) END
FROM n;
COMMIT;
CREATE INDEX item_val ON item(val, grp);
UPDATE item SET val = val * 2, name = name || '-u' WHERE id % 10 = 0;
DELETE FROM item WHERE id % 97 = 0;
SELECT count(*), sum(grp), total(val), sum(length(payload)), count(DISTINCT name) FROM item;
SELECT g.label, count(*), round(avg(i.val), 6), max(i.name)
  FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.label ORDER BY count(*) DESC, g.label LIMIT 25;
SELECT id, name FROM item WHERE name BETWEEN 'name-00500000' AND 'name-00510000' ORDER BY name;
SELECT id, name, val FROM item ORDER BY val DESC, id LIMIT 20;
SELECT grp, length(group_concat(name, ',')), sum(id)
  FROM (SELECT grp, id, name FROM item WHERE grp <= 20 ORDER BY id) GROUP BY grp;
SELECT count(*) FROM item a JOIN item b ON a.name = b.name || '-u';
PRAGMA integrity_check;
VACUUM;
PRAGMA integrity_check;
PRAGMA foreign_key_check;
EOF

for mode in plain pt; do
    mkdir -p "$T/$mode"
    cp "$T/script.sql" "$T/$mode/"
    # sqlite3 resolves result.txt and the database relative to its cwd.
    (cd "$T/$mode" && run_mode "$mode" "sqlite_$mode" 300 \
        sqlite3 -init /dev/null -batch -bail test.db '.read script.sql'
     echo "$RUN_RC $RUN_PID" >"$T/$mode.status")
    read -r rc pid <"$T/$mode.status"
    if [ "$rc" = 0 ]; then
        ok "$mode: sqlite3 exited 0"
    else
        bad "$mode: sqlite3 exited $rc: $(head -c 600 "$T/sqlite_$mode.err")"
    fi
    [ "$mode" = pt ] && pt_pid=$pid
done

res_plain=$T/plain/result.txt res_pt=$T/pt/result.txt
if [ "$(grep -c '^ok$' "$res_plain" 2>/dev/null)" = 2 ]; then
    ok "plain: integrity_check ok (twice)"
else
    bad "plain: integrity_check did not say ok twice"
fi
if [ "$(grep -c '^ok$' "$res_pt" 2>/dev/null)" = 2 ]; then
    ok "pt: integrity_check ok (twice)"
else
    bad "pt: integrity_check did not say ok twice"
fi
if [ -s "$res_plain" ] && cmp -s "$res_plain" "$res_pt"; then
    ok "query results identical ($(wc -l <"$res_plain") lines, first: $(head -1 "$res_plain"))"
else
    bad "query results differ: $(diff "$res_plain" "$res_pt" 2>&1 | head -5)"
fi
if cmp -s "$T/plain/test.db" "$T/pt/test.db"; then
    ok "database files identical ($(stat -c %s "$T/plain/test.db") bytes)"
else
    bad "database files differ"
fi
check_quiet "sqlite3 under the preload" "$T/sqlite_pt.err" "$T/pt/result.txt"
if [ -s "$T/sqlite_pt.err" ]; then
    note "pt stderr: $(head -c 400 "$T/sqlite_pt.err")"
fi

if check_main_report sqlite_pt "$pt_pid" "sqlite3 under the preload"; then
    if ! report_balanced "$T/rep_sqlite_pt/$pt_pid" "sqlite3 under the preload"; then
        # A known way to fail: sqlite3 does not load libstdc++, but a preload
        # that depends on it brings it in, and libstdc++ allocates its
        # emergency exception pool (~72 KB, one block) at load and never
        # frees it.
        if ! ldd "$(command -v sqlite3)" | grep -q 'libstdc++' &&
           ldd "$PRELOAD" 2>/dev/null | grep -q 'libstdc++'; then
            note "hint: $PRELOAD depends on libstdc++ (sqlite3 does not): a block that libstdc++ allocates at load and never frees is counted in this process"
        fi
    fi
fi
finish
