#!/usr/bin/env bash
# `pooltag run` becomes CMD: same PID, CMD's exit status (and death by
# signal), stdin/stdout/stderr and arguments passed through untouched; the
# environment CMD gets: LD_PRELOAD with the preload first (other entries
# kept, stale copies of the preload dropped), the PT_* settings from the
# options or, checked, from the environment.
. "$(dirname "$0")/run_lib.sh"
need_preload
need_python

run() { timeout 30 "$POOLTAG" run "$@"; }

# Exit status: CMD's own.
for want in 0 1 3 255; do
    rc=0; run -- sh -c "exit $want" </dev/null || rc=$?
    [ "$rc" = "$want" ] || fail "sh -c 'exit $want' under run: exit $rc"
done
rc=0; run -- "$PY" -c 'import sys; sys.exit(7)' || rc=$?
[ "$rc" = 7 ] || fail "python3 sys.exit(7) under run: exit $rc"

# Death by a signal: the shell sees 128+N, and the process really died by
# the signal (no wrapper translating it into an exit code).
rc=0; run -- sh -c 'kill -TERM $$' || rc=$?
[ "$rc" = 143 ] || fail "killed by SIGTERM: exit $rc, expected 143"
rc=0; run -- "$PY" -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)' || rc=$?
[ "$rc" = 137 ] || fail "killed by SIGKILL: exit $rc, expected 137"
"$PY" - "$POOLTAG" <<'PY' || fail "the child of run was not killed by the signal"
import subprocess, sys
r = subprocess.run([sys.argv[1], "run", "--", "sh", "-c", "kill -INT $$"],
                   timeout=30)
assert r.returncode == -2, r.returncode
PY

# The PID is the program's: $! of `pooltag run ... &` is CMD itself.
"$POOLTAG" run -- "$PY" -c 'import os, time; print(os.getpid(), flush=True); time.sleep(30)' \
    >"$T/pid" &
bg=$!
track_pid "$bg"
wait_file "$T/pid"
[ "$(cat "$T/pid")" = "$bg" ] || fail "CMD's PID $(cat "$T/pid") is not \$! = $bg"
[ "$(cat /proc/$bg/comm)" = python3 ] || fail "PID $bg is $(cat /proc/$bg/comm), not python3"
kill "$bg"; wait "$bg" 2>/dev/null

# stdin -> stdout byte for byte (1 MiB of random bytes), stderr separate.
head -c 1048576 /dev/urandom >"$T/in"
run -- cat <"$T/in" >"$T/out" 2>"$T/err" || fail "cat under run: exit $?"
cmp -s "$T/in" "$T/out" || fail "stdin did not reach stdout unchanged"
[ ! -s "$T/err" ] || fail "cat under run wrote to stderr: $(head -3 "$T/err")"
run -- sh -c 'echo to-out; echo to-err >&2' >"$T/out" 2>"$T/err" || fail "sh"
[ "$(cat "$T/out")" = to-out ] || fail "stdout: $(cat "$T/out")"
[ "$(cat "$T/err")" = to-err ] || fail "stderr: $(cat "$T/err")"
printf 'line1\nline2\n' | run -- "$PY" -c 'import sys; print(sys.stdin.read().upper(), end="")' >"$T/out"
[ "$(cat "$T/out")" = "$(printf 'LINE1\nLINE2')" ] || fail "pipe into python3: $(cat "$T/out")"

# Arguments untouched; CMD's options are not taken for run's.
run -- "$PY" -c 'import sys, json; print(json.dumps(sys.argv[1:]))' \
    'a b' '' -x '*' --backend=libc -- >"$T/out" || fail "argv"
[ "$(cat "$T/out")" = '["a b", "", "-x", "*", "--backend=libc", "--"]' ] ||
    fail "argv: $(cat "$T/out")"
run printf '%s|' -v --help >"$T/out" || fail "run without --"
[ "$(cat "$T/out")" = '-v|--help|' ] || fail "CMD options without --: $(cat "$T/out")"

# The environment CMD gets (--follow-children keeps the preload in
# LD_PRELOAD, so `env` shows what run set).
getenv() { grep "^$1=" "$T/env" | head -1 | cut -d= -f2-; }
run --backend=libc --follow-children -- env >"$T/env" || fail "env"
[ "$(getenv LD_PRELOAD)" = "$PRELOAD" ] || fail "LD_PRELOAD=$(getenv LD_PRELOAD), not $PRELOAD"
[ "$(getenv PT_BACKEND)" = libc ] || fail "PT_BACKEND=$(getenv PT_BACKEND)"
[ "$(getenv PT_FOLLOW_CHILDREN)" = 1 ] || fail "PT_FOLLOW_CHILDREN=$(getenv PT_FOLLOW_CHILDREN)"

LIBM=
for f in /lib/x86_64-linux-gnu/libm.so.6 /lib64/libm.so.6 /usr/lib64/libm.so.6 \
    /lib/libm.so.6; do
    [ -f "$f" ] && LIBM=$(realpath "$f") && break
