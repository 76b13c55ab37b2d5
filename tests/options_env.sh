#!/usr/bin/env bash
# The options table (src/common/options.def) as the runtime sees it:
# PT_VERBOSE=1 prints every variable of the table (the names come from
# `pooltag run --settings-table`), with the values in effect, including the
# variables read when used (PT_TAGS, PT_WRAPPERS, PT_BEHALF,
# PT_FOLLOW_CHILDREN, PT_EXIT_REPORT); a bad value of each parsed kind
# warns once and keeps the default; a rules file with more func: rules than
# the table's limit is read up to the limit (it overflowed before).
. "$(dirname "$0")/run_lib.sh"
need_preload

"$POOLTAG" run --settings-table >"$T/table" || fail "--settings-table exit $?"
names=$(sed -nE 's/^\| `(PT_[A-Z0-9_]+)` \|.*/\1/p' "$T/table")
[ "$(wc -w <<<"$names")" -ge 15 ] || fail "too few variables in the table: $names"

printf 'libc.so* Libc\n' >"$T/rules"
out=$(env PT_VERBOSE=1 PT_TAGS="$T/rules" PT_WRAPPERS='xmalloc*,xcalloc' \
    PT_BEHALF='libfoo*' PT_FOLLOW_CHILDREN=1 PT_EXIT_REPORT="$T/exit.%p" \
    PT_MAX_TAGS=100 PT_PAGED_MAX=3M LD_PRELOAD="$PRELOAD" /bin/true 2>&1) ||
    fail "PT_VERBOSE=1 /bin/true failed: $out"
grep -q '^pooltag: settings in effect (pid [0-9]*)$' <<<"$out" || fail "no heading: $out"
for n in $names; do
    [ "$(grep -c "^  $n=.*  # " <<<"$out")" = 1 ] || fail "PT_VERBOSE=1 does not print $n once: $out"
done
[ "$(grep -c '^  PT_' <<<"$out")" = "$(wc -w <<<"$names")" ] ||
    fail "PT_VERBOSE=1 prints other variables than the table's: $out"
for want in "PT_TAGS=$T/rules" "PT_WRAPPERS=xmalloc\*,xcalloc" "PT_BEHALF=libfoo\*" \
    "PT_FOLLOW_CHILDREN=1" "PT_EXIT_REPORT=$T/exit.%p" "PT_MAX_TAGS=128" \
    "PT_PAGED_MAX=3145728" "PT_BACKEND=mimalloc" "PT_NONPAGED_MAX=[1-9]"; do
    grep -q "^  $want" <<<"$out" || fail "PT_VERBOSE=1 lacks $want: $out"
done
grep -q '`' <<<"$out" && fail "PT_VERBOSE=1 prints Markdown backticks: $out"
ls "$T"/exit.* >/dev/null 2>&1 || fail "PT_EXIT_REPORT wrote no file"
out=$(env PT_VERBOSE=1 PT_FOLLOW_CHILDREN=yes LD_PRELOAD="$PRELOAD" /bin/true 2>&1)
grep -q '^  PT_FOLLOW_CHILDREN=0 ' <<<"$out" || fail "PT_FOLLOW_CHILDREN=yes is not off: $out"
grep -q '^  PT_TAGS=(unset) ' <<<"$out" || fail "an unset PT_TAGS: $out"

# Bad values: one warning each, the default kept.
out=$(env PT_VERBOSE=1 PT_BACKEND=jemalloc PT_VERBOSE=1 PT_MAX_THREADS=0 \
    PT_MAX_SITES=12K PT_PEAK_GRAIN=2G PT_NONPAGED_MAX=1T PT_ON_ERROR=maybe \
    LD_PRELOAD="$PRELOAD" /bin/true 2>&1)
for w in "PT_BACKEND='jemalloc': expected mimalloc|libc" \
    "PT_MAX_THREADS='0': expected a number from 1 to 4096" \
    "PT_MAX_SITES='12K': expected a number from 16 to 65536" \
    "PT_PEAK_GRAIN='2G': expected a size (K/M/G suffix) from 64 to 1073741824" \
    "PT_NONPAGED_MAX='1T': expected a size (K/M/G suffix) from 0 to 1099511623679" \
    "PT_ON_ERROR='maybe': expected report|abort"; do
    [ "$(grep -cF "pooltag: ignoring $w" <<<"$out")" = 1 ] || fail "no single warning '$w': $out"
done
for want in PT_BACKEND=mimalloc PT_MAX_THREADS=128 PT_MAX_SITES=4096 \
    PT_PEAK_GRAIN=512 PT_ON_ERROR=report; do
    grep -q "^  $want " <<<"$out" || fail "default not kept: $want: $out"
done

# More func: rules than the preload reads (PT_TAGS's limit in the table):
# read up to the limit, the program runs.
for i in $(seq 1 3000); do echo "func:f$i Ab"; done >"$T/many"
env PT_TAGS="$T/many" LD_PRELOAD="$PRELOAD" /bin/echo ok >"$T/o" 2>"$T/e" ||
    fail "3000 func: rules: exit $? $(cat "$T/e")"
[ "$(cat "$T/o")" = ok ] || fail "3000 func: rules: output $(cat "$T/o")"
echo "options_env: ok ($(wc -w <<<"$names") variables)"
