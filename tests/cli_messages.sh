#!/usr/bin/env bash
# cli_messages — messages that named the wrong problem (issue 9, low items):
#   - `pooltag --bogus` is an unknown option, not an unknown verb;
#   - `pooltag help help` shows help's help (the verb list), exit 0;
#   - extra arguments to `help VERB` and to `--version` are exit 2;
#   - `pooltag run` of a script whose #! interpreter is missing names the
#     interpreter (it said the script was missing), exit 126 like a shell.
. "$PT_SRC/tests/cli_lib.sh"

expect_top() {   # like expect_error, for the dispatcher ("pooltag: ...")
    local want=$1 rc=0
    shift
    "$@" >"$T/o" 2>"$T/e" || rc=$?
    [ "$rc" = 2 ] || fail "'$*' exited $rc, expected 2"
    [ ! -s "$T/o" ] || fail "'$*' printed on stdout: $(head -2 "$T/o")"
    [ "$(wc -l <"$T/e")" = 1 ] || fail "'$*' stderr is not one line: $(cat "$T/e")"
    grep -qF -- "$want" "$T/e" || fail "'$*': $(cat "$T/e")"
}
expect_top "pooltag: unknown option '--bogus'" "$POOLTAG" --bogus
expect_top "pooltag: unknown option '-x'" "$POOLTAG" -x used 1
expect_top "pooltag: unknown verb 'frob'" "$POOLTAG" frob
expect_top "pooltag help: one verb at a time ('extra' is extra" "$POOLTAG" help used extra
expect_top "pooltag: --version takes no arguments ('x' is extra)" "$POOLTAG" --version x
"$POOLTAG" help help >"$T/hh" 2>"$T/e" || fail "help help: exit $? $(cat "$T/e")"
"$POOLTAG" --help >"$T/h" || fail "--help"
cmp -s "$T/h" "$T/hh" || fail "help help is not the verb list"
"$POOLTAG" --version >/dev/null || fail "--version alone"

printf '#!/no/such/interpreter -w\necho hi\n' >"$T/script"
chmod +x "$T/script"
rc=0
"$POOLTAG" run "$T/script" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 126 ] || fail "run of a script without its interpreter: exit $rc: $(cat "$T/e")"
grep -qF "pooltag run: cannot run '$T/script': its interpreter '/no/such/interpreter' (the #! line) does not exist" "$T/e" ||
    fail "run: $(cat "$T/e")"
rc=0
"$POOLTAG" run "$T/missing" 2>"$T/e" || rc=$?
[ "$rc" = 127 ] && grep -q "No such file" "$T/e" || fail "run of a missing file: $rc $(cat "$T/e")"
echo "cli_messages: ok"
