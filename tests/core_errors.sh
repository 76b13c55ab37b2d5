#!/usr/bin/env bash
# Bad input for the core reader, each one line "pooltag VERB: ..." and exit
# status 2: a truncated core (cut in its memory, in its program headers,
# in its ELF header), another architecture's core (e_machine patched to
# AArch64), program headers that point past the end, ELF files that are
# not cores (an executable, a shared object), a snapshot given where a core
# is needed, an untagged core given to a pooltag-specific verb (which then
# names the verbs that read it; lm does).  The cores are gcores of sleep,
# which runs in every build.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/core_lib.sh"

sleep 600 &
S=$!
track_pid "$S"
C=$T/core.sleep
take_gcore "$S" "$C"
size=$(stat -c %s "$C")

# An untagged core: the segment verbs say what reads it; lm and ln read it.
for v in used vm; do
    expect_error "$v" "$C: not a tagged process (no pooltag segment in this core); the dump verbs (address, heap, search, leaks) read any core" "$POOLTAG" "$v" "$C"
done
expect_error sites "not a tagged process" "$POOLTAG" sites "$C" CoA1
"$POOLTAG" lm "$C" >"$T/lm" 2>"$T/err" || fail "lm untagged core: $(cat "$T/err")"
grep -q " libc.so.6 " "$T/lm" || fail "lm untagged core: no libc: $(cat "$T/lm")"
head -1 "$T/lm" | grep -q "core $C of process $S (sleep): .* modules (core)" ||
    fail "lm untagged core: $(head -1 "$T/lm")"
"$POOLTAG" lm --json "$C" >"$T/lm.json" || fail "lm --json untagged core"
python3 - "$T/lm.json" "$S" <<'PY' || fail "lm --json: $(head -c 400 "$T/lm.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"]["kind"] == "core" and d["source"]["pid"] == int(sys.argv[2]), d["source"]
assert d["module_table"] is False
assert any(m["name"] == "libc.so.6" and m["build_id"] for m in d["modules"])
PY
rc=0
"$POOLTAG" ln "$C" 0x10 >"$T/ln" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ln of an unmapped address in a core: exit $rc: $(cat "$T/ln")"

# Truncated: in the memory, in the program headers, in the ELF header.
head -c $((size / 2)) "$C" >"$T/half"
head -c 200 "$C" >"$T/head200"
head -c 40 "$C" >"$T/head40"
for f in half head200 head40; do
    for v in used lm; do
        expect_error "$v" "$T/$f: truncated core file: " "$POOLTAG" "$v" "$T/$f"
    done
done
expect_error ln "$T/half: truncated core file: " "$POOLTAG" ln "$T/half" 0x1000

# Another architecture: e_machine (offset 18) = 183, EM_AARCH64.
cp "$C" "$T/arm"
printf '\xb7\x00' | dd of="$T/arm" bs=1 seek=18 conv=notrunc status=none
for v in used lm; do
    expect_error "$v" "$T/arm: a core file of another architecture (AArch64), this pooltag reads x86-64 cores" "$POOLTAG" "$v" "$T/arm"
done

# Program headers past the end (e_phoff, offset 32, patched to 2^40).
cp "$C" "$T/phoff"
printf '\x00\x00\x00\x00\x00\x01\x00\x00' | dd of="$T/phoff" bs=1 seek=32 conv=notrunc status=none
expect_error used "$T/phoff: truncated core file: " "$POOLTAG" used "$T/phoff"

# ELF files that are not cores.
LIBC=$(awk '/ libc.so.6 /{print $NF; exit}' "$T/lm")
[ -f "$LIBC" ] || fail "no libc path in lm: $(cat "$T/lm")"
for v in used lm; do
    expect_error "$v" "$LIBC: not a core file (an ELF shared object)" "$POOLTAG" "$v" "$LIBC"
    expect_error "$v" "$CORE_FX: not a core file (" "$POOLTAG" "$v" "$CORE_FX"
done

# A snapshot where a core is needed (test_pimg opens it as the dump verbs
# do); a snapshot still reads as a snapshot in used.
start_fx
"$POOLTAG" snap -o "$T/fx.snap" "$FX_PID" >/dev/null || fail "snap"
"$POOLTAG" used "$T/fx.snap" >/dev/null || fail "used on a snapshot"
rc=0
"$TEST_PIMG" "$T/fx.snap" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "test_pimg on a snapshot: exit $rc"
grep -qF "$T/fx.snap: a pooltag snapshot, not a core file: it holds no process memory" "$T/err" ||
    fail "snapshot as a core: $(cat "$T/err")"
: >"$T/empty"
rc=0
"$TEST_PIMG" "$T/empty" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -qF "$T/empty: empty file, not a core file" "$T/err" ||
    fail "empty file as a core: exit $rc: $(cat "$T/err")"
echo PASS
