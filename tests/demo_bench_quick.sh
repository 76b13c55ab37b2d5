#!/usr/bin/env bash
# bench/alloc_bench --quick runs every case (library and preload, 1 and 2
# threads, and the memory cases; no child fails, every case allocates from
# the heap and through the malloc it claims to, the pooltag cases counted
# their operations) and prints the 16 pooltag ratios.  The numbers
# themselves are not judged here.  Then: a "preload" that is not pooltag's
# must make the preload cases fail their check (exit 1), and bad arguments
# exit 2 with one line.
. "$(dirname "$0")/demo_lib.sh"
bench="$PT_BUILD/bench/alloc_bench"
out=$(mktemp)
timeout 150 "$bench" --quick >"$out" 2>&1
st=$?
cat "$out"
if [ "$st" = 0 ]; then ok "exit status 0"; else bad "exit status $st"; fi
for what in "pooltag-mi / mimalloc" "pooltag-libc / glibc" \
            "preload-mi / mimalloc.so" "preload-libc / glibc-malloc"; do
    for t in "1 thread" "2 threads"; do
        if grep -Eq "^$what, $t +[0-9]+\.[0-9]+ +<= [0-9.]+ +(PASS|MISS) +[0-9.]+-[0-9.]+ +[0-9.]+%" "$out"; then
            ok "ratio: $what, $t"
        else
            bad "no ratio line for '$what, $t'"
        fi
    done
    if grep -Eq "^RSS 16 B, $what +[0-9]+\.[0-9]+ +<= 1\.10 +(PASS|MISS) " "$out"; then
        ok "ratio: RSS 16 B, $what"
    else
        bad "no ratio line for 'RSS 16 B, $what'"
    fi
    grep -Eq "^RSS 64 B, $what +[0-9]+\.[0-9]+ +- +\(info\)" "$out" &&
        ok "ratio: RSS 64 B, $what" || bad "no ratio line for 'RSS 64 B, $what'"
done
for c in pooltag-mi pooltag-libc preload-mi preload-libc; do
    if grep -Eq "^2T/1T throughput, $c +[0-9]+\.[0-9]+ +>= 1\.80 +(PASS|MISS)" "$out"; then
        ok "ratio: 2T/1T throughput, $c"
    else
        bad "no ratio line for '2T/1T throughput, $c'"
    fi
done
# the honesty checks: the heap and malloc each case claims
for c in mimalloc.so preload-mi; do
    grep -Eq "^$c +[12] +not-glibc +lib(mimalloc|pooltag-preload)" "$out" &&
        ok "$c: not glibc's heap, its malloc" || bad "$c: heap or malloc not shown as expected"
done
for c in glibc-malloc preload-libc; do
    grep -Eq "^$c +[12] +glibc +lib(c\.so\.6|pooltag-preload)" "$out" &&
        ok "$c: glibc's heap, its malloc" || bad "$c: heap or malloc not shown as expected"
done
grep -Eq "^alloc_bench: [0-9]+ of 16 pooltag targets missed$" "$out" &&
    ok "summary line" || bad "no summary line"
if grep -Eq "INVALID|FAILED" "$out"; then bad "a case FAILED or was INVALID"; else ok "no FAILED/INVALID"; fi

# Not pooltag's preload: the preload cases must fail their check.
mi=$(ldd "$bench" | awk '/libmimalloc/ {print $3}')
timeout 60 "$bench" --preload "$mi" --rounds 1 --ops 2000 --blocks 1000 >"$out" 2>&1; st=$?
if [ "$st" = 1 ] && grep -q "preload-mi: the preload is not active" "$out" &&
   grep -Eq "^preload-libc +1 +- +- +FAILED" "$out"; then
    ok "a preload that is not pooltag's: detected, exit 1"
else
    cat "$out"; bad "a preload that is not pooltag's: status $st, want 1 and the check's message"
fi

# --instructions (callgrind): every configuration counted, its checks passed
if command -v valgrind >/dev/null; then
    timeout 120 "$bench" --instructions --rounds 1 --ops 2000 --blocks 1000 >"$out" 2>&1; st=$?
    n=$(grep -Ec "^(pooltag|preload)-(mi|libc) / [a-z.-]+ +[0-9]+\.[0-9]+  <= 1\.(10|05)  \((within|above)\)" "$out")
    if [ "$st" = 0 ] && [ "$n" = 4 ] && ! grep -Eq "INVALID|FAILED" "$out"; then
        ok "--instructions: 4 instruction ratios"
    else
        cat "$out"; bad "--instructions: status $st, $n instruction ratios (want 0 and 4)"
    fi
else
    echo "skip --instructions: no valgrind"
fi

"$bench" --help >"$out" 2>&1 && grep -q -- "--preload PATH" "$out" &&
    ok "--help" || bad "--help"
for args in "--rounds 0" "--blocks 5" "--preload" "--bogus" "--preload /nonexistent"; do
    # shellcheck disable=SC2086
    timeout 10 "$bench" $args >/dev/null 2>"$out"; st=$?
    if [ "$st" = 2 ] && [ "$(wc -l <"$out")" = 1 ]; then ok "bad argument '$args' -> 2, one line"
    else bad "'$args': status $st, want 2 and one line"; cat "$out"; fi
done
rm -f "$out"
finish
