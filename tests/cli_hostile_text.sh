#!/usr/bin/env bash
# Issue 9 item 8: text the target controls never reaches the terminal raw.
# cli_hostile, copied to an executable named "\e[2J\e]0;PWN\a", names itself
# so again (PR_SET_NAME) at run time, runs from a directory whose name
# holds ESC, and dlopens a library at a path with ESC, BEL and newline bytes that allocates with tag Host.  Every
# verb's table output (live and from a snapshot) must hold no ESC (0x1b)
# or BEL (0x07) byte and must show the escaped form "\x1b".
. "$(dirname "$0")/cli_lib.sh"
PROG=$PT_BUILD/tests/cli_hostile
LIB=$PT_BUILD/tests/libcli_hostile_lib.so
[ -x "$PROG" ] && [ -e "$LIB" ] || { echo "SKIP: cli_hostile not built" >&2; exit 77; }

EVIL=$(printf '\033[2J\033]0;PWN\a')
DIR="$T/$(printf 'bin\033[31mx')"
LIBDIR="$T/$(printf 'lib\033[31m\nx')"
mkdir -p "$DIR" "$LIBDIR"
cp "$PROG" "$DIR/$EVIL"
PLUG="$LIBDIR/$(printf 'lib\033]0;X\a\nhostile.so')"
cp "$LIB" "$PLUG"

ready=$T/ready
"$POOLTAG" run -- "$DIR/$EVIL" "$ready" "$PLUG" &
pid=$!
track_pid "$pid"
for _ in $(seq 300); do
    [ -s "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || fail "cli_hostile died while starting"
    sleep 0.05
done
[ -s "$ready" ] || fail "cli_hostile never became ready"
[ "$(cat "/proc/$pid/comm")" = "$EVIL" ] || fail "comm is not the hostile name"

# raw NAME FILE: FILE holds no ESC or BEL byte.
raw() {
    if LC_ALL=C grep -q $'[\033\a]' "$2"; then
        fail "$1 printed a raw ESC/BEL: $(od -c "$2" | grep -m3 -E '033|\\a')"
    fi
}
# check NAME FILE: raw, and FILE shows the escaped form "\x1b".
check() {
    raw "$1" "$2"
    grep -qF '\x1b' "$2" || fail "$1 shows no escaped \\x1b: $(head -5 "$2")"
}

# run_verb NAME CMD...: run the verb (exit 0 or 1), check its stdout.
run_verb() {
    local name=$1 rc=0
    shift
    timeout 30 "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -le 1 ] || fail "$name exited $rc: $(cat "$T/err")"
    check "$name" "$T/out"
    raw "$name (stderr)" "$T/err"
}

run_verb "lm" "$POOLTAG" lm "$pid"
run_verb "used" "$POOLTAG" used "$pid"
run_verb "vm" "$POOLTAG" vm "$pid"
run_verb "sites" "$POOLTAG" sites "$pid" Host
run_verb "snap" "$POOLTAG" snap -o "$T/s.ptsnap" "$pid"
run_verb "find" "$POOLTAG" find Host "$pid"
run_verb "imports" "$POOLTAG" imports pt_tag_of "$pid"
addr=$(awk '/hostile\.so/{print $1; exit}' <("$POOLTAG" lm "$pid" | tr -d '\033\a'))
[ -n "$addr" ] || fail "lm shows no hostile module"
run_verb "ln" "$POOLTAG" ln "$pid" "0x$addr"
for v in lm used vm sites; do
    run_verb "$v snapshot" "$POOLTAG" $v "$T/s.ptsnap" $([ $v = sites ] && echo Host)
done
run_verb "ln snapshot" "$POOLTAG" ln "$T/s.ptsnap" "0x$addr"
echo "cli_hostile_text: ok"
