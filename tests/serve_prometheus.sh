#!/usr/bin/env bash
# The real Prometheus server (Debian's prometheus) scrapes `pooltag serve`
# every second with the rules of docs/prometheus made for a short window
# (mkrules.sh 48s 4s: quarters of 12 s, two periods of the load).  Two
# notmyfault processes run: one leaks (--leak paged --rate 256K), one only
# loads (--load --period 6).  Through Prometheus's HTTP API: the target is
# up with no scrape error (Prometheus asks for OpenMetrics, so that format
# is parsed by Prometheus itself), pooltag_pool_bytes arrives for both
# processes, PooltagLeak (which reads pooltag_pool_min_bytes: serve runs
# with --window 8s, longer than the load's period and the scrape interval)
# fires for the leaking process's Leak tag, and neither the alert nor the
# leak verdict ever appears for the load process or for another tag; the
# load's minimum returned to 0.  Every process is stopped by its PID.
. "$(dirname "$0")/serve_lib.sh"
need_notmyfault
for b in prometheus promtool; do
    command -v $b >/dev/null || { echo "SKIP: $b not installed" >&2; exit 77; }
done
t0=$SECONDS

start_nmf --leak paged --rate 256K
A=$NMF_PID
start_nmf --load --period 6
B=$NMF_PID
wait_tagged "$A" Leak
wait_tagged "$B" Load
start_serve --listen 127.0.0.1:0 --window 8s
target=${URL#http://}
target=${target%/}

bash "$PT_SRC/docs/prometheus/mkrules.sh" 48s 4s >"$T/rules.yml" || fail "mkrules.sh"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: pooltag
    honor_labels: true
    static_configs:
      - targets: ['$target']
YML
promtool check config "$T/prometheus.yml" >/dev/null || fail "config"

pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn \
    >"$T/prom.log" 2>&1 &
PROM=$!
track_pid "$PROM"
API=http://127.0.0.1:$pport/api/v1

# q PROMQL: the result vector as JSON lines of labels (empty: nothing).
q() {
    python3 - "$API" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
api, expr = sys.argv[1], sys.argv[2]
url = api + "/query?" + urllib.parse.urlencode({"query": expr})
try:
    d = json.load(urllib.request.urlopen(url, timeout=10))
except Exception as e:
    print("ERR", e, file=sys.stderr); sys.exit(3)
assert d["status"] == "success", d
for r in d["data"]["result"]:
    print(json.dumps(r["metric"], sort_keys=True))
PY
}

# until SECONDS CMD...: poll CMD until it succeeds.
until_ok() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    while [ $SECONDS -lt $end ]; do
        "$@" && return 0
        kill -0 "$PROM" 2>/dev/null || fail "prometheus exited: $(tail -5 "$T/prom.log")"
        sleep 1
    done
    return 1
}
has() { [ -n "$(q "$1" 2>/dev/null)" ]; }

until_ok 40 has "pooltag_pool_bytes{pid=\"$A\",tag=\"Leak\"}" ||
    fail "no pooltag_pool_bytes for the leak process"
until_ok 10 has "pooltag_pool_bytes{pid=\"$B\",tag=\"Load\"}" ||
    fail "no pooltag_pool_bytes for the load process"
until_ok 10 has "pooltag_pool_min_bytes{pid=\"$B\",tag=\"Load\"} == 0" ||
    fail "the load's pooltag_pool_min_bytes never 0"
python3 - "$API" <<'PY' || fail "target not healthy"
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/targets", timeout=10))
t = d["data"]["activeTargets"]
assert len(t) == 1 and t[0]["health"] == "up" and t[0]["lastError"] == "", t
PY
echo "series arrived after $((SECONDS - t0)) s"

firing() {
    q "ALERTS{alertname=\"PooltagLeak\",alertstate=\"firing\",pid=\"$A\",tag=\"Leak\"}" | grep -q Leak
}
until_ok 120 firing || fail "PooltagLeak never fired for $A Leak: $(q "pooltag:pool_bytes:leak")"
echo "PooltagLeak fired after $((SECONDS - t0)) s"

# Never for the load process (pending or firing), never for another tag.
bad=$(q "max_over_time(ALERTS{alertname=\"PooltagLeak\",pid=\"$B\"}[10m])")
[ -z "$bad" ] || fail "alert for the load process: $bad"
bad=$(q "max_over_time(pooltag:pool_bytes:leak{pid=\"$B\"}[10m])")
[ -z "$bad" ] || fail "leak verdict for the load process: $bad"
bad=$(q "max_over_time(ALERTS{alertname=\"PooltagLeak\",tag!=\"Leak\"}[10m])")
[ -z "$bad" ] || fail "alert for another tag: $bad"
# The load did go up and down meanwhile (the test saw a real load).
python3 - "$API" "$B" <<'PY' || fail "the load process did not rise and fall"
import json, sys, urllib.parse, urllib.request
api, pid = sys.argv[1:]
expr = 'max_over_time(pooltag_pool_bytes{pid="%s",tag="Load"}[1m]) - min_over_time(pooltag_pool_bytes{pid="%s",tag="Load"}[1m])' % (pid, pid)
d = json.load(urllib.request.urlopen(api + "/query?" + urllib.parse.urlencode({"query": expr}), timeout=10))
v = float(d["data"]["result"][0]["value"][1])
assert v >= 512 * 1024, v
print("load amplitude %.0f KiB" % (v / 1024))
PY
echo "serve prometheus tests passed in $((SECONDS - t0)) s"
