#!/usr/bin/env bash
# Bad input to `pooltag find`: non-ELF files (ignored unless --all-files),
# a truncated ELF, stripped binaries, an unreadable file and directory
# (reported, the scan goes on), a PID that does not exist or exits during
# the scan, bad tags and options (one line on stderr, exit 2).
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/find_lib.sh"
need_fixtures
need_notmyfault
# The always-optimised copy of libfx_tagtwo.so (see tests/find.cmake).
FXLIB=${PT_FIND_FIXTURES:?PT_FIND_FIXTURES not set}/libfx_find_tagtwo.so

D=$T/tree
mkdir -p "$D/sub/deeper"
cp "$FXLIB" "$D/sub/good.so"
printf 'FxTw in a text file\n' >"$D/notes.txt"
printf '\x7fEL' >"$D/tiny"                 # shorter than the ELF magic
: >"$D/empty"
# A symlink loop and a link to a library: neither is followed in a walk.
ln -s .. "$D/sub/deeper/up"
ln -s ../sub/good.so "$D/sub/deeper/link.so"
mkfifo "$D/fifo"

# --- non-ELF files: ignored silently, found with --all-files -------------
run_find 0 "$T/a.out" "$T/a.err" FxTw "$D"
[ ! -s "$T/a.err" ] || fail "non-ELF files reported: $(cat "$T/a.err")"
hit_lines "$T/a.out" | grep -q 'notes.txt' && fail "text file scanned without --all-files"
[ "$(hit_lines "$T/a.out" | grep -c '^code .*/sub/good\.so$')" = 2 ] || fail "hits lost: $(hit_lines "$T/a.out")"
hit_lines "$T/a.out" | grep -q 'link\.so\|/up/' && fail "symlink followed: $(hit_lines "$T/a.out")"
grep -qE '1 ELF file scanned, 3 not ELF ignored, 0 skipped' "$T/a.out" || fail "counts: $(tail -1 "$T/a.out")"
run_find 0 "$T/b.out" "$T/b.err" --all-files FxTw "$D"
grep -qE '^data  notes\.txt \[not an ELF file\]  -  addr -  offset 0x0  .*/notes\.txt$' "$T/b.out" ||
    fail "--all-files: $(hit_lines "$T/b.out")"

# --- truncated ELF: hits reported, with the reason there is no name -------
size=$(stat -c %s "$FXLIB")
head -c $((size / 2)) "$FXLIB" >"$T/trunc.so"
run_find 0 "$T/t.out" "$T/t.err" FxTw "$T/trunc.so"
[ "$(hit_lines "$T/t.out" | grep -c '^code .*damaged ELF.*truncated')" = 2 ] ||
    fail "truncated ELF: $(cat "$T/t.out" "$T/t.err")"
# Cut anywhere: never a crash (exit 0 with hits or 1 without).
for cut in 3 4 40 64 100 1000 4400 $((size - 1)); do
    head -c "$cut" "$FXLIB" >"$T/cut.so"
    rc=0
    timeout 20 "$POOLTAG" find FxTw "$T/cut.so" >"$T/cut.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "cut at $cut: exit $rc: $(tail -3 "$T/cut.out")"
done

# --- stripped binaries -----------------------------------------------------
if command -v strip >/dev/null; then
    # notmyfault's leak_step is static: no symbol survives strip.
    # (Unoptimised builds hold the tag as a string: no code hit to check.)
    has_immediate "$NOTMYFAULT" 0x6b61654c && {
    cp "$NOTMYFAULT" "$T/nmf-stripped"
    strip "$T/nmf-stripped"
    run_find 0 "$T/s.out" "$T/s.err" -c Leak "$T/nmf-stripped"
    hit_lines "$T/s.out" | grep -q '!' && fail "stripped binary named a symbol: $(hit_lines "$T/s.out")"
    [ "$(hit_lines "$T/s.out" | grep -cE '^code  nmf-stripped \[no symbol: stripped.*\]  \.text  ')" -ge 2 ] ||
        fail "stripped notmyfault: $(hit_lines "$T/s.out")"
    }
    # libfx_tagtwo.so exports both functions: .dynsym still names them.
    cp "$FXLIB" "$T/tagtwo-stripped.so"
    strip "$T/tagtwo-stripped.so"
    run_find 0 "$T/s2.out" "$T/s2.err" -c FxTw "$T/tagtwo-stripped.so"
    grep -qE '^code  tagtwo-stripped\.so!fx_make_request\+0x[0-9a-f]+ \(\.dynsym\)  \.text' "$T/s2.out" ||
        fail "stripped library: $(hit_lines "$T/s2.out")"
fi

# --- unreadable file and directory: reported, the scan goes on ------------
U=$T/perm
mkdir -p "$U/locked-dir"
cp "$FXLIB" "$U/a-readable.so"
cp "$FXLIB" "$U/b-locked.so"
cp "$FXLIB" "$U/locked-dir/hidden.so"
chmod 000 "$U/b-locked.so" "$U/locked-dir"
chmod 755 "$U"
AS=()
if [ "$(id -u)" = 0 ]; then
    if ! command -v setpriv >/dev/null ||
        ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$POOLTAG"; then
        echo "SKIP (part): cannot run as another user; unreadable-file checks skipped" >&2
        AS=(skip)
    else
        AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
