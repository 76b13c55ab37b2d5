#!/usr/bin/env bash
# Whose processes `pooltag serve` exports (issue 9, item 10).  Root runs a
# tagged process, uid 65534 runs one, and a third runs with real uid 65534
# but effective and saved uid 0.  serve as root exports only root's own
# (not the other two), --all-users exports all three, serve as uid 65534
# exports only uid 65534's.  Needs root (to be two users).
. "$(dirname "$0")/serve_lib.sh"
need_notmyfault
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv" >&2
    exit 77
fi
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! "${NOBODY[@]}" test -x "$NOTMYFAULT" || ! "${NOBODY[@]}" test -x "$POOLTAG"; then
    echo "SKIP: the build tree is not readable by other users" >&2
    exit 77
fi

start_nmf --leak paged --rate 64K
R=$NMF_PID
# setpriv execs notmyfault: $! is notmyfault itself.
"${NOBODY[@]}" "$NOTMYFAULT" --quiet --leak paged --rate 64K &
N=$!
track_pid "$N"
setpriv --ruid=65534 "$NOTMYFAULT" --quiet &
M=$!
track_pid "$M"
wait_tagged "$R" Leak
wait_tagged "$N" Leak
wait_tagged "$M"
grep -q '^Uid:[[:space:]]*65534[[:space:]]*0[[:space:]]*0' "/proc/$M/status" ||
    fail "process $M: unexpected uids: $(grep ^Uid: "/proc/$M/status")"

# pids_served: the PIDs of /api/v1/processes, one per line; /metrics is
# fetched too (into $T/m.txt) for check.
pids_served() {
    http GET "${URL}api/v1/processes" >"$T/p.json" || fail "GET /api/v1/processes"
    status_is 200
    http GET "${URL}metrics" >"$T/m.txt" || fail "GET /metrics"
    status_is 200
    python3 - "$T" <<'PY' || fail "served PIDs"
import json, sys
js = sorted({p["pid"] for p in json.load(open(sys.argv[1] + "/p.json"))["processes"]})
print("\n".join(str(p) for p in js))
PY
}
# check WHO PIDS-LIST WANT-PID... NOT NOT-PID...
check() {
    local who=$1 list=$2 mode=want p
    shift 2
    for p in "$@"; do
        if [ "$p" = not ]; then mode=not; continue; fi
        if [ $mode = want ]; then
            grep -qx "$p" <<<"$list" || fail "$who: process $p not exported (got: $(echo $list))"
            grep -q "pid=\"$p\"" "$T/m.txt" || fail "$who: process $p not in /metrics"
        else
            grep -qx "$p" <<<"$list" && fail "$who: exported process $p of another user (got: $(echo $list))"
            grep -q "pid=\"$p\"" "$T/m.txt" && fail "$who: process $p of another user in /metrics"
        fi
    done
    return 0
}

start_serve --listen 127.0.0.1:0
check "serve as root" "$(pids_served)" "$R" not "$N" "$M"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

start_serve --listen 127.0.0.1:0 --all-users
check "serve --all-users as root" "$(pids_served)" "$R" "$N" "$M"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

start_serve_cmd "${NOBODY[@]}" "$POOLTAG" serve --listen 127.0.0.1:0
check "serve as uid 65534" "$(pids_served)" "$N" not "$R" "$M"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null

"$POOLTAG" serve --help | grep -q -- '--all-users' || fail "--help lacks --all-users"
echo "serve users tests passed"
