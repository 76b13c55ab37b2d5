#!/usr/bin/env bash
# pooltag imports on the issue 5 fixtures: exactly the two plugins import
# api_query (JUMP_SLOT, at the GOT slot readelf -r shows), libfx_seapi.so
# alone exports it; in a running fx_host both plugins' slots point to
# libfx_seapi.so!api_query; under the preload, malloc imports are
# redirected to libpooltag-preload.so.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures

# 1. Files: the fixtures directory, walked recursively (other verbs add
# fixtures, some in subdirectories: count them).
NELF=0
while IFS= read -r f; do
    [ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && NELF=$((NELF + 1))
done < <(find "$F" -type f)
timeout 30 "$POOLTAG" imports --json api_query "$F" >"$T/imp.json" || fail "imports api_query $F"
json_ok "$T/imp.json"
python3 - "$T/imp.json" "$F" "$NELF" <<'PY' || fail "imports api_query: $(cat "$T/imp.json")"
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
names = sorted(r["module"] for r in d["results"])
assert names == ["libfx_plugin_good.so", "libfx_plugin_leaky.so"], names
assert d["modules"] == 2 and d["errors"] == 0 and d["files_scanned"] == int(sys.argv[3]), d
for r in d["results"]:
    assert r["symbol"] == "api_query" and r["relocation"] == "JUMP_SLOT" and r["plt"], r
    out = subprocess.run(["readelf", "-rW", r["path"]], capture_output=True, text=True).stdout
    slots = [l.split()[0] for l in out.splitlines() if "R_X86_64_JUMP_SLO" in l and " api_query" in l]
    assert len(slots) == 1 and int(slots[0], 16) == int(r["slot"], 16), (r["slot"], slots)
PY
timeout 30 "$POOLTAG" imports api_query "$F" >"$T/imp.txt" || fail "imports table"
grep -q "^   2 modules import api_query ($NELF ELF files read)" "$T/imp.txt" || fail "imports header: $(head -1 "$T/imp.txt")"
[ "$(grep -c ' JUMP_SLOT ' "$T/imp.txt")" = 2 ] || fail "imports rows: $(cat "$T/imp.txt")"

# Exports: only libfx_seapi.so, at the value nm -D shows.
timeout 30 "$POOLTAG" imports --exports --json api_query "$F" >"$T/exp.json" || fail "--exports"
val=$(nm -D "$F/libfx_seapi.so" | awk '$3=="api_query"{print $1}')
python3 - "$T/exp.json" "$val" <<'PY' || fail "exports api_query: $(cat "$T/exp.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mode"] == "exports"
assert [r["module"] for r in d["results"]] == ["libfx_seapi.so"], d["results"]
r = d["results"][0]
assert int(r["value"], 16) == int(sys.argv[2], 16) and r["type"] == "FUNC", r
PY

# Globs: api_* adds api_release, imported by the good plugin only.
timeout 30 "$POOLTAG" imports --json 'api_*' "$F/libfx_plugin_good.so" "$F/libfx_plugin_leaky.so" >"$T/glob.json" ||
    fail "imports api_*"
[ "$(jget "$T/glob.json" 'sorted((r["module"], r["symbol"]) for r in d["results"])')" = \
  "[('libfx_plugin_good.so', 'api_query'), ('libfx_plugin_good.so', 'api_release'), ('libfx_plugin_leaky.so', 'api_query')]" ] ||
    fail "api_* imports: $(cat "$T/glob.json")"
# Nothing matches: exit 1, said on stdout.
rc=0
timeout 30 "$POOLTAG" imports no_such_symbol "$F" >"$T/none.txt" 2>"$T/none.err" || rc=$?
[ "$rc" = 1 ] || fail "no match: exit $rc"
grep -q "^no module imports no_such_symbol ($NELF ELF files read)" "$T/none.txt" || fail "no match: $(cat "$T/none.txt")"
[ ! -s "$T/none.err" ] || fail "no match: stderr $(cat "$T/none.err")"
# libc's versioned malloc export, as a sanity check of versions.
libc=$(ldd "$HOST" | awk '$1=="libc.so.6"{print $3}')
if [ -n "$libc" ]; then
    timeout 30 "$POOLTAG" imports --exports malloc "$libc" | grep -qE ' malloc@@GLIBC_2\.[0-9.]+ +FUNC ' ||
        fail "malloc@@GLIBC_* not exported by $libc"
fi

# 2. Live, without the preload: both slots bound to libfx_seapi.so.
start_host
timeout 30 "$POOLTAG" imports --json api_query "$HOST_PID" >"$T/live.json" || fail "imports api_query PID"
json_ok "$T/live.json"
timeout 30 "$POOLTAG" lm --json "$HOST_PID" >"$T/lm.json" || fail "lm"
python3 - "$T/live.json" "$T/lm.json" <<'PY' || fail "live imports: $(cat "$T/live.json")"
import json, sys
d = json.load(open(sys.argv[1]))
lm = {m["name"]: m for m in json.load(open(sys.argv[2]))["modules"]}
assert sorted(r["module"] for r in d["results"]) == ["libfx_plugin_good.so", "libfx_plugin_leaky.so"]
api = None
for r in d["results"]:
    assert r["read"] and r["target_name"] == "libfx_seapi.so!api_query", r
    assert r["status"] == "bound" and r["provider"] == "libfx_seapi.so", r
    # the slot lies in the plugin, at its base + the file's r_offset
    m = lm[r["module"]]
    sa = int(r["slot_address"], 16)
    assert int(m["start"], 16) <= sa < int(m["end"], 16), (r, m)
    assert sa == int(m["start"], 16) + int(r["slot"], 16), (r, m)
    api = api or r["target"]
    assert r["target"] == api
seapi = lm["libfx_seapi.so"]
assert int(seapi["start"], 16) <= int(api, 16) < int(seapi["end"], 16)
PY
timeout 30 "$POOLTAG" imports api_query "$HOST_PID" >"$T/live.txt" || fail "imports table PID"
[ "$(grep -c 'libfx_seapi.so!api_query  *bound$' "$T/live.txt")" = 2 ] || fail "live table: $(cat "$T/live.txt")"
kill "$HOST_PID"

# 3. Under the preload: malloc is interposed by libpooltag-preload.so.
# A third plugin imports malloc (the preload itself brings in no library
# that does).
PLUGINS+=("$PT_BUILD/tests/imports_malloc/libfx_plugin_malloc.so")
# An ASan build's fx_host defines malloc itself (the sanitizer's
# interceptor): then fx_host, first in the lookup order, is the normal
# provider, and every slot is rightly "bound" to it.
asan=0
timeout 30 "$POOLTAG" imports --exports malloc "$HOST" >/dev/null 2>&1 && asan=1
start_host "$POOLTAG" run --
timeout 30 "$POOLTAG" imports --json malloc "$HOST_PID" >"$T/malloc.json" || fail "imports malloc PID"
python3 - "$T/malloc.json" "$asan" <<'PY' || fail "malloc imports: $(cat "$T/malloc.json")"
import json, sys
d = json.load(open(sys.argv[1]))
asan = sys.argv[2] == "1"
assert d["results"], "no module imports malloc"
red = [r for r in d["results"] if r["status"] == "redirected"]
if asan:
    for r in d["results"]:
        assert r["provider"] == "fx_host", r
        assert r["status"] in ("bound", "lazy"), r
else:
    assert red, "no redirected malloc import"
for r in red:
    assert r["target_name"].startswith("libpooltag-preload.so!malloc"), r
    assert r["provider"] == "libc.so.6", r
for r in d["results"]:
    # nothing bound to the preload is called bound; lazy slots name the PLT
    if r["target_name"].startswith("libpooltag-preload.so"):
        assert r["status"] == "redirected", r
    if r["status"] == "lazy":
        assert r["target_name"] == r["module"] + "!malloc@plt", r
PY
if [ "$asan" = 0 ]; then
    timeout 30 "$POOLTAG" imports malloc "$HOST_PID" | grep -q 'libpooltag-preload.so!malloc .*redirected (normally libc.so.6)' ||
        fail "malloc table shows no redirection"
fi
timeout 30 "$POOLTAG" imports --exports --json malloc "$HOST_PID" >"$T/mexp.json" || fail "--exports malloc PID"
jget "$T/mexp.json" 'sorted(set(r["module"] for r in d["results"]))' | grep -q "libpooltag-preload.so" ||
    fail "preload does not export malloc: $(cat "$T/mexp.json")"
kill "$HOST_PID"
echo "imports_fixture: ok"
