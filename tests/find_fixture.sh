#!/usr/bin/env bash
# `pooltag find` over files and directories: the fixture's tag FxTw is
# found in both functions that use it, as code in .text, code hits first;
# notmyfault's Leak is found in the function that allocates it (leak_step).
#
# Compilers fold PT_TAG("FxTw") into an immediate operand when optimising;
# clang -O0 (the ASan build) instead loads it from a string in .rodata.
# The always-optimised copy in $PT_FIND_FIXTURES gets the code checks in
# every build; the shared fixtures and notmyfault get them when they were
# optimised, and the .rodata checks otherwise.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/find_lib.sh"
need_fixtures
need_notmyfault
: "${PT_FIND_FIXTURES:?PT_FIND_FIXTURES not set}"

# check_fxtw DIR LIB: FxTw over DIR finds exactly LIB's two code hits.
check_fxtw() {
    local dir=$1 lib=$2 re
    re=${lib//./\\.}
    run_find 0 "$T/fx.out" "$T/fx.err" FxTw "$dir"
    [ ! -s "$T/fx.err" ] || fail "stderr not empty: $(cat "$T/fx.err")"
    hit_lines "$T/fx.out" >"$T/fx.hits"
    grep -qE "^code  $re!fx_make_request\+0x[0-9a-f]+  \.text  addr 0x[0-9a-f]+  offset 0x[0-9a-f]+  .*/$re\$" "$T/fx.hits" ||
        fail "$dir: no code hit in fx_make_request: $(cat "$T/fx.out")"
    grep -qE "^code  $re!fx_make_reply\+0x[0-9a-f]+  \.text  " "$T/fx.hits" ||
        fail "$dir: no code hit in fx_make_reply: $(cat "$T/fx.out")"
    [ "$(grep -c '^code ' "$T/fx.hits")" = 2 ] || fail "$dir: expected 2 code hits: $(cat "$T/fx.hits")"
    # No other file uses the tag.
    if grep -vq "/$re\$" "$T/fx.hits"; then
        fail "$dir: hits outside $lib: $(grep -v "/$re\$" "$T/fx.hits")"
    fi
    # Code first: no code line after the first data line.
    awk '/^data /{d=1} /^code /&&d{exit 1}' "$T/fx.hits" || fail "code not ranked first: $(cat "$T/fx.hits")"
    # Each hit has its `s -a` style dump line, starting with the tag's bytes.
    grep -qE '^      00000000`0000[0-9a-f]{4}  46 78 54 77 .*  FxTw' "$T/fx.out" ||
        fail "no dump line: $(cat "$T/fx.out")"
    # The address is that of the immediate of a mov (objdump agrees).
    local addr
    addr=$(awk '/^code .*fx_make_request/{for(i=1;i<=NF;i++) if($i=="addr") print $(i+1)}' "$T/fx.out")
    if command -v objdump >/dev/null; then
        objdump -d --start-address=$((addr - 1)) --stop-address=$((addr + 4)) "$dir/$lib" |
            grep -q 'mov .*\$0x77547846' || fail "$dir: no mov of the tag just before $addr"
    fi
    tail -1 "$T/fx.out" | grep -qE '^[0-9]+ hits \(2 code, [0-9]+ data\) in 1 file; [0-9]+ ELF files? scanned' ||
        fail "summary: $(tail -1 "$T/fx.out")"

    # --code-only, --hex and --json agree.
    run_find 0 "$T/co.out" "$T/co.err" --code-only FxTw "$dir"
    [ "$(hit_lines "$T/co.out" | wc -l)" = 2 ] || fail "--code-only: $(cat "$T/co.out")"
    hit_lines "$T/co.out" | grep -q '^data' && fail "--code-only shows data"
    run_find 0 "$T/hex.out" "$T/hex.err" --hex -c 0x77547846 "$dir"
    diff <(hit_lines "$T/co.out") <(hit_lines "$T/hex.out") >/dev/null || fail "--hex differs from the text"
    run_find 0 "$T/fx.json" "$T/fxj.err" --json FxTw "$dir"
    json_ok "$T/fx.json"
    LIB=$lib python3 - "$T/fx.json" <<'PY' || fail "JSON content: $(head -c 600 "$T/fx.json")"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["tag"] == "FxTw" and d["tag_bytes"] == "46 78 54 77" and d["tag_value"] == 0x77547846, d
code = [h for h in d["hits"] if h["kind"] == "code"]
assert sorted(h["symbol"] for h in code) == ["fx_make_reply", "fx_make_request"], code
assert all(h["section"] == ".text" and h["module"] == os.environ["LIB"] for h in code), code
kinds = [h["kind"] for h in d["hits"]]
assert kinds == sorted(kinds), kinds            # code before data
assert d["code"] == 2 and d["total"] == len(d["hits"]), d
for h in code:
    assert h["dump"].startswith("46 78 54 77"), h
    assert int(h["address"], 16) == h["offset"]  # .text lies at its file offset here
PY
    # The file named directly.
    run_find 0 "$T/one.out" "$T/one.err" -c FxTw "$dir/$lib"
    [ "$(grep -c '^code ' "$T/one.out")" = 2 ] || fail "single file: $(cat "$T/one.out")"
}

# --- FxTw ----------------------------------------------------------------
check_fxtw "$PT_FIND_FIXTURES" libfx_find_tagtwo.so
if has_immediate "$PT_FIXTURES/libfx_tagtwo.so" 0x77547846; then
    check_fxtw "$PT_FIXTURES" libfx_tagtwo.so
else
    echo "NOTE: $PT_FIXTURES/libfx_tagtwo.so is unoptimised: FxTw is a string in .rodata"
    run_find 0 "$T/u.out" "$T/u.err" FxTw "$PT_FIXTURES"
    hit_lines "$T/u.out" | grep -qE '^data  libfx_tagtwo\.so.*  \.rodata  ' || fail "no .rodata hit: $(cat "$T/u.out")"
    hit_lines "$T/u.out" | grep -q '^code' && fail "code hit without an immediate: $(cat "$T/u.out")"
fi

# A tag that is nowhere: exit 1, "0 hits", also in JSON.
run_find 1 "$T/none.out" "$T/none.err" 'Q#z~' "$PT_FIXTURES"
grep -q '^0 hits ' "$T/none.out" || fail "no-hit summary: $(cat "$T/none.out")"
run_find 1 "$T/none.json" "$T/none.err" --json 'Q#z~' "$PT_FIXTURES"
json_ok "$T/none.json"

# --- Leak over the demo build: notmyfault's allocating function -----------
run_find 0 "$T/leak.out" "$T/leak.err" Leak "$PT_BUILD/demo/"
hit_lines "$T/leak.out" | awk '/^data /{d=1} /^code /&&d{exit 1}' || fail "Leak: code not first"
if has_immediate "$NOTMYFAULT" 0x6b61654c; then
    grep -qE '^code  notmyfault!leak_step\+0x[0-9a-f]+  \.text  .*/demo/notmyfault$' "$T/leak.out" ||
        fail "leak_step not named in notmyfault: $(hit_lines "$T/leak.out" | head)"
else
    echo "NOTE: $NOTMYFAULT is unoptimised: Leak is a string in .rodata"
fi
# The tag's strings (messages, usage text) are data in .rodata.
grep -qE '^data  notmyfault.*  \.rodata  ' "$T/leak.out" || fail "no .rodata hit for the Leak strings"
echo "find_fixture: ok"
