#!/usr/bin/env bash
# `pooltag find TAG PID`: the modules mapped into a running process, read
# through /proc/PID/mem.  notmyfault's Leak is found in leak_step (the
# function that allocates it) at a live address inside notmyfault's own
# mapping; fx_host's FxTw in both functions of libfx_tagtwo.so, a shared
# library loaded at a bias.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/find_lib.sh"
need_notmyfault
need_fixtures

"$NOTMYFAULT" --quiet --leak paged --rate 64K --duration 50 &
nmf=$!
track_pid "$nmf"
wait_tagged "$nmf" Leak

run_find 0 "$T/nmf.out" "$T/nmf.err" Leak "$nmf"
[ ! -s "$T/nmf.err" ] || fail "stderr not empty: $(cat "$T/nmf.err")"
head -1 "$T/nmf.out" | grep -q "in process $nmf (notmyfault)" || fail "header: $(head -1 "$T/nmf.out")"
if ! has_immediate "$NOTMYFAULT" 0x6b61654c; then
    # Unoptimised build (ASan): the tag is a string; check the live read.
    echo "NOTE: $NOTMYFAULT is unoptimised: Leak is a string in .rodata"
    grep -qE '^data  notmyfault.*  \.rodata  addr 0x[0-9a-f]+  ' "$T/nmf.out" || fail "live .rodata hit: $(cat "$T/nmf.out")"
else
    line=$(grep -E '^code  notmyfault!leak_step\+0x[0-9a-f]+  \.text  addr 0x[0-9a-f]+  offset 0x[0-9a-f]+  ' "$T/nmf.out" | head -1)
    [ -n "$line" ] || fail "leak_step not named live: $(hit_lines "$T/nmf.out")"
    # The live address lies in an executable mapping of notmyfault itself.
    addr=$(awk '{for(i=1;i<=NF;i++) if($i=="addr") print $(i+1)}' <<<"$line")
    exe=$(readlink -f "$NOTMYFAULT")
    inside=0
    while read -r range perms _ _ _ path; do
        lo=0x${range%-*} hi=0x${range#*-}
        if [ "$path" = "$exe" ] && [ $((addr)) -ge $((lo)) ] && [ $((addr)) -lt $((hi)) ]; then
            [[ $perms == *x* ]] && inside=1
        fi
    done <"/proc/$nmf/maps"
    [ "$inside" = 1 ] || fail "live address $addr is not in notmyfault's code mapping"
    # The bytes at that live address are the tag (the dump line says so).
    grep -A1 -F "$line" "$T/nmf.out" | tail -1 | grep -qE '^      [0-9a-f]{8}`[0-9a-f]{8}  4c 65 61 6b ' ||
        fail "dump line: $(grep -A1 -F "$line" "$T/nmf.out")"
    # The same function as in the file on disk.
    run_find 0 "$T/disk.out" "$T/disk.err" -c Leak "$NOTMYFAULT"
    diff <(grep -oE '^code  notmyfault![a-z_]+' "$T/disk.out" | sort -u) \
        <(grep -oE '^code  notmyfault![a-z_]+' "$T/nmf.out" | sort -u) >/dev/null ||
        fail "live and file hits name different functions"
    run_find 0 "$T/nmf.json" "$T/nmf.jerr" --json --code-only Leak "$nmf"
    json_ok "$T/nmf.json"
    python3 - "$T/nmf.json" "$nmf" <<'PY' || fail "live JSON: $(head -c 600 "$T/nmf.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["process"]["pid"] == int(sys.argv[2]) and d["process"]["exited"] is False, d["process"]
h = [h for h in d["hits"] if h.get("symbol") == "leak_step"]
assert h and h[0]["kind"] == "code" and h[0]["module"] == "notmyfault", d["hits"]
assert int(h[0]["address"], 16) != int(h[0]["module_address"], 16)   # PIE: live != file address
assert all(x["kind"] == "code" for x in d["hits"])
PY
fi

# fx_host: FxTw in libfx_tagtwo.so, loaded at a bias.
"$PT_FIXTURES/fx_host" "$T/ready" 50 "$PT_FIXTURES/libfx_plugin_good.so" >/dev/null &
fx=$!
track_pid "$fx"
for _ in $(seq 200); do
    [ -s "$T/ready" ] && break
    kill -0 "$fx" 2>/dev/null || fail "fx_host died"
    sleep 0.1
done
[ -s "$T/ready" ] || fail "fx_host never got ready"
if ! has_immediate "$PT_FIXTURES/libfx_tagtwo.so" 0x77547846; then
    echo "NOTE: libfx_tagtwo.so is unoptimised: FxTw is a string in .rodata"
    run_find 0 "$T/fx.out" "$T/fx.err" FxTw "$fx"
    grep -qE '^data  libfx_tagtwo\.so.*  \.rodata  addr 0x7[0-9a-f]+  ' "$T/fx.out" || fail "live .rodata hit: $(cat "$T/fx.out")"
    echo "find_live: ok"
    exit 0
fi
run_find 0 "$T/fx.out" "$T/fx.err" -c FxTw "$fx"
for fn in fx_make_request fx_make_reply; do
    grep -qE "^code  libfx_tagtwo\.so!$fn\+0x[0-9a-f]+  \.text  addr 0x7[0-9a-f]+  offset 0x[0-9a-f]+  .*libfx_tagtwo\.so$" "$T/fx.out" ||
        fail "$fn not found live in fx_host: $(cat "$T/fx.out")"
done
[ "$(hit_lines "$T/fx.out" | wc -l)" = 2 ] || fail "expected 2 code hits in fx_host: $(hit_lines "$T/fx.out")"
echo "find_live: ok"
