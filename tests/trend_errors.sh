#!/usr/bin/env bash
# trend_errors — logs `pooltag trend` must refuse with one line and exit 2:
# a file that is not SQLite, an empty file, a missing file, a SQLite
# database of something else (wrong application_id), a newer format
# version, missing tables or columns, a log with no samples, rows whose
# values break the contract (pool 7, a tag beyond 32 bits, an interval
# minimum above the sample), a directory.
. "$PT_SRC/tests/cli_lib.sh"
GEN="$PT_SRC/tests/trend_gen.py"
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

echo "not a database at all" >"$T/text.db"
expect_error trend "not a SQLite database" "$POOLTAG" trend "$T/text.db"
: >"$T/zero.db"
expect_error trend "empty file" "$POOLTAG" trend "$T/zero.db"
expect_error trend "cannot open" "$POOLTAG" trend "$T/missing.db"
expect_error trend "" "$POOLTAG" trend "$T"
head -c 3000 /dev/urandom >"$T/rand.db"
expect_error trend "not a SQLite database" "$POOLTAG" trend "$T/rand.db"
# A damaged index that gives the samples out of time order (found by
# fuzz_log: the span overflowed int64).
cp "$PT_SRC/fuzz/corpus/log/broken-timeorder.db" "$T/order.db"
expect_error trend "sample 11 is out of time order" "$POOLTAG" trend "$T/order.db"
# A SQLite file that is truncated in the middle.
python3 "$GEN" "$T/good.db" --interval 10 >/dev/null || fail "gen"
head -c 5000 "$T/good.db" >"$T/trunc.db"
expect_error trend "" "$POOLTAG" trend "$T/trunc.db"
# Some other program's SQLite database.
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("create table t(x)"); d.commit()' "$T/other.db"
expect_error trend "not a pooltag counter log (application_id 0" "$POOLTAG" trend "$T/other.db"

for kind in appid:"application_id 12345" version:"format version 7 is not supported" \
        notables:"table meta" nosample_table:"table sample" \
        nocolumn:"nonpaged_bytes" empty:"no samples" badpool:"pool 7" \
        bigtag:"not 32 bits" \
        minmax:"bytes_max 460000 (the interval's extremes must hold the sample)"; do
    k=${kind%%:*} want=${kind#*:}
    python3 "$GEN" "$T/$k.db" --break "$k" >/dev/null || fail "gen --break $k"
    expect_error trend "$want" "$POOLTAG" trend "$T/$k.db"
    expect_error trend "$want" "$POOLTAG" trend --json --html "$T/$k.html" "$T/$k.db"
    [ ! -e "$T/$k.html" ] || fail "--html written for a broken log ($k)"
done
# A sample without a time (text where t_ns must be an integer).
cp "$T/good.db" "$T/notime.db"
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("update sample set t_ns = '"'"'soon'"'"' where id = 3"); d.commit()' "$T/notime.db"
expect_error trend "sample 3 has no time" "$POOLTAG" trend "$T/notime.db"
# An --html path that cannot be created: one line, exit 2.
expect_error trend "--html" "$POOLTAG" trend --html "$T/no/such/dir/r.html" "$T/good.db"
echo "trend_errors: ok"