fi
if [ "${AS[0]:-}" != skip ]; then
    rc=0
    timeout 20 "${AS[@]}" "$POOLTAG" find FxTw "$U" >"$T/p.out" 2>"$T/p.err" || rc=$?
    [ "$rc" = 0 ] || fail "unreadable files: exit $rc: $(cat "$T/p.err")"
    grep -qxE "pooltag find: skipped: $U/b-locked\.so: Permission denied" "$T/p.err" ||
        fail "locked file not reported: $(cat "$T/p.err")"
    grep -qxE "pooltag find: skipped: $U/locked-dir: Permission denied" "$T/p.err" ||
        fail "locked directory not reported: $(cat "$T/p.err")"
    [ "$(wc -l <"$T/p.err")" = 2 ] || fail "stderr: $(cat "$T/p.err")"
    [ "$(hit_lines "$T/p.out" | grep -c '^code .*a-readable\.so$')" = 2 ] || fail "scan did not go on: $(cat "$T/p.out")"
    grep -qE ', 2 skipped$' "$T/p.out" || fail "summary: $(tail -1 "$T/p.out")"
    # Nothing at all readable: an input error.
    rc=0
    timeout 20 "${AS[@]}" "$POOLTAG" find FxTw "$U/b-locked.so" >"$T/p2.out" 2>"$T/p2.err" || rc=$?
    [ "$rc" = 2 ] || fail "only an unreadable file: exit $rc"
    grep -q 'nothing could be scanned' "$T/p2.err" || fail "$(cat "$T/p2.err")"
fi
chmod 755 "$U/locked-dir"

# --- PIDs ------------------------------------------------------------------
true &
gone=$!
wait "$gone"
expect_error find "no process with PID $gone" "$POOLTAG" find Leak "$gone"
expect_error find "no process with PID 99999999999" "$POOLTAG" find Leak 99999999999
expect_error find "no process with PID 0" "$POOLTAG" find Leak 0

# A process that exits during the scan: pooltag stops itself after the
# first module (test hook), the process is killed, pooltag goes on.
"$NOTMYFAULT" --quiet --leak paged --rate 64K --duration 50 &
nmf=$!
track_pid "$nmf"
wait_tagged "$nmf" Leak
POOLTAG_FIND_TEST_PAUSE=1 "$POOLTAG" find Leak "$nmf" >"$T/x.out" 2>"$T/x.err" &
fp=$!
track_pid "$fp"
stopped=0
for _ in $(seq 300); do
    st=$(awk '{print $3}' "/proc/$fp/stat" 2>/dev/null || echo gone)
    [ "$st" = T ] && { stopped=1; break; }
    [ "$st" = gone ] && break
    sleep 0.1
done
[ "$stopped" = 1 ] || fail "pooltag find never paused (state $st): $(cat "$T/x.err")"
kill -9 "$nmf"
wait "$nmf" 2>/dev/null
kill -CONT "$fp"
rc=0
wait "$fp" || rc=$?
[ "$rc" = 0 ] || fail "exit mid-scan: exit $rc: $(cat "$T/x.err")"
if has_immediate "$NOTMYFAULT" 0x6b61654c; then
    grep -q '^code  notmyfault!leak_step+' "$T/x.out" || fail "hits before the exit lost: $(cat "$T/x.out")"
else
    grep -q '^data  notmyfault' "$T/x.out" || fail "hits before the exit lost: $(cat "$T/x.out")"
fi
grep -q "process $nmf exited during the scan" "$T/x.out" || fail "no exit note: $(tail -3 "$T/x.out")"
grep -qx "pooltag find: process $nmf exited during the scan; results are partial" "$T/x.err" ||
    fail "stderr: $(cat "$T/x.err")"

# --- bad tags, options, arguments -----------------------------------------
expect_error find "bad tag 'Leakk'" "$POOLTAG" find Leakk "$D"
expect_error find "bad tag ''" "$POOLTAG" find "" "$D"
expect_error find "bad tag 'a\\xZZ'" "$POOLTAG" find 'a\xZZ' "$D"
expect_error find "bad value 'xyz'" "$POOLTAG" find --hex xyz "$D"
expect_error find "bad value '0x123456789'" "$POOLTAG" find --hex 0x123456789 "$D"
expect_error find "missing TAG" "$POOLTAG" find
expect_error find "missing what to search after TAG: a PID, or files and directories" "$POOLTAG" find Leak
expect_error find "give one PID or PATHs" "$POOLTAG" find Leak 1 "$D"
expect_error find "give one PID or PATHs" "$POOLTAG" find Leak 1 2
expect_error find "unknown option '--frobnicate'" "$POOLTAG" find --frobnicate Leak "$D"
expect_error find "unknown option '-z'" "$POOLTAG" find -z Leak "$D"
expect_error find "needs a value" "$POOLTAG" find Leak "$D" --max
expect_error find "--max wants a number of hits" "$POOLTAG" find --max 0 Leak "$D"
expect_error find "--max wants a number of hits" "$POOLTAG" find --max x Leak "$D"
expect_error find "empty PATH" "$POOLTAG" find Leak ""
# A path that does not exist: reported, and with nothing else, exit 2.
rc=0
"$POOLTAG" find Leak "$T/nope" >"$T/n.out" 2>"$T/n.err" || rc=$?
[ "$rc" = 2 ] || fail "missing path: exit $rc"
grep -qx "pooltag find: skipped: $T/nope: No such file or directory" "$T/n.err" || fail "$(cat "$T/n.err")"
run_find 0 "$T/n2.out" "$T/n2.err" FxTw "$T/nope" "$FXLIB"
grep -q 'skipped' "$T/n2.err" || fail "missing path not reported beside a good one"

# Help and the verb list.
"$POOLTAG" find --help >"$T/h.out" || fail "--help exit"
grep -q '^Usage: pooltag find ' "$T/h.out" || fail "--help text"
grep -q -- '--code-only' "$T/h.out" || fail "--help lacks --code-only"
"$POOLTAG" --help | grep -qE '^  find ' || fail "find missing from pooltag --help"
echo "find_errors: ok"
