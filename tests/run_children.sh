#!/usr/bin/env bash
# Children: without --follow-children only CMD is tagged (a python3 that
# `sh -c` starts has no pooltag segment, and no preload in LD_PRELOAD);
# with it, the child is tagged too, with its own segment and its own
# counters.
. "$(dirname "$0")/run_lib.sh"
need_preload
need_python

# start_tree NAME OPTIONS...: `pooltag run OPTIONS -- sh -c 'python3 ...; :'`
# (the ': ' keeps sh from exec'ing python3 in its own PID).  The python3
# child writes its PID to $T/NAME.pid and its LD_PRELOAD to $T/NAME.env,
# allocates about 20 MB and sleeps (30 s at most).  Sets SHPID, CHILD.
start_tree() {
    local name=$1
    shift
    "$POOLTAG" run "$@" -- sh -c '"$1" -c "
import os, sys, time
keep = [bytes(1000) for _ in range(20000)]
open(sys.argv[2], \"w\").write(os.environ.get(\"LD_PRELOAD\", \"\"))
open(sys.argv[1], \"w\").write(str(os.getpid()))
time.sleep(30)" "$2" "$3"; :' sh "$PY" "$T/$name.pid" "$T/$name.env" &
    SHPID=$!
    track_pid "$SHPID"
    wait_file "$T/$name.pid"
    CHILD=$(cat "$T/$name.pid")
    track_pid "$CHILD"
    [ "$CHILD" != "$SHPID" ] || fail "$name: python3 ran in sh's PID"
    [ "$(cat /proc/$CHILD/comm)" = python3 ] || fail "$name: $CHILD is not python3"
}

start_tree nofollow
is_tagged "$SHPID" || fail "without --follow-children: sh ($SHPID) itself is not tagged"
is_tagged "$CHILD" && fail "without --follow-children: the child python3 ($CHILD) is tagged"
grep -q libpooltag-preload "$T/nofollow.env" &&
    fail "without --follow-children: the child's LD_PRELOAD has the preload: $(cat "$T/nofollow.env")"
rc=0; timeout 20 "$POOLTAG" used "$CHILD" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'is not tagged' "$T/err" || fail "used on the untagged child: $rc $(cat "$T/err")"
kill "$CHILD" "$SHPID"; wait "$SHPID" 2>/dev/null

start_tree follow --follow-children
is_tagged "$SHPID" || fail "with --follow-children: sh ($SHPID) is not tagged"
is_tagged "$CHILD" || fail "with --follow-children: the child python3 ($CHILD) is not tagged"
grep -q libpooltag-preload "$T/follow.env" || fail "the child's LD_PRELOAD: $(cat "$T/follow.env")"
# Its own segment: the child's ~20 MB is in its counters, not in sh's.
timeout 20 "$POOLTAG" used --json "$CHILD" >"$T/c.json" || fail "used child: exit $?"
timeout 20 "$POOLTAG" used --json "$SHPID" >"$T/s.json" || fail "used sh: exit $?"
"$PY" -c '
import json, sys
def paged(f):
    return sum(t["paged"]["bytes"] for t in json.load(open(f))["tags"])
c, s = paged(sys.argv[1]), paged(sys.argv[2])
assert c >= 20000000, ("child", c)
assert s < 10000000, ("sh", s)
' "$T/c.json" "$T/s.json" || fail "child and sh counters are not separate"
kill "$CHILD" "$SHPID"; wait "$SHPID" 2>/dev/null
echo "run children tests passed"
