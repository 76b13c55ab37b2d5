#!/usr/bin/env bash
# trend_synthetic — `pooltag trend` on generated counter logs with known
# answers (tests/trend_gen.py): a steady leak, a sawtooth load, a warm-up
# that plateaus and one still rising, a slow leak under a large load, noise,
# a load seen for 0.7 of a period, a constant zero, a tag that appears
# late, a process with one sample and one that exited.  The same series at
# two sampling intervals (2 s and 10 s, with jitter) must get the same
# verdicts; so must a log whose samples are still in the -wal file.  Then
# the options: --tag, --pid, --fail-on-leak, --json shape, the table order.
. "$PT_SRC/tests/cli_lib.sh"
GEN="$PT_SRC/tests/trend_gen.py"
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

check() { # check LOG EXPECT.json
    local log=$1 exp=$2 rc=0
    "$POOLTAG" trend --json "$log" >"$T/out.json" 2>"$T/err" || rc=$?
    [ "$rc" = 0 ] || fail "trend --json $log exited $rc: $(cat "$T/err")"
    json_ok "$T/out.json"
    python3 - "$T/out.json" "$exp" <<'PY' || fail "wrong verdicts for $log"
import json, sys
out = json.load(open(sys.argv[1])); exp = json.load(open(sys.argv[2]))
got = {}
for p in out["processes"]:
    for s in p["series"]:
        key = "%d %s %s" % (p["pid"], "(total)" if s["total"] else s["tag"].strip(), s["pool"])
        got[key] = s
bad = 0
for k, want in sorted(exp.items()):
    s = got.get(k)
    v = s["verdict"] if s else None
    print("%-6s %-26s want %-8s got %-8s %s" % ("ok" if v == want else "WRONG", k, want, v,
          "" if not s else "rate=%s r2=%s nondecr=%s" % (s["rate_bytes_per_hour"], s["fit_r2"], s["never_decreased"])))
    bad += v != want
# The shape of every series (docs/trend.md).
keys = {"tag", "tag_value", "total", "pool", "verdict", "why", "description", "samples",
        "span_s", "bytes_first", "bytes_last", "bytes_min", "bytes_max",
        "rate_bytes_per_hour", "rate_fit", "fit_r2", "never_decreased",
        "hours_to_max", "pool_has_max", "alloc_correlation", "troughs",
        "interval_extremes"}
for s in got.values():
    if set(s) != keys:
        print("series keys differ:", sorted(set(s) ^ keys)); bad += 1; break
# Leaks first, fastest first, in every process.
rank = {"leak": 0, "load": 1, "warm-up": 2, "steady": 3, "unknown": 4}
for p in out["processes"]:
    r = [(rank[s["verdict"]], -(s["rate_bytes_per_hour"] or 0) if s["verdict"] == "leak" else 0) for s in p["series"]]
    if r != sorted(r):
        print("series of pid %d not in order" % p["pid"]); bad += 1
m = out["summary"]
if m["series"] != sum(len(p["series"]) for p in out["processes"]):
    print("summary count wrong"); bad += 1
# The exited process says so; leaks have a time to the pool maximum.
p3 = [p for p in out["processes"] if p["pid"] == 1003][0]
if not p3["ended"] or p3["end_reason"] != "exited":
    print("process 1003 not marked exited"); bad += 1
lk = got["1001 Leak paged"]
if not (lk["hours_to_max"] and lk["hours_to_max"] > 0 and lk["pool_has_max"]):
    print("no time to max for the leak"); bad += 1
# A load or a warm-up in a pool with a maximum does not head for it.
for k in ("1001 Sawt paged", "1001 Part paged", "1001 Warm paged"):
    if k in got and (not got[k]["pool_has_max"] or got[k]["hours_to_max"] is not None):
        print("time to max for a non-leak:", k, got[k]["hours_to_max"]); bad += 1
if got["1004 Load paged"]["pool_has_max"] or got["1004 Load paged"]["hours_to_max"] is not None:
    print("a pool without maximum has a time to it"); bad += 1
if got["1004 Load paged"]["alloc_correlation"] is None:
    print("no allocation correlation for the load"); bad += 1
sys.exit(1 if bad else 0)
PY
}

for iv in 2 10; do
    python3 "$GEN" "$T/iv$iv.db" --interval $iv --jitter >"$T/exp$iv.json" ||
        fail "trend_gen.py failed"
    echo "== interval $iv s"
    check "$T/iv$iv.db" "$T/exp$iv.json"
done
# A log of format version 1 (no interval extremes) reads as before, and
# says so: interval_extremes false (true in the version-2 logs above).
python3 "$GEN" "$T/v1.db" --interval 5 --version 1 >"$T/expv1.json" || fail "gen --version 1"
echo "== format version 1"
check "$T/v1.db" "$T/expv1.json"
python3 - "$T/out.json" "$T/iv2.db" "$POOLTAG" <<'PY' || fail "interval_extremes wrong"
import json, subprocess, sys
v1 = json.load(open(sys.argv[1]))
v2 = json.loads(subprocess.run([sys.argv[3], "trend", "--json", sys.argv[2]],
                               capture_output=True, check=True).stdout)
ext = lambda o: {s["interval_extremes"] for p in o["processes"] for s in p["series"]}
sys.exit(0 if ext(v1) == {False} and ext(v2) == {True} else 1)
PY

# Same verdicts whether the samples are in the database or its -wal file.
python3 "$GEN" "$T/wal.db" --interval 5 --leave-wal >"$T/expwal.json" || fail "gen --leave-wal"
[ -s "$T/wal.db-wal" ] || fail "the generator left no -wal file"
echo "== samples only in the -wal"
check "$T/wal.db" "$T/expwal.json"
# The reader must not have changed the log (read-only).
[ -s "$T/wal.db-wal" ] || fail "trend checkpointed or removed the -wal"

