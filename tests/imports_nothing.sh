#!/usr/bin/env bash
# Issue 9: `pooltag imports` exits 2 when nothing could be read (as its
# --help says, and as `find` does), also when the files that could not be
# read were found inside a directory; one good file is enough for 0 or 1.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures

mkdir -p "$T/d/sub"
head -c 200 "$F/libfx_plugin_leaky.so" >"$T/d/cut.so"
printf '\177ELF\002\001\001damaged' >"$T/d/sub/bad.so"
echo "just text" >"$T/d/README"
rc=0
timeout 30 "$POOLTAG" imports api_query "$T/d" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 2 ] || fail "imports on a tree of unreadable ELF files: exit $rc, expected 2"
[ ! -s "$T/o" ] || fail "imports printed on stdout: $(cat "$T/o")"
tail -1 "$T/e" | grep -qx "pooltag imports: nothing could be read (2 skipped)" ||
    fail "imports stderr: $(cat "$T/e")"
[ "$(wc -l <"$T/e")" = 3 ] || fail "imports stderr is not one line per file and one summary: $(cat "$T/e")"
# With --json too.
rc=0
timeout 30 "$POOLTAG" imports --json api_query "$T/d" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 2 ] || fail "imports --json on a tree of unreadable ELF files: exit $rc, expected 2"
# One readable ELF file that does not import the symbol: 1 (nothing matched).
cp "$F/libfx_seapi.so" "$T/d/"
rc=0
timeout 30 "$POOLTAG" imports api_query "$T/d" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 1 ] || fail "imports with one readable file, no match: exit $rc, expected 1"
# ... and one that does: 0.
cp "$F/libfx_plugin_good.so" "$T/d/"
rc=0
timeout 30 "$POOLTAG" imports api_query "$T/d" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 0 ] || fail "imports with a match: exit $rc, expected 0"
echo "imports_nothing: ok"
