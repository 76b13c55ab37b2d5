#!/usr/bin/env bash
# `pooltag serve` /metrics against live notmyfault processes: valid text
# format (promtool check metrics) and OpenMetrics when asked; a leaking and
# a loaded process, and one whose command name holds a quote, a backslash,
# a tab and a byte that is not UTF-8 (escaped, read back exactly); values agree with `pooltag
# used --json` read just before and after; the pool totals are the sums of
# the tag series; a process that exits disappears; --top N bounds the tag
# series (N + sticky ones, at most 2N, plus "other") while every counter,
# other's included, never decreases although tags move in and out.
# Issue 15: the trailing window's extremes (pooltag_pool_{min,max}_bytes,
# pooltag_process_pool_{min,max}_bytes) hold every scrape's value
# (min <= value <= max), the Load tag's minimum comes back to ~0 within
# --window while its instant value need not, "other" has none, and bad
# --window/--sub values are one-line errors with exit status 2.
. "$(dirname "$0")/serve_lib.sh"
need_notmyfault
command -v promtool >/dev/null || { echo "SKIP: promtool not installed" >&2; exit 77; }
export PYTHONPATH=$PT_SRC/tests

# Bad --window / --sub values: one line, exit 2, before any listening.
for bad in "--window 0" "--window 0.5" "--window 25h" "--window x" "--sub 0" \
           "--sub 0.5ms" "--sub 11s" "--sub 1y" "--window 1s --sub 100ms" "--sub 6s"; do
    # shellcheck disable=SC2086
    "$POOLTAG" serve --listen 127.0.0.1:0 $bad >"$T/bad.out" 2>"$T/bad.err"
    rc=$?
    [ "$rc" = 2 ] || fail "serve $bad: exit $rc, expected 2"
    [ "$(wc -l <"$T/bad.err")" = 1 ] || fail "serve $bad: not one line: $(cat "$T/bad.err")"
    grep -q '^pooltag serve: .*--\(window\|sub\)' "$T/bad.err" || fail "serve $bad: $(cat "$T/bad.err")"
    [ -s "$T/bad.out" ] && fail "serve $bad wrote to stdout"
done
"$POOLTAG" serve --help >"$T/help.out" || fail "serve --help exit $?"
grep -q -- '--window W' "$T/help.out" && grep -q -- '--sub T' "$T/help.out" ||
    fail "--help lacks --window/--sub"

start_nmf --leak paged --rate 256K
A=$NMF_PID
start_nmf --load --period 4 --requests 32
B=$NMF_PID
weird=$T/$'q"b\\\t\xff'
cp "$NOTMYFAULT" "$weird"
"$weird" --quiet &
C=$!
track_pid "$C"
wait_tagged "$A" Leak
wait_tagged "$B" Load
wait_tagged "$C"

start_serve --listen 127.0.0.1:0
"$POOLTAG" used --json "$A" >"$T/before.json" || fail "used before"
http GET "${URL}metrics" >"$T/m.txt" || fail "GET /metrics"
"$POOLTAG" used --json "$A" >"$T/after.json" || fail "used after"
status_is 200
grep -q '^200 text/plain; version=0.0.4; charset=utf-8$' "$T/http.status" ||
    fail "content type $(cat "$T/http.status")"
promtool check metrics <"$T/m.txt" || fail "promtool check metrics: $(head -5 "$T/m.txt")"

python3 - "$T" "$A" "$B" "$C" <<'PY' || fail "metrics content"
import json, sys
from serve_parse import parse
T, A, B, C = sys.argv[1:]
types, samples = parse(open(T + "/m.txt").read())
def val(name, **lab):
    got = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in lab.items())]
    assert len(got) == 1, (name, lab, got)
    return got[0]
for n in ["pooltag_pool_bytes", "pooltag_pool_blocks", "pooltag_process_resident_bytes",
          "pooltag_pool_min_bytes", "pooltag_pool_max_bytes",
          "pooltag_process_pool_min_bytes", "pooltag_process_pool_max_bytes"]:
    assert types[n] == "gauge", n
# The window's extremes hold the scrape's value, for every series; "other"
# has none, every member row and pool has both.
def extremes_hold(samples):
    got = {}
    for n, l, v in samples:
        got[(n, tuple(sorted(l.items())))] = v
    checked = 0
    for (n, lab), v in got.items():
        if n not in ("pooltag_pool_bytes", "pooltag_process_pool_bytes"):
            continue
        base = n[:-len("_bytes")]
        lo, hi = got.get((base + "_min_bytes", lab)), got.get((base + "_max_bytes", lab))
        if dict(lab).get("tag") == "other":
            assert lo is None and hi is None, ("extremes for other", lab)
            continue
        assert lo is not None and hi is not None, ("no extremes", n, lab)
        assert lo <= v <= hi, (n, lab, lo, v, hi)
        checked += 1
    return checked
assert extremes_hold(samples) > 10
for n in ["pooltag_allocs_total", "pooltag_frees_total", "pooltag_failures_total"]:
    assert types[n] == "counter", n
