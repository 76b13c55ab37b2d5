#!/usr/bin/env bash
# trend_live — the issue's "done when": `pooltag log` + `pooltag trend` on
# notmyfault.  Two notmyfaults run side by side, each logged on its own for
# ~36 s at 250 ms: one leaks (--leak paged --rate 64K), one only carries a
# load (--load --period 4: nine periods).  trend must say leak for 'Leak'
# (and the paged total) in the first log, load for 'Load' in the second,
# no leak at all in the second (the background tags Cach, Conf, Sess are
# steady), and --fail-on-leak must exit 1 for the first and 0 for the
# second.
. "$PT_SRC/tests/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

start_nmf --leak paged --rate 64K --duration 80
LEAK_PID=$NMF_PID
start_nmf --load --period 4 --duration 80
LOAD_PID=$NMF_PID

"$POOLTAG" log -q -o "$T/leak.db" --interval 250ms --duration 36s "$LEAK_PID" &
L1=$!
track_pid "$L1"
"$POOLTAG" log -q -o "$T/load.db" --interval 250ms --duration 36s "$LOAD_PID" &
L2=$!
track_pid "$L2"
for p in "$L1" "$L2"; do
    for _ in $(seq 600); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$p" 2>/dev/null && fail "pooltag log $p did not stop after --duration"
    wait "$p" || fail "pooltag log exited $?"
done

verdicts() { # verdicts LOG: "TAG POOL VERDICT" lines from --json
    "$POOLTAG" trend --json "$1" >"$T/v.json" || fail "trend --json $1 exited $?"
    json_ok "$T/v.json"
    python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["processes"]:
    for s in p["series"]:
        print("%s %s %s %s" % ("(total)" if s["total"] else s["tag"].strip(), s["pool"],
              s["verdict"], s["why"].replace(" ", "_")))' "$T/v.json"
}

verdicts "$T/leak.db" >"$T/leak.txt"
verdicts "$T/load.db" >"$T/load.txt"
echo "== leak log"; cat "$T/leak.txt"
echo "== load log"; cat "$T/load.txt"
grep -q '^Leak paged leak ' "$T/leak.txt" || fail "Leak is not a leak"
grep -q '^(total) paged leak ' "$T/leak.txt" || fail "the paged total of the leaker is not a leak"
grep -q '^Load paged load ' "$T/load.txt" || fail "Load is not load"
grep -q ' leak ' "$T/load.txt" && fail "a leak in the load-only log"
for t in Cach Conf Sess; do
    grep -qE "^$t [a-z]+ steady " "$T/leak.txt" || fail "$t is not steady in the leak log"
done

# The evidence in the table: a rate for the leak, a correlation for load.
"$POOLTAG" trend "$T/leak.db" >"$T/leak.tab" || fail "trend table"
grep -qE '^ leak +Leak +Paged .*\+[0-9.]+ (KiB|MiB)/h +100%' "$T/leak.tab" ||
    fail "no rate/never-fell evidence for Leak: $(grep Leak "$T/leak.tab")"
"$POOLTAG" trend --tag Load "$T/load.db" >"$T/load.tab" || fail "trend --tag Load"
grep -qE '^ load +Load +Paged .* [-0-9]\.[0-9][0-9]  rises' "$T/load.tab" ||
    fail "no allocation correlation for Load: $(grep Load "$T/load.tab")"

rc=0; "$POOLTAG" trend --fail-on-leak "$T/leak.db" >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--fail-on-leak on the leak log exited $rc"
rc=0; "$POOLTAG" trend --fail-on-leak "$T/load.db" >/dev/null || rc=$?
[ "$rc" = 0 ] || fail "--fail-on-leak on the load log exited $rc"
echo "trend_live: ok"
