#!/usr/bin/env bash
# Bad --behalf patterns (and PT_BEHALF from the environment): one
# "pooltag run: ..." line on stderr, exit 2, CMD never started.  Needs no
# preload: run checks before it looks for it.
. "$(dirname "$0")/run_lib.sh"

R=("$POOLTAG" run)
mark=$T/started
CMD=(sh -c ": >'$mark'")

expect_fail 2 "needs a value" "${R[@]}" --behalf
for p in '' ',' 'a,,b' ',api_*' 'api_*,'; do
    expect_fail 2 "--behalf wants a module or function name pattern" \
        "${R[@]}" --behalf "$p" -- "${CMD[@]}"
done
expect_fail 2 "a pattern has no spaces" "${R[@]}" --behalf 'api query' -- "${CMD[@]}"
expect_fail 2 "a pattern has no spaces" "${R[@]}" --behalf $'api\tq' -- "${CMD[@]}"
for p in '*' '**' '?*' 'libc*,*'; do
    expect_fail 2 "matches every module and function" \
        "${R[@]}" --behalf "$p" -- "${CMD[@]}"
done
many=$(printf 'p%d,' $(seq 33)); many=${many%,}
expect_fail 2 "--behalf: at most 32 patterns" "${R[@]}" --behalf "$many" -- "${CMD[@]}"
long=$(printf 'x%.0s' $(seq 1100))
expect_fail 2 "longer than 1023 characters" "${R[@]}" --behalf "$long" -- "${CMD[@]}"
# The same checks for PT_BEHALF when no --behalf is given.
expect_fail 2 "PT_BEHALF (from the environment) '*' matches every module" \
    env PT_BEHALF='*' "${R[@]}" -- "${CMD[@]}"
expect_fail 2 "PT_BEHALF (from the environment) wants a module or function" \
    env PT_BEHALF='a,,b' "${R[@]}" -- "${CMD[@]}"
[ -e "$mark" ] && fail "CMD ran despite an error"

# Good patterns reach the program as PT_BEHALF (joined with commas); an
# option wins over the environment.
"${R[@]}" --behalf 'libfoo*' --behalf 'api_*,fx_?' -- sh -c 'echo "$PT_BEHALF"' >"$T/env.txt" ||
    fail "run with good patterns"
[ "$(cat "$T/env.txt")" = 'libfoo*,api_*,fx_?' ] || fail "PT_BEHALF is '$(cat "$T/env.txt")'"
PT_BEHALF='*' "${R[@]}" --behalf 'api_*' -- sh -c 'echo "$PT_BEHALF"' >"$T/env.txt" ||
    fail "option over a bad environment value"
[ "$(cat "$T/env.txt")" = 'api_*' ] || fail "option did not win: '$(cat "$T/env.txt")'"
"${R[@]}" --help | grep -q -- '--behalf PAT' || fail "--help lacks --behalf"
echo "behalf_errors: ok"
