#!/usr/bin/env bash
# A process with 1000 tags: every sample holds all 1000 tag rows, the tag
# table names each once, and the summary line reports the time a round
# took (printed here: the cost of logging a large process).
. "$(dirname "$0")/log_lib.sh"

start_manytags 1000
DB=$T/many.db
"$POOLTAG" log -o "$DB" --interval 100ms --duration 2 "$MT_PID" 2>"$T/err" ||
    fail "logger failed: $(cat "$T/err")"
n=$(q "$DB" 'SELECT count(*) FROM sample')
[ "$n" -ge 10 ] || fail "only $n samples in 2 s at 100 ms"
[ "$(q "$DB" 'SELECT count(*) FROM (SELECT sample FROM tag_sample GROUP BY sample HAVING count(*) = 1000)')" = "$n" ] ||
    fail "a sample without its 1000 tag rows"
[ "$(q "$DB" "SELECT count(*) FROM tag WHERE text GLOB 'T[0-9][0-9][0-9]'")" = 1000 ] || fail "tag names"
[ "$(q "$DB" "SELECT count(*) FROM tag WHERE binary IS NOT NULL OR description IS NOT NULL")" = 0 ] ||
    fail "unknown tags got a description"
# The counters move between samples (the program reallocates a tag every 10 ms).
[ "$(q "$DB" 'SELECT max(allocs) > min(allocs) FROM tag_sample')" = 1 ] || fail "counters never moved"
[ "$(q "$DB" 'SELECT count(DISTINCT paged_bytes) > 1 FROM sample')" = 1 ] || fail "pool total never moved"
grep -q "^pooltag log: wrote $n samples of 1 process to $DB; a round took [0-9.]* ms on average" "$T/err" ||
    fail "summary: $(cat "$T/err")"
echo "log_manytags: $(cat "$T/err")"
echo "log_manytags: $(q "$DB" 'SELECT page_count * page_size / count(*) FROM pragma_page_count, pragma_page_size, sample') bytes per sample"
