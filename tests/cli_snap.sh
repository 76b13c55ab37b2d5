#!/usr/bin/env bash
# `pooltag snap -o FILE PID` and reading the file back: one line saying what
# was written, an atomic 0600 file, the same report on every read, figures
# frozen at snapshot time, still readable after the process is gone.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault

start_nmf --leak paged --rate 512K
pid=$NMF_PID
wait_tagged "$pid" Leak

s=$T/a.ptsnap
timeout 20 "$POOLTAG" snap -o "$s" "$pid" >"$T/out" 2>"$T/err" || fail "snap exit $?: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" = 1 ] || fail "snap printed $(wc -l <"$T/out") lines"
grep -Eq "^wrote snapshot of process $pid \(notmyfault\) to $s: [0-9]+ tags, [0-9]+ segment bytes$" "$T/out" ||
    fail "snap line: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "snap wrote to stderr"
[ -f "$s" ] || fail "no snapshot file"
[ "$(stat -c %a "$s")" = 600 ] || fail "snapshot mode $(stat -c %a "$s")"
[ "$(find "$T" -name 'a.ptsnap.tmp*' | wc -l)" = 0 ] || fail "temporary file left"
head -c 8 "$s" | cmp -s - <(printf 'PTSNAP\0\0') || fail "snapshot magic"

# The same file gives the same report, every time, with every verb.
"$POOLTAG" used "$s" >"$T/u1" || fail "used on snapshot"
"$POOLTAG" used "$s" >"$T/u2" || fail "used on snapshot (2)"
cmp -s "$T/u1" "$T/u2" || fail "two reads of one snapshot differ"
grep -q "^   snapshot $s of process $pid (notmyfault), taken " "$T/u1" || fail "snapshot source line"
[ "$(first_row "$T/u1")" = Leak ] || {
    # Leak is paged here: under the nonpaged sort, Conf (2304 B nonpaged) leads.
    [ "$(first_row "$T/u1")" = Conf ] || fail "first row $(first_row "$T/u1")"
}
"$POOLTAG" used --sort=paged "$s" >"$T/up" || fail "used --sort=paged on snapshot"
"$POOLTAG" used --json "$s" >"$T/j1" || fail "used --json on snapshot"
json_ok "$T/j1"
"$POOLTAG" vm "$s" >"$T/vm" || fail "vm on snapshot"
grep -q '^    Resident (VmRSS): *[1-9]' "$T/vm" || fail "snapshot lost the process figures"
"$POOLTAG" vm --json "$s" >"$T/vmj" || fail "vm --json on snapshot"
json_ok "$T/vmj"

# Frozen: the live process keeps leaking, the snapshot does not.
sleep 1
timeout 20 "$POOLTAG" used --json "$pid" >"$T/live" || fail "live used"
python3 - "$T/j1" "$T/live" "$T/vmj" "$pid" <<'PY' || fail "snapshot content"
import json, sys
snap, live, vm = (json.load(open(f)) for f in sys.argv[1:4])
pid = int(sys.argv[4])
t = {r["tag"]: r for r in snap["tags"]}
l = {r["tag"]: r for r in live["tags"]}
assert snap["source"]["kind"] == "snapshot" and snap["source"]["pid"] == pid
assert t["Cach"]["paged"]["bytes"] == 262144 and t["Conf"]["nonpaged"]["bytes"] == 2304
assert 0 < t["Leak"]["paged"]["bytes"] < l["Leak"]["paged"]["bytes"], (t["Leak"], l["Leak"])
assert snap["source"]["taken_ns"] < live["source"]["taken_ns"]
assert vm["process"] is not None and vm["process"]["rss_kb"] > 0
PY

# The process ends; the snapshot reads as before.
kill "$pid"
wait "$pid" 2>/dev/null
"$POOLTAG" used "$s" >"$T/u3" || fail "used on snapshot after exit"
cmp -s "$T/u1" "$T/u3" || fail "snapshot report changed after the process exited"

# Default name, --json report.
start_nmf
pid2=$NMF_PID
(cd "$T" && timeout 20 "$POOLTAG" snap "$pid2" >"$T/out2") || fail "snap without -o"
ls "$T"/pooltag-"$pid2"-*.ptsnap >/dev/null 2>&1 || fail "no default-named snapshot"
timeout 20 "$POOLTAG" snap --json -o "$T/b.ptsnap" "$pid2" >"$T/sj" || fail "snap --json"
json_ok "$T/sj"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["file"].endswith("b.ptsnap") and d["tags"] >= 3' "$T/sj" ||
    fail "snap --json content"

# Cannot write: an error, and nothing left behind.
expect_error snap "cannot create /nonexistent-dir/x.ptsnap" "$POOLTAG" snap -o /nonexistent-dir/x.ptsnap "$pid2"
# A file is not a PID; an untagged process writes no file.
expect_error snap "is not a PID" "$POOLTAG" snap -o "$T/c.ptsnap" "$s"
sleep 30 &
sp=$!
track_pid "$sp"
expect_error snap "is not tagged" "$POOLTAG" snap -o "$T/c.ptsnap" "$sp"
[ ! -e "$T/c.ptsnap" ] || fail "a snapshot was written for an untagged process"
echo "cli snap tests passed"
