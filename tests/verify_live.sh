#!/usr/bin/env bash
# pooltag verify end to end with the real runtime: `pooltag run --verify`
# of a plugin that the program dlopens later (tests/rt_trace_plug.c: 5
# blocks of 100..104 bytes, the last 2 freed).  While the program waits,
# `pooltag verify PID` lists exactly the 3 outstanding blocks, with the
# plugin's plug_work as their caller, and `--address` of the freed block
# finds its free and its allocation, newest first, each with its stack.
# At the end the program dlcloses the plugin: its 3 blocks are reported
# as leaks (--fail-on-leak: status 1).
. "$(dirname "$0")/run_lib.sh"
need_preload
unset PT_HIT PT_HIT_TRAP PT_VERIFY PT_FAIL_ON_LEAK PT_STACK_DEPTH
host="$PT_BUILD/tests/verify_live_host"
plug="$PT_BUILD/tests/librt_trace_plug.so"
mkfifo "$T/in"
"$POOLTAG" run --verify 'librt_trace_plug*' --fail-on-leak -- "$host" "$plug" \
    <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in" # the program's standard input, open until we close it
for _ in $(seq 200); do
    grep -q '^ready ' "$T/out" 2>/dev/null && break
    sleep 0.05
done
freed=$(sed -n 's/^ready //p' "$T/out")
[ -n "$freed" ] || fail "the program did not start: $(cat "$T/err")"

"$POOLTAG" verify "$pid" --json >"$T/v.json" || fail "verify exit $?: $(head -c 400 "$T/v.json")"
python3 - "$T/v.json" <<'PY' || fail "verify: $(head -c 1500 "$T/v.json")"
import json, sys
d = json.load(open(sys.argv[1]))
mods = [m for m in d["modules"] if m["path"].endswith("/librt_trace_plug.so")]
assert len(mods) == 1, [m["path"] for m in d["modules"]]
m = mods[0]
assert m["verified"] and not m["unloaded"], m
assert (m["attempted"], m["succeeded"], m["failed"], m["frees"]) == (5, 5, 0, 2), m
assert m["untagged"] == 5, m
p = m["pools"]["paged"]
assert (p["current_allocations"], p["current_bytes"]) == (3, 303), p
assert (p["peak_allocations"], p["peak_bytes"]) == (5, 510), p
sizes = sorted(b["size"] for b in m["outstanding"])
assert sizes == [100, 101, 102], sizes
for b in m["outstanding"]:
    assert b["caller"] and b["caller"].startswith("librt_trace_plug.so!plug_work+0x"), b
    assert not b["leaked"], b
assert d["leaks"] == [], d["leaks"]
PY

"$POOLTAG" verify "$pid" --address "$freed" --json >"$T/a.json" || fail "verify --address exit $?"
python3 - "$T/a.json" "$freed" <<'PY' || fail "verify --address: $(head -c 1500 "$T/a.json")"
import json, sys
d = json.load(open(sys.argv[1]))
addr = int(sys.argv[2], 16)
recs = d["records"]
assert [r["op"] for r in recs] == ["free", "alloc"], [(r["op"], r["addr"]) for r in recs]
assert recs[0]["index"] > recs[1]["index"], recs
for r in recs:
    assert int(r["addr"], 16) == addr and r["size"] == 104, r
    assert r["frames"] and r["frames"][0].get("symbol") == "plug_work", r["frames"][:2]
    assert any(f.get("symbol") == "main" for f in r["frames"]), r["frames"]
assert not d["log_too_short"], d
assert "outstanding" not in d or d["outstanding"] is None, d
PY

# dlclose with 3 blocks outstanding: reported at unload, exit status 1.
exec 7>&-
rc=0
wait "$pid" || rc=$?
[ "$rc" = 1 ] || fail "--fail-on-leak: exit $rc, want 1: $(cat "$T/err")"
grep -Eq '^pooltag: .*/librt_trace_plug\.so unloaded with 3 blocks \(303 bytes\) outstanding$' "$T/err" ||
    fail "no leak report at dlclose: $(cat "$T/err")"
echo "verify live tests passed"
