#!/usr/bin/env bash
# Issue 9: live `lm` lists the kernel's vDSO as linux-vdso.so.1, as the
# snapshot view (the runtime's module table) does: same name and start,
# the module table's build-id and tag under the preload; ln names an
# address in it.  An untagged process shows it too.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures

vdso_start() { awk '$NF=="[vdso]"{split($1,a,"-"); print a[1]; exit}' "/proc/$1/maps"; }

sleep 30 &
plain=$!
track_pid "$plain"
# Until the child has exec'd sleep, its maps are the forked shell's: the
# vDSO moves at exec (seen: a start read before it, lm's after).
for _ in $(seq 200); do
    case $(readlink "/proc/$plain/exe" 2>/dev/null) in */sleep) break ;; esac
    sleep 0.01
done
start=$(vdso_start "$plain")
[ -n "$start" ] || { echo "SKIP: no [vdso] mapping on this system" >&2; exit 77; }
timeout 30 "$POOLTAG" lm "$plain" >"$T/plain" || fail "lm $plain"
grep -qE "^0*$start [0-9a-f]{16} linux-vdso\.so\.1 .* linux-vdso\.so\.1  \[provided by the kernel" "$T/plain" ||
    fail "live lm of an untagged process lacks linux-vdso.so.1: $(cat "$T/plain")"

start_host "$POOLTAG" run --
start=$(vdso_start "$HOST_PID")
timeout 30 "$POOLTAG" snap -o "$T/s.ptsnap" "$HOST_PID" >/dev/null || fail "snap"
timeout 30 "$POOLTAG" lm --json "$HOST_PID" >"$T/live.json" || fail "lm --json live"
timeout 30 "$POOLTAG" lm --json "$T/s.ptsnap" >"$T/snap.json" || fail "lm --json snapshot"
python3 - "$T/live.json" "$T/snap.json" "$start" <<'PY' || fail "live and snapshot vDSO rows differ"
import json, sys
live, snap = (json.load(open(f)) for f in sys.argv[1:3])
want = int(sys.argv[3], 16)
def vdso(d):
    rows = [m for m in d["modules"] if m["name"] == "linux-vdso.so.1"]
    assert len(rows) == 1, rows
    return rows[0]
l, s = vdso(live), vdso(snap)
assert int(l["start"], 16) == want == int(s["start"], 16), (l, s, want)
assert l["build_id"] == s["build_id"] and l["build_id"], (l, s)
assert l["tag"] == s["tag"] and l["path"] == s["path"] == "linux-vdso.so.1", (l, s)
PY
timeout 30 "$POOLTAG" ln "$HOST_PID" "0x$start" >"$T/ln" || fail "ln in the vDSO: exit $?"
head -1 "$T/ln" | grep -q "linux-vdso\.so\.1+0x0" || fail "ln in the vDSO: $(cat "$T/ln")"
echo "lm_vdso: ok"