done
if [ -f "$LIBM" ]; then
    # Other entries are kept after the preload, in order.
    LD_PRELOAD=$LIBM run --follow-children -- env >"$T/env" || fail "env 2"
    [ "$(getenv LD_PRELOAD)" = "$PRELOAD:$LIBM" ] ||
        fail "LD_PRELOAD=$(getenv LD_PRELOAD), not $PRELOAD:$LIBM"
    # A run inside a tagged run: the outer copy of the preload is replaced.
    # (Not with a sanitizer build of pooltag: the preload would take malloc
    # from under ASan in pooltag itself.)
    [ "$ASAN_CLI" = 1 ] || {
    mkdir -p "$T/old"
    cp "$PRELOAD" "$T/old/libpooltag-preload.so"
    env PT_FOLLOW_CHILDREN=1 LD_PRELOAD="$T/old/libpooltag-preload.so $LIBM" \
        timeout 30 "$POOLTAG" run --follow-children -- env >"$T/env" || fail "nested"
    [ "$(getenv LD_PRELOAD)" = "$PRELOAD:$LIBM" ] ||
        fail "nested run: LD_PRELOAD=$(getenv LD_PRELOAD), not $PRELOAD:$LIBM"
    }
    # Without --follow-children the preload leaves CMD's LD_PRELOAD to the
    # other entries (its children run untagged).
    LD_PRELOAD=$LIBM run -- env >"$T/env" || fail "env 3"
    [ "$(getenv LD_PRELOAD)" = "$LIBM" ] || fail "untagged children: LD_PRELOAD=$(getenv LD_PRELOAD)"
    # POOLTAG_PRELOAD names the library to load (a copy of the preload
    # elsewhere: another library is refused, see run_errors).
    mkdir -p "$T/alt" && cp "$PRELOAD" "$T/alt/libpooltag-preload.so"
    POOLTAG_PRELOAD=$T/alt/libpooltag-preload.so run --follow-children -- env >"$T/env" || fail "POOLTAG_PRELOAD"
    [ "$(getenv LD_PRELOAD)" = "$T/alt/libpooltag-preload.so" ] ||
        fail "POOLTAG_PRELOAD ignored: $(getenv LD_PRELOAD)"
fi

# Settings: options set the variables, in canonical form; an option wins
# over the environment; the environment's checked value passes through;
# PT_FOLLOW_CHILDREN only from the flag.
mkdir -p "$T/d"
printf 'libc.so* Lc\n' >"$T/d/rules"
(cd "$T/d" && PT_BACKEND=libc PT_ON_ERROR=ABORT timeout 30 "$POOLTAG" run \
    --backend=mimalloc --tags rules --wrapper 'xmalloc*' --wrapper 'g_*,my_alloc' \
    --paged-max 64M --nonpaged-max 1KiB --follow-children -- env) >"$T/env" || fail "settings"
[ "$(getenv PT_BACKEND)" = mimalloc ] || fail "--backend did not win: $(getenv PT_BACKEND)"
[ "$(getenv PT_ON_ERROR)" = abort ] || fail "PT_ON_ERROR=ABORT: $(getenv PT_ON_ERROR)"
[ "$(getenv PT_TAGS)" = "$(realpath "$T/d/rules")" ] || fail "PT_TAGS=$(getenv PT_TAGS)"
[ "$(getenv PT_WRAPPERS)" = 'xmalloc*,g_*,my_alloc' ] || fail "PT_WRAPPERS=$(getenv PT_WRAPPERS)"
[ "$(getenv PT_PAGED_MAX)" = 67108864 ] || fail "PT_PAGED_MAX=$(getenv PT_PAGED_MAX)"
[ "$(getenv PT_NONPAGED_MAX)" = 1024 ] || fail "PT_NONPAGED_MAX=$(getenv PT_NONPAGED_MAX)"
PT_FOLLOW_CHILDREN=1 PT_VERBOSE=1 run -- env >"$T/env" 2>/dev/null || fail "env 4"
grep -q '^PT_FOLLOW_CHILDREN=' "$T/env" && fail "PT_FOLLOW_CHILDREN kept without the flag"
grep -q "^LD_PRELOAD=.*libpooltag-preload" "$T/env" && fail "the preload followed env's children"
[ "$(getenv PT_VERBOSE)" = 1 ] || fail "PT_VERBOSE did not pass through"

# --verbose: run says what it does on stderr (one exec line with CMD's PID),
# the preload prints its settings; stdout is CMD's alone.
run -v --backend=libc -- "$PY" -c 'import os; print(os.getpid())' >"$T/out" 2>"$T/err" || fail "-v"
grep -q "^pooltag run: preload $PRELOAD\$" "$T/err" || fail "-v: no preload line: $(cat "$T/err")"
grep -q "^pooltag run: exec .*python3.* as pid $(cat "$T/out")\$" "$T/err" ||
    fail "-v: no exec line with the PID: $(cat "$T/err")"
grep -q 'PT_BACKEND=libc' "$T/err" || fail "-v: settings not shown"
[ "$(wc -l <"$T/out")" = 1 ] || fail "-v wrote to stdout"

# Scripts: without #! run with sh, as execvp does; through #!/usr/bin/env
# a note says that only env is tagged.
printf 'echo script-ran "$1"\n' >"$T/plain"; chmod +x "$T/plain"
[ "$(run -- "$T/plain" arg1)" = "script-ran arg1" ] || fail "script without #!"
printf '#!/usr/bin/env sh\necho via-env\n' >"$T/viaenv"; chmod +x "$T/viaenv"
[ "$(run -- "$T/viaenv" 2>"$T/err")" = via-env ] || fail "#!/usr/bin/env script"
grep -q "^pooltag run: note: '$T/viaenv' starts through /usr/bin/env" "$T/err" ||
    fail "no note for #!/usr/bin/env: $(cat "$T/err")"
run --follow-children -- "$T/viaenv" >/dev/null 2>"$T/err" || fail "viaenv --follow-children"
[ ! -s "$T/err" ] || fail "note with --follow-children: $(cat "$T/err")"
echo "run exec tests passed"
