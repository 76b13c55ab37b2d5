#!/usr/bin/env bash
# pooltag fault: bad input is one line "pooltag fault: ...", exit 2, nothing
# on stdout, nothing changed; a process without a segment, a PID that does
# not exist and a snapshot given for a change are refused the same way.
. "$(dirname "$0")/fault_lib.sh"

# expect WANT ARGS...: pooltag fault ARGS exits 2 with one line naming WANT.
expect() {
    local want=$1 rc=0
    shift
    timeout 20 "$POOLTAG" fault "$@" >"$T/e.out" 2>"$T/e.err" </dev/null || rc=$?
    [ "$rc" = 2 ] || fail "fault $*: exit $rc, want 2: $(cat "$T/e.err")"
    [ ! -s "$T/e.out" ] || fail "fault $*: stdout: $(head -3 "$T/e.out")"
    [ "$(wc -l <"$T/e.err")" = 1 ] || fail "fault $*: stderr not one line: $(cat "$T/e.err")"
    grep -q '^pooltag fault: ' "$T/e.err" || fail "fault $*: $(cat "$T/e.err")"
    grep -qF -- "$want" "$T/e.err" || fail "fault $*: lacks '$want': $(cat "$T/e.err")"
}

mkfifo "$T/in"
env LD_PRELOAD="$PRELOAD" "$FP" live <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in"
for _ in $(seq 200); do
    grep -q '^ready' "$T/out" 2>/dev/null && break
    sleep 0.05
done
"$POOLTAG" fault "$pid" FiB:10 >/dev/null || fail "setting FiB:10: exit $?"

expect 'missing PID' 
expect "PERCENT is a number from 0.0001 to 100" "$pid" FiA:0
expect "PERCENT is a number from 0.0001 to 100" "$pid" FiA:101
expect "PERCENT is a number from 0.0001 to 100" "$pid" FiA:20:30
expect "not by size" "$pid" 100-200
expect "module: needs a glob" "$pid" module:
expect "after=SECONDS" "$pid" FiA:after=x
expect "seed=N" "$pid" FiA:seed=-1
expect "a tag pattern is at most 15 characters" "$pid" ABCDEFGHIJKLMNOPQ
expect "bad tag" "$pid" 'ABCDEF'
expect "select the same allocations" "$pid" FiA:10 FiA:20
expect "at most 8 SPECs" "$pid" A B C D E F G H I
expect "--json goes with the status" "$pid" FiA --json
expect "is not a PID" ./nosuch FiA
expect "not in effect" "$pid" FiA --off
expect "unknown option '--bogus'" "$pid" --bogus
expect "" 999999999 FiA
# a process without a segment
sleep 30 &
track_pid $!
expect "not tagged" $! FiA
# 8 selectors in effect: a ninth is refused
"$POOLTAG" fault "$pid" A B C D E F G >/dev/null || fail "8 selectors: exit $?"
expect "the most there can be" "$pid" Zz
# nothing above changed the settings
"$POOLTAG" fault "$pid" >"$T/s"
grep -qx 'selectors: FiB:10% A B C D E F G' "$T/s" || fail "settings changed: $(cat "$T/s")"

# PT_FAIL: a bad selector is skipped with a warning, the program runs.
fi_run 'module:,FiA:0,Fi' "$FP" rate 100
grep -qx 'A 0 B 0' "$T/fi.out" || fail "bad PT_FAIL: $(head -1 "$T/fi.out")"
[ "$(grep -c "PT_FAIL: ignoring '" "$T/fi.err")" = 2 ] ||
    fail "PT_FAIL warnings: $(cat "$T/fi.err")"
exec 7>&-
echo "fault error tests passed"
