#!/usr/bin/env bash
# pooltag ln: the address of fx_make_request (nm -D value + the load base
# lm reports) is named libfx_tagtwo.so!fx_make_request+0x0, the next
# symbol is fx_make_reply, and file:line points into fx_tagtwo.c (the
# fixtures carry debuginfo).  Live, and from a snapshot of a preload run.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures
SRC_C=$PT_SRC/tests/fixtures/fx_tagtwo.c
lo=$(grep -n 'fx_make_request(size_t n)' "$SRC_C" | cut -d: -f1)
hi=$(grep -n 'fx_make_reply(size_t n)' "$SRC_C" | cut -d: -f1)
[ -n "$lo" ] && [ -n "$hi" ] || fail "cannot find the functions in $SRC_C"

off_req=$(nm -D "$F/libfx_tagtwo.so" | awk '$3=="fx_make_request"{print $1}')
[ -n "$off_req" ] || fail "nm -D finds no fx_make_request"

# base SOURCE: start of libfx_tagtwo.so as lm reports it.
base() {
    timeout 30 "$POOLTAG" lm --json "$1" >"$T/lm.json" || fail "lm $1"
    jget "$T/lm.json" "[m['start'] for m in d['modules'] if m['name']=='libfx_tagtwo.so'][0]"
}

# check_ln SOURCE: the checks above against SOURCE.
check_ln() {
    local src=$1 b addr out
    b=$(base "$src")
    addr=$(printf '%x' $((b + 0x$off_req)))
    timeout 30 "$POOLTAG" ln "$src" "0x$addr" >"$T/ln.txt" || fail "ln $src 0x$addr: exit $?"
    out=$(head -1 "$T/ln.txt")
    [[ "$out" == "($(printf '%016x' $((0x$addr))))   libfx_tagtwo.so!fx_make_request+0x0   |  ("*")   libfx_tagtwo.so!fx_make_reply" ]] ||
        fail "ln first line: $out"
    grep -qx "    libfx_tagtwo.so!fx_make_request" "$T/ln.txt" || fail "no exact match: $(cat "$T/ln.txt")"
    line=$(sed -n 's/^Source: .*fx_tagtwo\.c:\([0-9]*\)$/\1/p' "$T/ln.txt")
    [ -n "$line" ] && [ "$line" -ge "$lo" ] && [ "$line" -lt "$hi" ] ||
        fail "ln source line '$line' not in fx_make_request ($lo..$hi): $(cat "$T/ln.txt")"
    # 7 bytes in: +0x7, same neighbours; without 0x, upper case.
    addr7=$(printf '%X' $((0x$addr + 7)))
    timeout 30 "$POOLTAG" ln "$src" "$addr7" >"$T/ln7.txt" || fail "ln +7"
    head -1 "$T/ln7.txt" | grep -q "libfx_tagtwo.so!fx_make_request+0x7   |  (.*)   libfx_tagtwo.so!fx_make_reply$" ||
        fail "ln +7: $(head -1 "$T/ln7.txt")"
    grep -q "Exact matches" "$T/ln7.txt" && fail "ln +7 claims an exact match"
    # JSON
    timeout 30 "$POOLTAG" ln --json "$src" "$addr7" >"$T/ln.json" || fail "ln --json"
    json_ok "$T/ln.json"
    python3 - "$T/ln.json" <<'PY' || fail "ln --json: $(cat "$T/ln.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["found"] and d["module"] == "libfx_tagtwo.so"
assert d["before"]["symbol"] == "fx_make_request" and d["before"]["offset"] == 7
assert d["after"]["symbol"] == "fx_make_reply"
assert d["file"].endswith("fx_tagtwo.c") and d["line"] > 0 and d["debuginfo"] is True
PY
}

start_host
check_ln "$HOST_PID"
# An address in no module: exit 1, said on stdout.
rc=0
timeout 30 "$POOLTAG" ln "$HOST_PID" 0x10 >"$T/none.txt" 2>"$T/none.err" || rc=$?
[ "$rc" = 1 ] || fail "ln of 0x10: exit $rc"
grep -q "^0000000000000010 is in no module of process $HOST_PID" "$T/none.txt" || fail "ln 0x10: $(cat "$T/none.txt")"
[ ! -s "$T/none.err" ] || fail "ln 0x10 wrote to stderr: $(cat "$T/none.err")"
timeout 30 "$POOLTAG" ln --json "$HOST_PID" 10 >"$T/none.json" && fail "ln --json 0x10 exit 0"
jget "$T/none.json" 'd["found"]' | grep -qx False || fail "ln --json 0x10 found"
# The heap is in no module either.
heap=$(awk '$6=="[heap]"{split($1,a,"-"); print a[1]; exit}' "/proc/$HOST_PID/maps")
if [ -n "$heap" ]; then
    rc=0
    timeout 30 "$POOLTAG" ln "$HOST_PID" "$heap" >/dev/null || rc=$?
    [ "$rc" = 1 ] || fail "ln of the heap: exit $rc"
fi
kill "$HOST_PID"

# From a snapshot of a preload run: the module table names it.
start_host "$POOLTAG" run --
timeout 30 "$POOLTAG" snap -o "$T/s.ptsnap" "$HOST_PID" >/dev/null || fail "snap"
check_ln "$HOST_PID"
kill "$HOST_PID"
wait "$HOST_PID" 2>/dev/null
check_ln "$T/s.ptsnap"

# Bad addresses and arguments.
expect_error ln "bad address 'zz'" "$POOLTAG" ln "$T/s.ptsnap" zz
expect_error ln "bad address '0x'" "$POOLTAG" ln "$T/s.ptsnap" 0x
expect_error ln "bad address '12345678901234567'" "$POOLTAG" ln "$T/s.ptsnap" 12345678901234567
expect_error ln "missing SOURCE and ADDR" "$POOLTAG" ln
expect_error ln "missing ADDR after SOURCE" "$POOLTAG" ln "$T/s.ptsnap"
expect_error ln "too many arguments" "$POOLTAG" ln "$T/s.ptsnap" 1 2
expect_error ln "unknown option '--frob'" "$POOLTAG" ln --frob "$T/s.ptsnap" 1
true &
gone=$!
wait "$gone"
expect_error ln "no process with PID $gone" "$POOLTAG" ln "$gone" 0x1000
"$POOLTAG" ln --help | grep -q '^Usage: pooltag ln ' || fail "ln --help"
echo "ln_live: ok"
