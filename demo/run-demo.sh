#!/usr/bin/env bash
# run-demo.sh — the README's demo (`make demo`; the Makefile builds first).
#
# Starts notmyfault leaking into the nonpaged pool (plus a rising and falling
# request load and its steady background tags) and `pooltag log` sampling it
# four times a second.  While the log fills, asks pooltag which tag is
# consuming the pool, twice, two seconds apart (Leak grows, the others do
# not), and shows the !vm-style summary.  When the log has 24 s (three load
# periods), `pooltag trend` answers the first question — leak or load? — per
# tag, and writes an HTML report.  Exit status 0 when Leak is on top and
# trend calls Leak a leak and Load a load, 1 if not, 2 if a program is
# missing.  Everything is bounded in time; processes are stopped by PID.
#
# Environment: PT_BUILD (default ./build), NOTMYFAULT, POOLTAG (the binaries;
# default under PT_BUILD), PT_NONPAGED_MAX (passed on to notmyfault).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${PT_BUILD:-$root/build}
NOTMYFAULT=${NOTMYFAULT:-$build/demo/notmyfault}
POOLTAG=${POOLTAG:-$build/src/cli/pooltag}
for b in "$NOTMYFAULT" "$POOLTAG"; do
    if [ ! -x "$b" ]; then
        echo "run-demo.sh: $b is not built; run 'make' first" >&2
        exit 2
    fi
done
export POOLTAG_DB=${POOLTAG_DB:-$root/data/pooltag.txt}

tmp=$(mktemp -d)
pid=
logpid=
report=$build/pooltag-demo-report.html
logdb=$build/pooltag-demo.db
stop_notmyfault() {
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    pid=
}
trap '[ -n "$logpid" ] && kill "$logpid" 2>/dev/null; stop_notmyfault; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# --duration bounds it even if this script is killed with SIGKILL.
"$NOTMYFAULT" --leak nonpaged --rate 1M --load --period 8 --duration 60 \
    >"$tmp/nmf.out" 2>"$tmp/nmf.err" &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/nmf.out" ] && break; sleep 0.1; done
echo "==> $(head -n 1 "$tmp/nmf.out")"
# A fresh log each run (an existing log would be appended to).
rm -f "$logdb" "$logdb-wal" "$logdb-shm"
echo "==> pooltag log -o $(basename "$logdb") --interval 250ms --duration 24 $pid &"
"$POOLTAG" log -o "$logdb" --interval 250ms --duration 24 "$pid" \
    2>"$tmp/log.err" &
logpid=$!
sleep 3

# top_tag FILE: the first tag row after the "Sorting by" header of `used`.
top_tag() {
    awk '/Sorting by/ { s = 1; next }
         s && $1 != "TOTAL" && $2 ~ /^[0-9]+$/ { print $1; exit }' "$1"
}

echo
echo "==> pooltag used -t 5 $pid"
timeout 15 "$POOLTAG" used -t 5 "$pid" >"$tmp/used1.txt" 2>&1
st=$?
cat "$tmp/used1.txt"
[ "$st" = 0 ] || echo "run-demo.sh: pooltag used exited with status $st"
sleep 2
echo
echo "==> pooltag used -t 5 $pid   (2 s later: Leak grew, the other tags did not)"
timeout 15 "$POOLTAG" used -t 5 "$pid" >"$tmp/used2.txt" 2>&1
cat "$tmp/used2.txt"
echo
echo "==> pooltag vm $pid"
timeout 15 "$POOLTAG" vm "$pid" 2>&1

echo
echo "==> waiting for the counter log (24 s: three periods of the load) ..."
wait "$logpid"
logst=$?
logpid=
cat "$tmp/log.err"
[ "$logst" = 0 ] || echo "run-demo.sh: pooltag log exited with status $logst"
echo
echo "==> pooltag trend --html $(basename "$report") $(basename "$logdb")   (leak or load?)"
timeout 30 "$POOLTAG" trend --html "$report" "$logdb" >"$tmp/trend.txt" 2>&1
cat "$tmp/trend.txt"
echo "==> the report with charts: $report (the log: $logdb)"

stop_notmyfault
echo
echo "==> notmyfault stopped; its own summary:"
tail -n +2 "$tmp/nmf.out"
cat "$tmp/nmf.err"

# verdict TAG: the verdict of TAG's row in the trend table.
verdict() { awk -v t="$1" '$2 == t { print $1; exit }' "$tmp/trend.txt"; }

top=$(top_tag "$tmp/used2.txt")
vleak=$(verdict Leak)
vload=$(verdict Load)
echo
status=0
if [ "$top" = Leak ]; then
    echo "==> pooltag found the leak: Leak is on top"
else
    echo "run-demo.sh: expected Leak on top of 'pooltag used', found '${top:-nothing}'" >&2
    status=1
fi
if [ "$vleak" = leak ] && [ "$vload" = load ]; then
    echo "==> pooltag trend: Leak is a leak, Load is load"
else
    echo "run-demo.sh: expected trend to say leak for Leak and load for Load, got '${vleak:-nothing}' and '${vload:-nothing}'" >&2
    status=1
fi
exit $status
