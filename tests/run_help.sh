#!/usr/bin/env bash
# `pooltag run --help`: on stdout, exit 0, the same as `pooltag help run`,
# names every option, the exec-in-place behaviour and the exit statuses;
# `pooltag --help` lists run; docs/run.md documents every option.
. "$(dirname "$0")/run_lib.sh"

"$POOLTAG" run --help >"$T/h" 2>"$T/e" || fail "run --help exit $?"
[ ! -s "$T/e" ] || fail "run --help wrote to stderr: $(cat "$T/e")"
grep -q '^Usage: pooltag run \[options\] -- CMD \[ARGS...\]$' "$T/h" ||
    fail "no usage line: $(head -1 "$T/h")"
"$POOLTAG" help run >"$T/h2" || fail "help run exit $?"
cmp -s "$T/h" "$T/h2" || fail "help run differs from run --help"
"$POOLTAG" run -h >"$T/h3" || fail "run -h exit $?"
cmp -s "$T/h" "$T/h3" || fail "run -h differs from run --help"

opts='--backend=mimalloc|libc --tags --wrapper --follow-children
      --on-error=report|abort --paged-max --nonpaged-max --verbose --help'
for o in $opts; do
    grep -qF -- "$o" "$T/h" || fail "run --help lacks $o"
    grep -qF -- "${o%%=*}" "$PT_SRC/docs/run.md" || fail "docs/run.md lacks $o"
done
for v in PT_BACKEND PT_TAGS PT_WRAPPERS PT_FOLLOW_CHILDREN PT_ON_ERROR \
    PT_PAGED_MAX PT_NONPAGED_MAX PT_VERBOSE POOLTAG_PRELOAD; do
    grep -q "$v" "$T/h" || fail "run --help does not name $v"
    grep -q "$v" "$PT_SRC/docs/run.md" || fail "docs/run.md does not name $v"
done
grep -q 'exec' "$T/h" && grep -q "CMD's PID" "$T/h" ||
    fail "run --help does not say that run execs CMD in place"
grep -q '126' "$T/h" && grep -q '127' "$T/h" && grep -q '128+N' "$T/h" ||
    fail "run --help does not give the exit statuses"
grep -q 'GLOB TAG' "$T/h" || fail "run --help does not give the rules format"

"$POOLTAG" --help >"$T/m" || fail "pooltag --help exit $?"
grep -q '^  run ' "$T/m" || fail "pooltag --help does not list run"
echo "run help tests passed"
