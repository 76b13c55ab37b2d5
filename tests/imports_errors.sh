#!/usr/bin/env bash
# Bad input to pooltag imports: non-ELF, truncated and stripped files,
# unreadable files, PIDs that do not exist or exit while they are read,
# bad options.  No crash; each problem one line on stderr; a file that
# cannot be read does not stop the scan; exit 0 listed, 1 nothing matched,
# 2 usage error or nothing could be read.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures

# run_imports WANT_RC ARGS...: run, check the exit status; output in
# $T/o and $T/e.
run_imports() {
    local want=$1 rc=0
    shift
    timeout 30 "$POOLTAG" imports "$@" >"$T/o" 2>"$T/e" || rc=$?
    [ "$rc" = "$want" ] || fail "imports $*: exit $rc, expected $want (stderr: $(cat "$T/e"))"
}
# one_line WANT: stderr is exactly one line "pooltag imports: ...WANT..."
one_line() {
    [ "$(wc -l <"$T/e")" = 1 ] && grep -q "^pooltag imports: .*$1" "$T/e" ||
        fail "stderr is not one line with '$1': $(cat "$T/e")"
}

# Usage errors.
expect_error imports "missing SYMBOL" "$POOLTAG" imports
expect_error imports "missing PID or PATH" "$POOLTAG" imports api_query
expect_error imports "unknown option '--frob'" "$POOLTAG" imports --frob api_query "$F"
expect_error imports "empty SYMBOL" "$POOLTAG" imports "" "$F"
expect_error imports "a PID must be the only source" "$POOLTAG" imports api_query 1 "$F"
true &
gone=$!
wait "$gone"
expect_error imports "no process with PID $gone" "$POOLTAG" imports api_query "$gone"
expect_error imports "no process with PID 99999999999" "$POOLTAG" imports api_query 99999999999
expect_error imports "cannot read $T/none: No such file or directory" "$POOLTAG" imports api_query "$T/none"

mkdir -p "$T/d"
cp "${PLUGINS[@]}" "$T/d/"
# A non-ELF file named on the command line: one line, nothing else read: 2.
echo "just text" >"$T/text"
expect_error imports "$T/text: not an ELF file" "$POOLTAG" imports api_query "$T/text"
# ... next to a good file: the scan goes on.
run_imports 0 api_query "$T/text" "$T/d/libfx_plugin_good.so"
one_line "$T/text: not an ELF file"
grep -q "libfx_plugin_good.so" "$T/o" || fail "good plugin not listed after a non-ELF file"
# Non-ELF files inside a directory are skipped silently.
cp "$T/text" "$T/d/README"
run_imports 0 api_query "$T/d"
[ ! -s "$T/e" ] || fail "non-ELF file in a directory reported: $(cat "$T/e")"

# Truncated ELF files, at several lengths (header only, cut section
# headers, cut data): one line each, named; the directory scan goes on.
size=$(stat -c %s "$F/libfx_plugin_leaky.so")
for n in 4 20 64 200 4096 $((size / 2)) $((size - 100)); do
    head -c "$n" "$F/libfx_plugin_leaky.so" >"$T/trunc.so"
    run_imports 2 api_query "$T/trunc.so"
    one_line "$T/trunc.so: .*\(truncated\|cut short\|damaged\)"
    [ ! -s "$T/o" ] || fail "truncated to $n bytes: output $(cat "$T/o")"
done
head -c 200 "$F/libfx_plugin_leaky.so" >"$T/d/cut.so"
run_imports 0 api_query "$T/d"
one_line "$T/d/cut.so"
[ "$(jget <(timeout 30 "$POOLTAG" imports --json api_query "$T/d" 2>/dev/null) 'len(d["results"])')" = 2 ] ||
    fail "the two plugins are not both listed next to a truncated file"
rm "$T/d/cut.so"

# A stripped library still has its dynamic symbols: listed.
strip --strip-all -o "$T/stripped.so" "$F/libfx_plugin_leaky.so"
run_imports 0 api_query "$T/stripped.so"
grep -q "stripped.so .*api_query .*JUMP_SLOT" "$T/o" || fail "stripped library: $(cat "$T/o")"
strip --strip-all -o "$T/seapi-stripped.so" "$F/libfx_seapi.so"
run_imports 0 --exports api_query "$T/seapi-stripped.so"

# An unreadable file, as another user (root drops to nobody).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    if "${NOBODY[@]}" test -x "$POOLTAG" && "${NOBODY[@]}" test -r "$T/d/libfx_plugin_good.so"; then
        cp "$F/libfx_plugin_leaky.so" "$T/d/secret.so"
        chmod 000 "$T/d/secret.so"
        rc=0
        timeout 30 "${NOBODY[@]}" "$POOLTAG" imports api_query "$T/d" >"$T/o" 2>"$T/e" || rc=$?
        [ "$rc" = 0 ] || fail "unreadable file in a directory: exit $rc: $(cat "$T/e")"
        one_line "cannot read $T/d/secret.so: Permission denied"
        [ "$(grep -c JUMP_SLOT "$T/o")" = 2 ] || fail "scan did not go on past the unreadable file: $(cat "$T/o")"
        rc=0
        timeout 30 "${NOBODY[@]}" "$POOLTAG" imports api_query "$T/d/secret.so" >"$T/o" 2>"$T/e" || rc=$?
        [ "$rc" = 2 ] || fail "unreadable file alone: exit $rc"
        one_line "Permission denied"
        # Another user's process: the ptrace rule, one line, exit 2.
        sleep 30 &
        sp=$!
        track_pid "$sp"
        expect_error imports "permission denied reading process $sp" "${NOBODY[@]}" "$POOLTAG" imports malloc "$sp"
        rm -f "$T/d/secret.so"
    else
        echo "note: build tree not readable by nobody; unreadable-file case skipped" >&2
    fi
fi

# Unreadable directory entries do not stop a walk; a directory loop by
# symbolic link is not followed.
ln -s "$T/d" "$T/d/loop"
run_imports 0 api_query "$T/d"
[ "$(grep -c JUMP_SLOT "$T/o")" = 2 ] || fail "symlink loop: $(cat "$T/o")"

# A process that exits while it is read: whatever happens, no crash, at
# most one line on stderr, and a partial list says the process exited.
for _ in 1 2 3; do
    start_host
    pid=$HOST_PID
    ( sleep 0.2; kill "$pid" ) &
    track_pid $!
    for _ in $(seq 40); do
        rc=0
        timeout 30 "$POOLTAG" imports '*' "$pid" >"$T/o" 2>"$T/e" || rc=$?
        case $rc in
        0 | 1) if [ -s "$T/e" ]; then one_line "process $pid exited during the scan"; fi ;;
        2) [ "$(wc -l <"$T/e")" = 1 ] || fail "exit 2 without one line: $(cat "$T/e")" ;;
        *) fail "imports of an exiting process: exit $rc: $(cat "$T/e")" ;;
        esac
        kill -0 "$pid" 2>/dev/null || break
    done
    wait "$pid" 2>/dev/null
done
expect_error imports "no process with PID $pid" "$POOLTAG" imports malloc "$pid"
"$POOLTAG" imports --help | grep -q '^Usage: pooltag imports ' || fail "imports --help"
echo "imports_errors: ok"
