#!/usr/bin/env bash
# pooltag lm: the modules of fx_host (with both plugins loaded) read live,
# without and with the preload, and from a snapshot of the preload run.
# Ranges agree with /proc/PID/maps, build-ids with readelf -n, the
# fixtures (built with -g) have debuginfo, and under the preload each
# module shows its automatic tag, the same live and in the snapshot.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures

# check_live JSON PID: the fixtures and libc are listed with the range
# maps shows and the build-id of their file.
check_live() {
    local json=$1 pid=$2
    python3 - "$json" "$pid" <<'PY' || fail "lm $2: $(head -c 2000 "$1")"
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
pid = sys.argv[2]
mods = {m["name"]: m for m in d["modules"]}
want = ["fx_host", "libfx_tagtwo.so", "libfx_seapi.so", "libfx_plugin_good.so",
        "libfx_plugin_leaky.so", "libc.so.6"]
for w in want:
    assert w in mods, "missing %s in %s" % (w, sorted(mods))
# every range from maps: lowest start, highest end of the file's mappings
spans = {}
for line in open("/proc/%s/maps" % pid):
    f = line.split()
    if len(f) < 6 or not f[5].startswith("/"):
        continue
    a, b = (int(x, 16) for x in f[0].split("-"))
    s = spans.setdefault(f[5], [a, b])
    s[0], s[1] = min(s[0], a), max(s[1], b)
for w in want:
    m = mods[w]
    a, b = int(m["start"], 16), int(m["end"], 16)
    assert 0 < a < b, "%s range %x-%x" % (w, a, b)
    assert spans.get(m["path"]) == [a, b], "%s: lm %x-%x, maps %r" % (w, a, b, spans.get(m["path"]))
    out = subprocess.run(["readelf", "-n", m["path"]], capture_output=True, text=True).stdout
    bid = [l.split()[-1] for l in out.splitlines() if "Build ID:" in l]
    assert bid and bid[0] == m["build_id"], "%s build-id %s, readelf %s" % (w, m["build_id"], bid)
for w in want[:5]:
    assert mods[w]["debuginfo"] is True, "%s: no debuginfo found: %r" % (w, mods[w])
# sorted by address, no overlaps
starts = [int(m["start"], 16) for m in d["modules"]]
assert starts == sorted(starts), "not sorted by address"
PY
}

# 1. Without the preload (fx_host is linked with libpooltag).
start_host
pid=$HOST_PID
timeout 30 "$POOLTAG" lm --json "$pid" >"$T/plain.json" || fail "lm --json $pid"
json_ok "$T/plain.json"
check_live "$T/plain.json" "$pid"
timeout 30 "$POOLTAG" lm "$pid" >"$T/plain.txt" || fail "lm $pid"
tt=$(build_id "$F/libfx_tagtwo.so")
grep -E "^[0-9a-f]{16} [0-9a-f]{16} libfx_tagtwo.so .* file +$tt +$F/libfx_tagtwo.so$" "$T/plain.txt" >/dev/null ||
    fail "lm table row of libfx_tagtwo.so: $(cat "$T/plain.txt")"
kill "$pid"

# 2. Under the preload: the module table adds tags.
start_host "$POOLTAG" run --
pid=$HOST_PID
timeout 30 "$POOLTAG" lm --json "$pid" >"$T/pre.json" || fail "lm --json $pid (preload)"
check_live "$T/pre.json" "$pid"
jget "$T/pre.json" '[m["name"] for m in d["modules"]]' | grep -q "libpooltag-preload.so" ||
    fail "preload library not listed"
jget "$T/pre.json" 'd["module_table"]' | grep -qx True || fail "no module table seen"
for m in libfx_tagtwo.so libfx_plugin_leaky.so libfx_seapi.so; do
    tag=$(jget "$T/pre.json" "[x['tag'] for x in d['modules'] if x['name']=='$m'][0]")
    [ -n "$tag" ] || fail "no tag for $m under the preload"
