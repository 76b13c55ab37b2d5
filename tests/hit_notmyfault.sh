#!/usr/bin/env bash
# The issue's "done when": against a running notmyfault, `pooltag hit PID
# Leak` then `pooltag hit --show PID` prints the stacks of leak_step with
# file:line.
. "$(dirname "$0")/hv_lib.sh"
need_notmyfault
start_nmf --leak paged --rate 256K
wait_tagged "$NMF_PID" Leak
rc=0
"$POOLTAG" hit "$NMF_PID" Leak >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || fail "hit exit $rc: $(cat "$T/err")"
grep -q "^applied: 1 tag match\$" "$T/out" || fail "hit said: $(cat "$T/out")"
line=$(grep -n '^static void leak_step' "$PT_SRC/demo/notmyfault.c" | cut -d: -f1)
for _ in $(seq 100); do
    "$POOLTAG" hit --show "$NMF_PID" >"$T/show" || fail "--show exit $?"
    grep -q 'notmyfault!leak_step+0x' "$T/show" && break
    sleep 0.1
done
grep -q 'alloc 0x[0-9a-f]* .* Leak' "$T/show" || fail "no Leak allocation recorded: $(head -20 "$T/show")"
# A frame in leak_step, at a line of its body (after its first line).
f=$(grep -m1 'notmyfault!leak_step+0x' "$T/show")
[[ $f =~ notmyfault\.c:([0-9]+)$ ]] || fail "leak_step frame without file:line: $f"
[ "${BASH_REMATCH[1]}" -gt "$line" ] && [ "${BASH_REMATCH[1]}" -lt $((line + 80)) ] ||
    fail "leak_step frame at line ${BASH_REMATCH[1]}, the function starts at $line"
"$POOLTAG" hit "$NMF_PID" --off >/dev/null || fail "--off exit $?"
echo "hit notmyfault tests passed"
