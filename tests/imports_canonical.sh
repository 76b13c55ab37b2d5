#!/usr/bin/env bash
# pooltag imports on a live non-PIE program that takes free's address: the
# GLOB_DAT slot of libfx_imports_gd.so points to the program's PLT entry
# for free (its canonical address).  That is "canonical", named
# fx_imports_nopie!free@plt, not "redirected" to an unnamed address.
. "$(dirname "$0")/cli_lib.sh"
D=$PT_BUILD/tests/imports_nopie
[ -x "$D/fx_imports_nopie" ] || { echo "SKIP: fixture not built" >&2; exit 77; }
"$D/fx_imports_nopie" "$T/ready" &
pid=$!
track_pid "$pid"
for _ in $(seq 200); do
    [ -s "$T/ready" ] && break
    kill -0 "$pid" 2>/dev/null || fail "fx_imports_nopie died"
    sleep 0.05
done
[ -s "$T/ready" ] || fail "fx_imports_nopie never became ready"
timeout 30 "$POOLTAG" imports --json free "$pid" >"$T/imp.json" 2>"$T/err" || fail "imports free: $(cat "$T/err")"
json_ok "$T/imp.json"
python3 - "$T/imp.json" <<'PY' || fail "imports free: $(cat "$T/imp.json")"
import json, sys
d = json.load(open(sys.argv[1]))
gd = [r for r in d["results"] if r["module"] == "libfx_imports_gd.so"]
assert len(gd) == 1 and gd[0]["relocation"] == "GLOB_DAT", gd
r = gd[0]
assert r["status"] == "canonical", r
assert r["target_name"] == "fx_imports_nopie!free@plt", r
PY
echo "imports_canonical: ok"
