#!/usr/bin/env bash
# `pooltag run --behalf` for an API that allocates with malloc & co:
# fx_behalf_host calls libfx_behalf_api.so (strdup, calloc in a private
# helper, malloc; tag FxBa from a rules file) and its pt_calloc+pt_realloc
# and pt_alloc_aligned (tag FxBp) from host_keep (never frees) and
# host_tidy (frees all), on two threads, ROUNDS rounds each.
#   1. --behalf 'libfx_behalf_api*', then the API is dlclosed and its twin
#      (same code, not named) dlopened, usually at the same address: the
#      API's blocks are charged to host_keep / host_tidy with the exact
#      counts, the tag unchanged; the twin's blocks stay with the twin's own
#      functions (ranges of the unloaded API no longer match).
#   2. --behalf 'fxb_*' (function names; the helper fill_zeroed is not
#      named but runs under fxb_record): the same charges.
#   3. no --behalf: the API's own functions are the sites.
. "$(dirname "$0")/run_lib.sh"
need_preload
F=${PT_FIXTURES:?PT_FIXTURES not set}
[ -x "$F/fx_behalf_host" ] || { echo "SKIP: fixtures not built" >&2; exit 77; }
ROUNDS=200
printf 'libfx_behalf_api.so FxBa\nlibfx_behalf_twin.so FxBt\n' >"$T/tags"

run_host() { # MODE: sets HOST_PID, REUSED and writes $T/MODE.TAG.json
    local mode=$1 opt=() twin=()
    case $mode in
    module) opt=(--behalf 'libfx_behalf_api*'); twin=("$F/libfx_behalf_twin.so") ;;
    symbol) opt=(--behalf 'fxb_*') ;;
    esac
    local ready=$T/ready.$mode
    "$POOLTAG" run --tags "$T/tags" "${opt[@]}" -- "$F/fx_behalf_host" "$ready" "$ROUNDS" \
        "$F/libfx_behalf_api.so" "${twin[@]}" &
    HOST_PID=$!
    track_pid "$HOST_PID"
    for _ in $(seq 400); do
        [ -s "$ready" ] && break
        kill -0 "$HOST_PID" 2>/dev/null || fail "$mode: fx_behalf_host died"
        sleep 0.05
    done
    [ -s "$ready" ] || fail "$mode: fx_behalf_host never became ready"
    read -r _ REUSED <"$ready"
    for tag in FxBa FxBt FxBp; do
        timeout 20 "$POOLTAG" sites --json "$HOST_PID" "$tag" >"$T/$mode.$tag.json" \
            2>"$T/err" || fail "$mode: sites $tag: $(cat "$T/err")"
    done
    kill "$HOST_PID"
    wait "$HOST_PID" 2>/dev/null
}

check() { # MODE
    python3 - "$1" "$T" "$ROUNDS" <<'PY' || fail "$1 (see above)"
import json, sys
mode, t, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = 2 * rounds  # two threads
def rows(tag):
    try:
        d = json.load(open("%s/%s.%s.json" % (t, mode, tag)))
    except (OSError, ValueError):
        return {}
    out = {}
    for s in d.get("sites", []):
        key = "%s!%s" % (s.get("module"), s.get("symbol"))
        a = out.setdefault(key, {"allocs": 0, "frees": 0, "blocks": 0})
        for k in a:
            a[k] += s[k]
    return out
def show(tag, r):
    print("%s %s: %s" % (mode, tag, r))
ba, bp = rows("FxBa"), rows("FxBp")
show("FxBa", ba); show("FxBp", bp)
keep, tidy = "fx_behalf_host!host_keep", "fx_behalf_host!host_tidy"
if mode == "none":
    assert set(ba) == {"libfx_behalf_api.so!" + f for f in ("fxb_name", "fill_zeroed", "fxb_buffer")}, ba
    assert sum(r["blocks"] for r in ba.values()) == 3 * calls, ba
    sys.exit(0)
# three malloc-family blocks per call, two FxBp blocks
assert set(ba) == {keep, tidy}, ("FxBa sites", ba)
assert ba[keep] == {"allocs": 3 * calls, "frees": 0, "blocks": 3 * calls}, ba
assert ba[tidy] == {"allocs": 3 * calls, "frees": 3 * calls, "blocks": 0}, ba
assert bp[keep]["blocks"] == 2 * calls and bp[tidy]["blocks"] == 0, bp
api = [k for k in bp if k.startswith("libfx_behalf_api")]
assert not api, ("FxBp left with the API", bp)
if mode == "module":
    bt = rows("FxBt")
    show("FxBt", bt)
    want = {"libfx_behalf_twin.so!" + f for f in ("fxb_name", "fill_zeroed", "fxb_buffer")}
    assert set(bt) == want, ("twin's own sites", bt)
    assert sum(r["blocks"] for r in bt.values()) == 3 * calls, bt
    twin = {k: v for k, v in bp.items() if k not in (keep, tidy)}
    assert set(twin) == {"libfx_behalf_twin.so!fxb_tagged"}, ("FxBp of the twin", bp)
    assert twin["libfx_behalf_twin.so!fxb_tagged"]["blocks"] == 2 * calls, bp
else:
    assert set(bp) == {keep, tidy}, bp
PY
}

run_host module
echo "module: the twin reused the API's address: $REUSED"
check module
run_host symbol
check symbol
run_host none
check none
echo "behalf_malloc: ok"
