#!/usr/bin/env bash
# pooltag run's special pool and fault injection flags: each sets its PT_
# variable (run -v lists them, and the preload's settings in effect show
# what it read); a bad selector, from an option or the environment, is a
# one-line error naming the parser's reason before anything runs; counts
# are checked against the options table.
. "$(dirname "$0")/run_lib.sh"
need_preload
unset PT_SPECIAL PT_SPECIAL_UNDERRUN PT_SPECIAL_EXACT PT_SPECIAL_RECOVER PT_SAMPLE_GUARD \
    PT_QUARANTINE PT_SPECIAL_MAX_PAGES PT_FAIL
"$POOLTAG" run -v --special Ovr1 --special '100-4K' --special 'module:libfoo*' --underrun --exact \
    --recover --sample 5000 --quarantine 32 --max-pages 128 --fail 'Ovr2:25%:seed=3' \
    --fail 'module:libbar*:after=1.5' -- /bin/true 2>"$T/v" || fail "run -v exit $?: $(cat "$T/v")"
for want in 'PT_SPECIAL=Ovr1,100-4K,module:libfoo\*' PT_SPECIAL_UNDERRUN=1 PT_SPECIAL_EXACT=1 \
    PT_SPECIAL_RECOVER=1 PT_SAMPLE_GUARD=5000 PT_QUARANTINE=32 PT_SPECIAL_MAX_PAGES=128 \
    'PT_FAIL=Ovr2:25%:seed=3,module:libbar\*:after=1.5'; do
    grep -q "^pooltag run:   $want\$" "$T/v" || fail "run -v lacks $want: $(cat "$T/v")"
    grep -q "^  $want  #" "$T/v" || fail "the preload's settings lack $want: $(cat "$T/v")"
done
# Bad selectors: the parser's reason, nothing run.
expect_fail 2 "--special: bad selector '5-3': a size range needs MIN <= MAX" \
    "$POOLTAG" run --special 5-3 -- /bin/true
expect_fail 2 "--special: bad selector 'a:b': a special pool selector is TAG, MIN-MAX or module:GLOB" \
    "$POOLTAG" run --special a:b -- /bin/true
expect_fail 2 "--fail: bad selector '100-200': fault injection selects by TAG or module:GLOB, not by size" \
    "$POOLTAG" run --fail 100-200 -- /bin/true
expect_fail 2 "--fail: bad selector 'Ovr1:200%': PERCENT is a number from 0.0001 to 100" \
    "$POOLTAG" run --fail 'Ovr1:200%' -- /bin/true
expect_fail 2 "--special: at most 8 selectors" \
    "$POOLTAG" run --special a,b,c,d,e,f,g --special h,i -- /bin/true
expect_fail 2 "PT_SPECIAL (from the environment): bad selector 'module:': module: needs a glob" \
    env PT_SPECIAL=Ovr1,module: "$POOLTAG" run -- /bin/true
expect_fail 2 "PT_FAIL (from the environment): bad selector 'Ovr1:seed=x'" \
    env PT_FAIL=Ovr1:seed=x "$POOLTAG" run -- /bin/true
expect_fail 2 "--sample: 'x' is not a number from 0 to 1073741824" "$POOLTAG" run --sample x -- /bin/true
expect_fail 2 "--max-pages: '15' is not a number from 16 to 65536" "$POOLTAG" run --max-pages 15 -- /bin/true
expect_fail 2 "PT_QUARANTINE (from the environment): '70000' is not a number from 0 to 65536" \
    env PT_QUARANTINE=70000 "$POOLTAG" run -- /bin/true
# The options are documented where run --help is.
for o in --special --underrun --exact --recover --sample --quarantine --max-pages --fail; do
    "$POOLTAG" run --help | grep -q -- "^  $o " || fail "run --help lacks $o"
    grep -q -- "\`$o" "$PT_SRC/docs/run.md" || fail "docs/run.md lacks $o"
done
echo "special run tests passed"
