# leaks_lib.sh — sourced by the leaks_*.sh tests (after cli_lib.sh).
#
# start_fix PROG [WRAP...]: start $PT_FIXTURES/PROG (under WRAP, e.g.
#   "$POOLTAG" run --) with its stdin a FIFO held open by this shell (the
#   fixture waits until it closes), wait for its "ready" line; sets FIX_PID
#   and FIX_OUT (its stdout).
# addrs KIND: the addresses leakfix printed for KIND, sorted.
# leaked_addrs JSON: the leaked block addresses of `leaks --json --all`.
# take_gcore PID FILE: in cli_lib.sh.

: "${PT_FIXTURES:?PT_FIXTURES not set}"

start_fix() {
    local prog=$PT_FIXTURES/$1
    shift
    [ -x "$prog" ] || { echo "SKIP: $prog not built" >&2; exit 77; }
    FIX_OUT=$T/fix.out.$RANDOM
    local fifo=$T/fifo.$RANDOM
    mkfifo "$fifo"
    "$@" "$prog" <"$fifo" >"$FIX_OUT" 2>"$FIX_OUT.err" &
    FIX_PID=$!
    track_pid "$FIX_PID"
    exec 9>"$fifo"
    for _ in $(seq 300); do
        grep -q '^ready' "$FIX_OUT" 2>/dev/null && return 0
        kill -0 "$FIX_PID" 2>/dev/null || fail "$prog died while starting: $(cat "$FIX_OUT.err")"
        sleep 0.05
    done
    fail "$prog never became ready"
}

addrs() {
    awk -v k="$1" '$1 == k { print $2 }' "$FIX_OUT" | sort
}

leaked_addrs() {
    python3 -c 'import json,sys; print("\n".join(sorted(b["address"] for b in json.load(open(sys.argv[1]))["leaked"])))' "$1"
}

# check_exact NAME JSON: the leaked blocks of JSON are exactly leakfix's
# dropped and cyclic blocks.
check_exact() {
    local want got
    want=$( (addrs dropped; addrs cyclic) | sort)
    got=$(leaked_addrs "$2")
    [ -n "$want" ] || fail "$1: leakfix printed no addresses"
    [ "$want" = "$got" ] || fail "$1: leaked blocks
$got
expected (dropped and cyclic)
$want"
}

# jget FILE PYEXPR: evaluate PYEXPR with d = the JSON document in FILE.
jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
