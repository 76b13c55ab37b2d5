#!/usr/bin/env bash
# `pooltag find` over files and directories: the fixture's tag FxTw is
# found in both functions that use it, as code in .text, code hits first;
# notmyfault's Leak is found in the function that allocates it.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/find_lib.sh"
need_fixtures
need_notmyfault

# --- FxTw over the fixture directory -------------------------------------
run_find 0 "$T/fx.out" "$T/fx.err" FxTw "$PT_FIXTURES"
[ ! -s "$T/fx.err" ] || fail "stderr not empty: $(cat "$T/fx.err")"
hit_lines "$T/fx.out" >"$T/fx.hits"
grep -qE '^code  libfx_tagtwo\.so!fx_make_request\+0x[0-9a-f]+  \.text  addr 0x[0-9a-f]+  offset 0x[0-9a-f]+  .*/libfx_tagtwo\.so$' "$T/fx.hits" ||
    fail "no code hit in fx_make_request: $(cat "$T/fx.out")"
grep -qE '^code  libfx_tagtwo\.so!fx_make_reply\+0x[0-9a-f]+  \.text  ' "$T/fx.hits" ||
    fail "no code hit in fx_make_reply: $(cat "$T/fx.out")"
[ "$(grep -c '^code ' "$T/fx.hits")" = 2 ] || fail "expected exactly 2 code hits: $(cat "$T/fx.hits")"
# No other fixture uses the tag.
if grep -vq 'libfx_tagtwo\.so$' "$T/fx.hits"; then
    fail "hits outside libfx_tagtwo.so: $(grep -v 'libfx_tagtwo\.so$' "$T/fx.hits")"
fi
# Code first: no code line after the first data line.
awk '/^data /{d=1} /^code /&&d{exit 1}' "$T/fx.hits" || fail "code hits not ranked first: $(cat "$T/fx.hits")"
# Each hit has its s -a style dump line, starting with the tag's bytes.
grep -qE '^      00000000`0000[0-9a-f]{4}  46 78 54 77 .*  FxTw' "$T/fx.out" || fail "no dump line: $(cat "$T/fx.out")"
# The address is where objdump sees the immediate: inside a mov to a register.
addr=$(awk '/^code .*fx_make_request/{for(i=1;i<=NF;i++) if($i=="addr") print $(i+1)}' "$T/fx.out")
if command -v objdump >/dev/null; then
    objdump -d "$PT_FIXTURES/libfx_tagtwo.so" | grep -q "0x77547846" || fail "objdump sees no immediate"
    insn=$(printf '%x' $((addr - 1)))
    objdump -d --start-address=$((addr - 1)) --stop-address=$((addr + 4)) "$PT_FIXTURES/libfx_tagtwo.so" |
        grep -q 'mov .*\$0x77547846' || fail "no mov of the tag at $insn"
fi
tail -1 "$T/fx.out" | grep -qE '^2 hits \(2 code, 0 data\) in 1 file|^[0-9]+ hits \(2 code, [0-9]+ data\) in 1 file' ||
    fail "summary: $(tail -1 "$T/fx.out")"
grep -qE 'ELF files scanned' "$T/fx.out" || fail "no count of files scanned"

# --code-only, --hex and --json agree.
run_find 0 "$T/co.out" "$T/co.err" --code-only FxTw "$PT_FIXTURES"
[ "$(hit_lines "$T/co.out" | wc -l)" = 2 ] || fail "--code-only: $(cat "$T/co.out")"
hit_lines "$T/co.out" | grep -q '^data' && fail "--code-only shows data"
run_find 0 "$T/hex.out" "$T/hex.err" --hex -c 0x77547846 "$PT_FIXTURES"
diff <(hit_lines "$T/co.out") <(hit_lines "$T/hex.out") >/dev/null || fail "--hex differs from the tag text"
run_find 0 "$T/fx.json" "$T/fxj.err" --json FxTw "$PT_FIXTURES"
json_ok "$T/fx.json"
python3 - "$T/fx.json" <<'PY' || fail "JSON content: $(head -c 600 "$T/fx.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tag"] == "FxTw" and d["bytes"] == "46 78 54 77" and d["value"] == "0x77547846", d
code = [h for h in d["hits"] if h["kind"] == "code"]
assert sorted(h["symbol"] for h in code) == ["fx_make_reply", "fx_make_request"], code
assert all(h["section"] == ".text" and h["module"] == "libfx_tagtwo.so" for h in code), code
kinds = [h["kind"] for h in d["hits"]]
assert kinds == sorted(kinds), kinds            # code before data
assert d["code"] == 2 and d["total"] == len(d["hits"]), d
for h in code:
    assert h["dump"].startswith("46 78 54 77"), h
    assert int(h["address"], 16) == h["offset"]   # this .so maps .text at its offset
PY

# A file named directly; a tag that is nowhere: exit 1, "0 hits".
run_find 0 "$T/one.out" "$T/one.err" FxTw "$PT_FIXTURES/libfx_tagtwo.so"
[ "$(grep -c '^code ' "$T/one.out")" = 2 ] || fail "single file: $(cat "$T/one.out")"
run_find 1 "$T/none.out" "$T/none.err" 'Q#z~' "$PT_FIXTURES"
grep -q '^0 hits ' "$T/none.out" || fail "no-hit summary: $(cat "$T/none.out")"
run_find 1 "$T/none.json" "$T/none.err" --json 'Q#z~' "$PT_FIXTURES"
json_ok "$T/none.json"

# --- Leak over the demo build: notmyfault's allocating function -----------
run_find 0 "$T/leak.out" "$T/leak.err" Leak "$PT_BUILD/demo/"
grep -qE '^code  notmyfault!leak_step\+0x[0-9a-f]+  \.text  .*/demo/notmyfault$' "$T/leak.out" ||
    fail "leak_step not named in notmyfault: $(hit_lines "$T/leak.out" | head)"
# The tag's strings in .rodata are data, after all code hits.
grep -qE '^data  notmyfault.*  \.rodata  ' "$T/leak.out" || fail "no .rodata hit for the Leak strings"
hit_lines "$T/leak.out" | awk '/^data /{d=1} /^code /&&d{exit 1}' || fail "Leak: code not first"
echo "find_fixture: ok"
