#!/usr/bin/env bash
# `pooltag run --behalf` on the shared fixtures: fx_host loads the good and
# the leaky plugin, both call api_query of libfx_seapi.so, which allocates
# tag Se with pt_alloc from its static fx_format (reached by a tail call).
#   - without --behalf, Se is charged to libfx_seapi.so!fx_format;
#   - with a module pattern ('libfx_seapi*'), a function pattern ('api_*',
#     'api_query': the tail-called fx_format is part of the call into it)
#     or the helper's own name ('fx_format'), Se is charged to
#     plugin_leaky_cache (Diff > 0 and growing) and plugin_good_lookup
#     (Diff ~0), and nothing stays with libfx_seapi;
#   - 'api_release' names a function the allocations are not made under:
#     Se stays with fx_format.
. "$(dirname "$0")/run_lib.sh"
need_preload
F=${PT_FIXTURES:?PT_FIXTURES not set}
[ -x "$F/fx_host" ] || { echo "SKIP: fixtures not built" >&2; exit 77; }

# sites_json PID OUT: `pooltag sites --json PID Se` into OUT.
sites_json() {
    timeout 20 "$POOLTAG" sites --json "$1" Se >"$2" 2>"$T/sites.err" ||
        fail "sites $1 Se: $(cat "$T/sites.err")"
}

# check MODE JSON1 JSON2: the two readings, a second apart.
check() {
    python3 - "$@" <<'PY' || fail "$1: $(cat "$2")"
import json, sys
mode, a, b = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def by(d):
    out = {}
    for s in d["sites"]:
        key = "%s!%s" % (s.get("module"), s.get("symbol"))
        out.setdefault(key, [0, 0])
        out[key][0] += s["blocks"]; out[key][1] += s["bytes"]
    return out
A, B = by(a), by(b)
leaky = "libfx_plugin_leaky.so!plugin_leaky_cache"
good = "libfx_plugin_good.so!plugin_good_lookup"
own = "libfx_seapi.so!fx_format"
if mode in ("none", "api_release"):
    assert set(B) == {own}, B
    assert B[own][0] > A[own][0] > 0, (A, B)
else:
    assert set(B) == {leaky, good}, ("sites", B)
    assert B[leaky][0] > A[leaky][0] > 0 and B[leaky][1] > A[leaky][1], ("leaky grows", A, B)
    # one answer may be between api_query and api_release when we read
    assert 0 <= B[good][0] <= 1 and 0 <= A[good][0] <= 1, ("good", A, B)
    assert b["total"]["blocks"] == B[leaky][0] + B[good][0], b["total"]
print("%s: %s" % (mode, B))
PY
}

for mode in none 'libfx_seapi*' 'api_*' api_query fx_format api_release; do
    opt=()
    [ "$mode" = none ] || opt=(--behalf "$mode")
    ready=$T/ready.$RANDOM
    "$POOLTAG" run "${opt[@]}" -- "$F/fx_host" "$ready" 0 \
        "$F/libfx_plugin_good.so" "$F/libfx_plugin_leaky.so" &
    pid=$!
    track_pid "$pid"
    wait_file "$ready"
    [ "$(cat "$ready")" = "$pid" ] || fail "ready file says $(cat "$ready"), pid $pid"
    sleep 0.5
    sites_json "$pid" "$T/a.json"
    sleep 1
    sites_json "$pid" "$T/b.json"
    check "$mode" "$T/a.json" "$T/b.json"
    if [ "$mode" = api_query ]; then
        # the table of `pooltag sites` names the leaking function
        timeout 20 "$POOLTAG" sites "$pid" Se >"$T/t.txt" || fail "sites table"
        grep -qE ' libfx_plugin_leaky\.so!plugin_leaky_cache\+0x[0-9a-f]+ ' "$T/t.txt" ||
            fail "table: $(cat "$T/t.txt")"
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null
done
echo "behalf_sites: ok"
