#!/usr/bin/env bash
# trend_values — counters in a log must be integers in range (issue 9, low
# item; docs/trend.md: a malformed log is exit 2): text, a real such as
# 1e300, a blob, NULL or a negative count in tag_sample or sample is refused
# with one line naming the table, the row and the column (before: 'xyz'
# read as 0 and turned a leak into load, 1e300 showed as 8192 PiB).
. "$PT_SRC/tests/cli_lib.sh"
GEN="$PT_SRC/tests/trend_gen.py"
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }
python3 "$GEN" "$T/good.db" --interval 10 >/dev/null || fail "gen"
"$POOLTAG" trend "$T/good.db" >/dev/null || fail "the generated log does not read"

n=0
while IFS='|' read -r sql want; do
    n=$((n + 1))
    cp "$T/good.db" "$T/b$n.db"
    python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(sys.argv[2]); d.commit(); d.close()' \
        "$T/b$n.db" "$sql" || fail "sqlite: $sql"
    expect_error trend "$want" "$POOLTAG" trend "$T/b$n.db"
    [ "$n" != 1 ] || expect_error trend "$want" "$POOLTAG" trend --json "$T/b$n.db"
done <<'CASES'
update tag_sample set bytes = 'xyz' where sample = 5|tag_sample (sample 5, tag
update tag_sample set bytes = 'xyz' where sample = 6|bytes is 'xyz', not an integer
update tag_sample set bytes = 1e300 where sample = 5|bytes is the real number 1e+300, not an integer
update tag_sample set allocs = x'00ff' where sample = 5|allocs is a blob, not an integer
update tag_sample set allocs = -3 where sample = 5|allocs is -3 (a count
update tag_sample set bytes = 12.5 where sample = 7|not an integer
update sample set rss_kb = 'x' where id = 4|sample 4: rss_kb is 'x', not an integer
update sample set paged_bytes = 1e300 where id = 4|sample 4: paged_bytes is the real number 1e+300
update sample set nonpaged_max = -1 where id = 4|sample 4: nonpaged_max is -1 (a count
CASES
echo "trend_values: ok ($n cases)"
