#!/usr/bin/env bash
# `pooltag run --behalf` on an API module dlopened and dlclosed many times
# (more times than there are host entries): after 300 cycles the blocks
# that keep_last gets from fxb_buffer are still charged to keep_last.
. "$(dirname "$0")/run_lib.sh"
need_preload
F=${PT_FIXTURES:?PT_FIXTURES not set}
[ -x "$F/fx_behalf_reload" ] || { echo "SKIP: fixtures not built" >&2; exit 77; }
printf 'libfx_behalf_api.so FxBa\n' >"$T/tags"
for pat in 'libfx_behalf_api*' 'fxb_*'; do
    ready=$T/ready
    rm -f "$ready"
    "$POOLTAG" run --tags "$T/tags" --behalf "$pat" -- "$F/fx_behalf_reload" "$ready" 300 \
        "$F/libfx_behalf_api.so" &
    pid=$!
    track_pid "$pid"
    for _ in $(seq 600); do
        [ -s "$ready" ] && break
        kill -0 "$pid" 2>/dev/null || fail "$pat: fx_behalf_reload died"
        sleep 0.05
    done
    [ -s "$ready" ] || fail "$pat: fx_behalf_reload never became ready"
    timeout 20 "$POOLTAG" sites --json "$pid" FxBa >"$T/sites.json" 2>"$T/err" ||
        fail "$pat: sites: $(cat "$T/err")"
    kill "$pid"
    wait "$pid" 2>/dev/null
    python3 - "$T/sites.json" <<'PY' || fail "$pat: $(cat "$T/sites.json")"
import json, sys
d = json.load(open(sys.argv[1]))
live = {"%s!%s" % (s.get("module"), s.get("symbol")): s["blocks"] for s in d.get("sites", []) if s["blocks"]}
assert live == {"fx_behalf_reload!keep_last": 10}, live
PY
done
echo "behalf_reload: ok"