before, after = (json.load(open(T + f)) for f in ("/before.json", "/after.json"))
def used(d, tag, pool, key):
    return [t for t in d["tags"] if t["tag"] == tag][0][pool][key]
# The leak: between the two readings of `pooltag used`.
for metric, key in [("pooltag_pool_bytes", "bytes"), ("pooltag_allocs_total", "allocs"),
                    ("pooltag_pool_blocks", "blocks")]:
    v = val(metric, pid=A, tag="Leak", pool="paged")
    lo, hi = used(before, "Leak", "paged", key), used(after, "Leak", "paged", key)
    assert lo <= v <= hi, (metric, lo, v, hi)
assert val("pooltag_pool_bytes", pid=A, tag="Cach", pool="paged") == 262144
assert val("pooltag_pool_bytes", pid=A, tag="Conf", pool="nonpaged") == 2304
assert val("pooltag_frees_total", pid=A, tag="Leak", pool="paged") == 0
assert val("pooltag_process_resident_bytes", pid=A, comm="notmyfault") > 1 << 20
assert val("pooltag_process_pool_limit_bytes", pid=A, pool="nonpaged") > 0
# Pool totals are the sums of the tag series (other included), per process.
pids = {l["pid"] for n, l, v in samples if n == "pooltag_pool_bytes"}
assert {A, B, C} <= pids, pids
for pid in pids:
    for pool in ("paged", "nonpaged"):
        s = sum(v for n, l, v in samples if n == "pooltag_pool_bytes" and l["pid"] == pid and l["pool"] == pool)
        assert s == val("pooltag_process_pool_bytes", pid=pid, pool=pool), (pid, pool, s)
assert val("pooltag_pool_bytes", pid=B, tag="Cach", pool="paged") == 262144
assert any(n == "pooltag_allocs_total" and l["pid"] == B and l["tag"] == "Load" for n, l, v in samples)
# The command name with a quote, a backslash, a tab and a byte that is not
# UTF-8: the tab and the byte as the text \xNN, then escaped for the wire.
comms = {l["comm"] for n, l, v in samples if l.get("pid") == C}
assert comms == {'q"b\\' + '\\x09' + '\\xff'}, comms
assert val("pooltag_processes") >= 3
PY
grep -qF 'comm="q\"b\\\\x09\\xff"' "$T/m.txt" || fail "escaped comm not on the wire: $(grep -m1 "pid=\"$C\"" "$T/m.txt")"

# OpenMetrics, with the Accept header Prometheus sends.
OM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
http GET "${URL}metrics" "$OM_ACCEPT" >"$T/om.txt" || fail "GET OpenMetrics"
grep -q '^200 application/openmetrics-text; version=1.0.0; charset=utf-8$' "$T/http.status" ||
    fail "OpenMetrics content type: $(cat "$T/http.status")"
[ "$(tail -n1 "$T/om.txt")" = "# EOF" ] || fail "no # EOF at the end"
[ "$(grep -c '^# EOF' "$T/om.txt")" = 1 ] || fail "# EOF more than once"
grep -qx '# TYPE pooltag_allocs counter' "$T/om.txt" || fail "OpenMetrics counter family name"
grep -q '^# TYPE [a-z_]*_total ' "$T/om.txt" && fail "OpenMetrics family named _total"
grep -qx '# UNIT pooltag_pool_bytes bytes' "$T/om.txt" || fail "no UNIT"
grep -qx '# UNIT pooltag_pool_min_bytes bytes' "$T/om.txt" || fail "no UNIT for the minimum"
grep -q "^pooltag_allocs_total{pid=\"$A\",comm=\"notmyfault\",tag=\"Leak\",pool=\"paged\"} [0-9]" "$T/om.txt" ||
    fail "OpenMetrics counter sample"
# Only the text format asked (or nothing, or OpenMetrics 0.0.1 only): text.
for acc in 'text/plain' 'application/openmetrics-text;version=0.0.1' \
           'application/openmetrics-text;q=0' 'text/plain,application/openmetrics-text;q=0.4'; do
    http GET "${URL}metrics" "$acc" >/dev/null
    grep -q '^200 text/plain; version=0.0.4' "$T/http.status" || fail "Accept '$acc' -> $(cat "$T/http.status")"
done

# JSON for the dashboard.
http GET "${URL}api/v1/processes" >"$T/p.json" || fail "GET json"
json_ok "$T/p.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["pid"]: x for x in d["processes"]}
a = p[int(sys.argv[2])]
assert a["rows"][-1]["other"] and a["rows"][0]["tag"] == "Leak", a["rows"][0]
# The JSON text of a name is the table text (docs/json.md): the backslash doubled.
assert p[int(sys.argv[3])]["comm"] == "q\"b\\\\\\x09\\xff", p[int(sys.argv[3])]["comm"]
' "$T/p.json" "$A" "$C" || fail "JSON content"