done

# 3. A snapshot of the preload process lists the same modules with the
# same tags and build-ids.
timeout 30 "$POOLTAG" snap -o "$T/s.ptsnap" "$pid" >/dev/null || fail "snap"
kill "$pid"
wait "$pid" 2>/dev/null
timeout 30 "$POOLTAG" lm --json "$T/s.ptsnap" >"$T/snap.json" || fail "lm snapshot"
json_ok "$T/snap.json"
python3 - "$T/pre.json" "$T/snap.json" <<'PY' || fail "snapshot modules differ from live ones"
import json, sys
live = {m["name"]: m for m in json.load(open(sys.argv[1]))["modules"]}
snap = json.load(open(sys.argv[2]))
assert snap["source"]["kind"] == "snapshot"
byname = {}
for m in snap["modules"]:
    byname.setdefault(m["path"].rsplit("/", 1)[-1], m)
for name in ("fx_host", "libfx_tagtwo.so", "libfx_seapi.so", "libfx_plugin_good.so",
             "libfx_plugin_leaky.so"):
    s, l = byname[name], live[name]
    assert s["tag"] and s["tag"] == l["tag"], "%s tag %r vs live %r" % (name, s["tag"], l["tag"])
    assert s["build_id"] == l["build_id"], name
    assert s["start"] == l["start"], "%s start %s vs %s" % (name, s["start"], l["start"])
    assert s["debuginfo"] is True, name
PY
timeout 30 "$POOLTAG" lm "$T/s.ptsnap" >"$T/snap.txt" || fail "lm snapshot table"
grep -q "^   snapshot $T/s.ptsnap of process $pid (fx_host)" "$T/snap.txt" || fail "snapshot header: $(head -2 "$T/snap.txt")"
grep -E " libfx_plugin_leaky.so +[^ -]" "$T/snap.txt" >/dev/null || fail "no tag column: $(cat "$T/snap.txt")"

# 4. A segment image without a module list: one line, exit 2.
python3 - "$T/s.ptsnap" "$T/nomod.seg" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, ln = struct.unpack_from("<QQ", d, 104)
seg = bytearray(d[off:off + ln])
struct.pack_into("<I", seg, 460, 0)   # header.modules_used = 0
open(sys.argv[2], "wb").write(seg)
PY
expect_error lm "has no module list" "$POOLTAG" lm "$T/nomod.seg"
expect_error ln "has no module list" "$POOLTAG" ln "$T/nomod.seg" 0x1000

# 5. Errors and edge cases.
expect_error lm "missing SOURCE" "$POOLTAG" lm
expect_error lm "too many arguments" "$POOLTAG" lm 1 2
expect_error lm "unknown option '--frob'" "$POOLTAG" lm --frob 1
true &
gone=$!
wait "$gone"
expect_error lm "no process with PID $gone" "$POOLTAG" lm "$gone"
expect_error lm "no process with PID 99999999999" "$POOLTAG" lm 99999999999
expect_error lm "$T/none: no such file" "$POOLTAG" lm "$T/none"
echo "not a snapshot" >"$T/text"
expect_error lm "not a pooltag snapshot" "$POOLTAG" lm "$T/text"
# A kernel thread maps no files: nothing listed, exit 1.
kt=$(ps -eo pid=,comm= | awk '$2=="kthreadd"{print $1; exit}')
if [ -n "$kt" ] && [ -r "/proc/$kt/maps" ]; then
    rc=0
    "$POOLTAG" lm "$kt" >"$T/kt" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "lm of kernel thread $kt: exit $rc: $(cat "$T/kt")"
fi
"$POOLTAG" lm --help | grep -q '^Usage: pooltag lm ' || fail "lm --help"
"$POOLTAG" --help | grep -qE '^  lm ' || fail "lm missing from pooltag --help"
echo "lm_live: ok"