L="$T/iv2.db"
# --fail-on-leak: 1 with a leak, 0 without; the table goes to stdout.
rc=0; "$POOLTAG" trend --fail-on-leak "$L" >"$T/t.txt" 2>"$T/e" || rc=$?
[ "$rc" = 1 ] || fail "--fail-on-leak with leaks exited $rc"
[ ! -s "$T/e" ] || fail "stderr not empty: $(cat "$T/e")"
rc=0; "$POOLTAG" trend --fail-on-leak --pid 1004 "$L" >"$T/t4.txt" || rc=$?
[ "$rc" = 0 ] || fail "--fail-on-leak on the load-only process exited $rc"
rc=0; "$POOLTAG" trend --fail-on-leak --tag 'Saw?' "$L" >"$T/ts.txt" || rc=$?
[ "$rc" = 0 ] || fail "--fail-on-leak --tag Saw? exited $rc"
rc=0; "$POOLTAG" trend --fail-on-leak --tag 'L*' "$L" >"$T/tl.txt" || rc=$?
[ "$rc" = 1 ] || fail "--fail-on-leak --tag L* exited $rc"
# --tag: only matching tags, no totals; --pid: only that process.
grep -q '(total)' "$T/ts.txt" && fail "--tag still shows the pool totals"
[ "$(grep -c '^ load  *Sawt' "$T/ts.txt")" = 1 ] || fail "--tag Saw? does not show Sawt: $(cat "$T/ts.txt")"
grep -qE '^ (leak|load|warm-up|steady|unknown) +(Leak|Warm|Stdy)' "$T/ts.txt" && fail "--tag Saw? shows other tags"
grep -q '^Process 1004 (loadonly)' "$T/t4.txt" || fail "--pid 1004: no process header"
grep -q '^Process 100[123]' "$T/t4.txt" && fail "--pid 1004 shows other processes"
# Table: the process with the fastest leak first, its leaks on top, and the
# descriptions from the tag database.
first_proc=$(grep -m1 '^Process' "$T/t.txt" | awk '{print $2}')
[ "$first_proc" = 1001 ] || fail "first process is $first_proc, not the fastest leaker"
# The pool total heads its process when one of its tags leaks; then the
# leaking tags, fastest first.
awk '/^Process 1001/{getline; getline; print $1, $2; exit}' "$T/t.txt" | grep -q '^leak (total)$' ||
    fail "first row of 1001 is not its leaking pool total: $(sed -n '1,6p' "$T/t.txt")"
awk '/^Process 1001/{getline; getline; getline; print $1, $2; exit}' "$T/t.txt" | grep -q '^leak Late$' ||
    fail "first tag row of 1001 is not the fastest leak: $(sed -n '1,6p' "$T/t.txt")"
grep -q 'Leak .*notmyfault' "$T/t.txt" || fail "no description from pooltag.txt for Leak"
grep -q 'exited)' "$T/t.txt" || fail "exited process not marked in its header"
# --help, bad options.
"$POOLTAG" trend --help | grep -q -- '--fail-on-leak' || fail "--help lacks --fail-on-leak"
expect_error trend "--pid" "$POOLTAG" trend --pid abc "$L"
expect_error trend "no process with PID 4242" "$POOLTAG" trend --pid 4242 "$L"
expect_error trend "no tag matches" "$POOLTAG" trend --tag 'Q*' "$L"
expect_error trend "unknown option" "$POOLTAG" trend --bogus "$L"
expect_error trend "no log given" "$POOLTAG" trend
# Text from a hostile log (escape sequences, newlines, bytes that are not
# UTF-8) cannot reach the terminal raw, nor break the JSON.
cp "$L" "$T/esc.db"
python3 - "$T/esc.db" <<'PY' || fail "cannot edit esc.db"
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
d.execute("UPDATE process SET comm = ?, end_reason = ?, end_ns = 1 WHERE pid = 1004",
          (b"ev\x1b]0;x\x07il\n", b"gone\x1b[2J\xff"))
d.execute("UPDATE meta SET value = ? WHERE key = 'host'", (b"h\x1b[31m\r",))
d.execute("UPDATE tag SET description = ? WHERE text = 'Stdy'", (b"d\x1b[1m\x00x",))
d.commit()
PY
"$POOLTAG" trend "$T/esc.db" >"$T/esc.txt" || fail "trend on esc.db failed"
LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$T/esc.txt" && fail "control characters from the log reach the terminal"
grep -qF 'Process 1004 (ev\x1b]0;x\x07il\x0a)' "$T/esc.txt" || fail "comm not shown with \\xNN for control characters"
grep -qF 'gone\x1b[2J\xff)' "$T/esc.txt" || fail "end reason not shown with \\xNN escapes"
grep -qF ', host h\x1b[31m\x0d' "$T/esc.txt" || fail "host not shown with \\xNN escapes"
"$POOLTAG" trend --json "$T/esc.db" >"$T/esc.json" || fail "trend --json on esc.db failed"
json_ok "$T/esc.json"
# Options after the log, as in every other verb; a missing value is named.
"$POOLTAG" trend "$L" --pid 1004 --json >"$T/after.json" || fail "options after the log refused"
json_ok "$T/after.json"
grep -q '"pid": 1004' "$T/after.json" || fail "--pid after the log ignored"
expect_error trend "needs a value" "$POOLTAG" trend "$L" --tag
echo "trend_synthetic: ok"