# A process that exits disappears from the next scrape.
kill "$B"
wait "$B" 2>/dev/null
gone=0
for _ in $(seq 100); do
    http GET "${URL}metrics" >"$T/m2.txt"
    if ! grep -q "pid=\"$B\"" "$T/m2.txt"; then gone=1; break; fi
    sleep 0.1
done
[ "$gone" = 1 ] || fail "process $B still in /metrics after it exited"
grep -q "pid=\"$A\"" "$T/m2.txt" || fail "process $A vanished too"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status $?"

# --top 1: Load (0..512 KiB) moves above and below Cach (256 KiB) and Sess
# (33 KiB).  Scrape every 0.2 s for 8 s (two load periods).  --window 3s
# (the load's period and a bit): once the window is full, every scrape's
# minimum of the paged pool (and of Load, when it is a member) holds a
# trough of the load, wherever the scrape falls in the period.
start_nmf --load --period 3 --requests 32
D=$NMF_PID
wait_tagged "$D" Load
start_serve --listen 127.0.0.1:0 --top 1 --window 3s --sub 20ms
t_serve=$(date +%s.%N)
for i in $(seq 40); do
    date +%s.%N >"$T/top.$i.t"
    http GET "${URL}metrics" >"$T/top.$i" || fail "scrape $i"
    sleep 0.2
done
python3 - "$T" "$D" "$t_serve" <<'PY' || fail "--top 1"
import sys
from serve_parse import parse
T, D, t_serve = sys.argv[1], sys.argv[2], float(sys.argv[3])
last, members_seen, load_in, load_out = {}, set(), 0, 0
full, load_min_low, load_above_min = 0, 0, 0
for i in range(1, 41):
    types, samples = parse(open("%s/top.%d" % (T, i)).read())
    mine = [(n, l, v) for n, l, v in samples if l.get("pid") == D]
    # the window's extremes hold the value, in every scrape
    for pool in ("paged", "nonpaged"):
        v, lo, hi = ([x for n, l, x in mine if n == m and l["pool"] == pool][0]
                     for m in ("pooltag_process_pool_bytes", "pooltag_process_pool_min_bytes",
                               "pooltag_process_pool_max_bytes"))
        assert lo <= v <= hi, (i, pool, lo, v, hi)
    ext = {(n, l["tag"], l["pool"]): x for n, l, x in mine if "tag" in l}
    for (n, tag, pool), x in ext.items():
        if n != "pooltag_pool_bytes" or tag == "other":
            continue
        lo, hi = ext[("pooltag_pool_min_bytes", tag, pool)], ext[("pooltag_pool_max_bytes", tag, pool)]
        assert lo <= x <= hi, (i, tag, pool, lo, x, hi)
    # A full window (3 s, 0.5 s of slack for the sampler's start): it
    # holds a trough of the load (Load ~0: Cach + Sess + a few requests).
    if float(open("%s/top.%d.t" % (T, i)).read()) - t_serve >= 3.5:
        full += 1
        pmin = [x for n, l, x in mine if n == "pooltag_process_pool_min_bytes" and l["pool"] == "paged"][0]
        assert pmin <= 256 * 1024 + 34 * 1024 + 64 * 1024, (i, "pool minimum", pmin)
        if ("pooltag_pool_min_bytes", "Load", "paged") in ext:
            lmin = ext[("pooltag_pool_min_bytes", "Load", "paged")]
            assert lmin <= 64 * 1024, (i, "Load minimum", lmin)
            load_min_low += 1
            load_above_min += ext[("pooltag_pool_bytes", "Load", "paged")] > lmin
    tags = {l["tag"] for n, l, v in mine if "tag" in l}
    assert "other" in tags, tags
    members = tags - {"other"}
    assert 1 <= len(members) <= 2, (i, members)   # N=1: at most 2N members
    members_seen |= members
    if "Load" in members: load_in += 1
    else: load_out += 1
    for n, l, v in mine:
        if n.endswith("_total"):
            key = (n, tuple(sorted(l.items())))
            assert v >= last.get(key, 0), ("counter went down", key, last[key], v, i)
            last[key] = v
    # the gauges of the tag series still add up to the pool totals
    for pool in ("paged", "nonpaged"):
        s = sum(v for n, l, v in mine if n == "pooltag_pool_bytes" and l["pool"] == pool)
        t = [v for n, l, v in mine if n == "pooltag_process_pool_bytes" and l["pool"] == pool][0]
        assert s == t, (i, pool, s, t)
assert load_in and load_out, ("Load never moved in or out", load_in, load_out)
assert full >= 10 and load_min_low >= 3 and load_above_min >= 1, (full, load_min_low, load_above_min)
assert "Cach" in members_seen, members_seen
other = [v for (n, l), v in last.items() if n == "pooltag_allocs_total" and ("tag", "other") in l and ("pool", "paged") in l]
assert other and other[0] > 0, other
print("--top 1: Load in the top for %d scrapes, out for %d; counters monotonic; "
      "%d scrapes with a full window, Load's minimum ~0 in %d (its value above it in %d)"
      % (load_in, load_out, full, load_min_low, load_above_min))
PY
echo "serve metrics tests passed"
