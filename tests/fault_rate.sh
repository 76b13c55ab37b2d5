#!/usr/bin/env bash
# Fault injection from the start (PT_FAIL): only the chosen tag fails, at
# the chosen rate within a binomial bound; the seed makes the sequence
# repeatable (and another seed gives another one), with 8 threads too; after=S fails nothing
# before S seconds and everything chosen after; every failure is NULL with
# errno ENOMEM (the fixture checks); C++ new throws std::bad_alloc, aligned
# new too, nothrow new returns NULL, and a new_handler runs first.
. "$(dirname "$0")/fault_lib.sh"

# 20% of 20000 requests of FiA, none of FiB: 4000 +- 5 sigma (sigma = 56.6).
fi_run 'FiA:20:seed=7' "$FP" rate 20000
read -r _ a _ b <"$T/fi.out"
[ "$b" = 0 ] || fail "FiB had $b failures: only FiA was chosen"
[ "$a" -ge 3717 ] && [ "$a" -le 4283 ] ||
    fail "FiA: $a failures of 20000 at 20%, outside 4000 +- 283 (5 sigma)"
grep '^idx ' "$T/fi.out" >"$T/idx7a"

# The same seed: the same failing requests; another seed: others.
fi_run 'FiA:20:seed=7' "$FP" rate 20000
grep '^idx ' "$T/fi.out" >"$T/idx7b"
cmp -s "$T/idx7a" "$T/idx7b" || fail "seed=7 twice gave different failing requests"
fi_run 'FiA:20:seed=8' "$FP" rate 20000
grep '^idx ' "$T/fi.out" >"$T/idx8"
cmp -s "$T/idx7a" "$T/idx8" && fail "seed=8 failed the same requests as seed=7"

# 8 threads share the selector's request counter: whatever the
# interleaving, the requests are numbered 0..39999 once each, so they fail
# exactly as many as one thread making 40000 requests.
fi_run 'FiA:20:seed=11' "$FP" rate 40000
read -r _ one _ <"$T/fi.out"
fi_run 'FiA:20:seed=11' "$FP" threads 8 5000
grep -qx "threads $one" "$T/fi.out" || fail "8 threads: $(cat "$T/fi.out"), one thread: $one"

# 100% (the default) through `pooltag run`, which passes PT_FAIL through;
# a pattern chooses both tags.
PT_FAIL='Fi?' "$POOLTAG" run -- "$FP" rate 500 >"$T/run.out" 2>"$T/run.err" ||
    fail "pooltag run: exit $?: $(cat "$T/run.err")"
grep -qx 'A 500 B 500' "$T/run.out" || fail "Fi? at 100%: $(head -1 "$T/run.out")"

# Two selectors, each with its own rate: FiB at 100%, FiA at 0.0001% (1 in
# a million: none of 2000, with any seed's luck but 1 in 500).
fi_run 'FiA:0.0001:seed=3,FiB' "$FP" rate 2000
grep -qx 'A 0 B 2000' "$T/fi.out" || fail "two selectors: $(head -1 "$T/fi.out")"

# after=1.5: the first batch (at once) never fails; from 1.7 s all do.
fi_run 'FiA:after=1.5' "$FP" after 1000 1.5
grep -q '^before 0 after 1000 ' "$T/fi.out" || fail "after=1.5: $(cat "$T/fi.out")"

# A bad PT_FAIL selector: a warning naming it, the rest applied.
fi_run 'FiA:150,FiB' "$FP" rate 100
grep -qx 'A 0 B 100' "$T/fi.out" || fail "bad selector skipped: $(head -1 "$T/fi.out")"
grep -q "PT_FAIL: ignoring 'FiA:150': PERCENT" "$T/fi.err" ||
    fail "no warning for FiA:150: $(cat "$T/fi.err")"

# C++: every operator new of the program fails (module:GLOB, its own).
[ -x "$FCXX" ] || fail "$FCXX not built"
fi_run 'module:fault_cxx' "$FCXX"
cat >"$T/want" <<'W'
new[]: bad_alloc
new: bad_alloc
aligned new: bad_alloc
nothrow new: NULL
handler new: bad_alloc after 1 handler call(s)
ok 5
W
diff -u "$T/want" "$T/fi.out" || fail "C++ new under fault injection"
echo "fault rate tests passed"
