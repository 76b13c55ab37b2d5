#!/usr/bin/env bash
# Bad input to `pooltag run`: each a single "pooltag run: ..." line on
# stderr, nothing on stdout, CMD never started, exit status 2 (usage or
# input), 127 (CMD not found) or 126 (CMD cannot be executed), as a shell.
# Needs no preload: every check here comes before run looks for it, or is
# about finding it.
. "$(dirname "$0")/run_lib.sh"

R=("$POOLTAG" run)
mark=$T/started          # a CMD that ran would create it
CMD=(sh -c ": >'$mark'")
started() { [ -e "$mark" ] && fail "CMD ran despite the error ($*)"; :; }

# Options.
expect_fail 2 "missing CMD" "${R[@]}"
expect_fail 2 "missing CMD" "${R[@]}" --
expect_fail 2 "missing CMD" "${R[@]}" --backend=libc --
expect_fail 2 "unknown option '--bogus'" "${R[@]}" --bogus -- true
expect_fail 2 "unknown option '-q'" "${R[@]}" -q -- true
expect_fail 2 "needs a value" "${R[@]}" --tags
expect_fail 2 "unknown backend 'jemalloc' (use mimalloc or libc)" \
    "${R[@]}" --backend=jemalloc -- "${CMD[@]}"
expect_fail 2 "unknown backend ''" "${R[@]}" --backend= -- "${CMD[@]}"
expect_fail 2 "unknown error policy 'ignore' (use report or abort)" \
    "${R[@]}" --on-error=ignore -- "${CMD[@]}"
for s in 10X -1 '' 1.5M 1KK M 99999999999999999999; do
    expect_fail 2 "--paged-max: '$s' is not a size" \
        "${R[@]}" --paged-max "$s" -- "${CMD[@]}"
done
# Sizes over the runtime's largest pool maximum (1T - 4097 bytes): the
# message and --help give the real limit (issue 9).
for s in 1T 1TiB 1024G 1099511623680 2T; do
    expect_fail 2 "--paged-max: '$s' is over the largest pool maximum, 1099511623679 bytes" \
        "${R[@]}" --paged-max "$s" -- "${CMD[@]}"
done
"${R[@]}" --help | grep -q 'most 1099511623679 = 1T - 4097' || fail "run --help does not give the pool maximum's limit"
expect_fail 2 "--nonpaged-max: 'lots' is not a size" \
    "${R[@]}" --nonpaged-max lots -- "${CMD[@]}"
expect_fail 2 "--wrapper wants a function name pattern" \
    "${R[@]}" --wrapper '' -- "${CMD[@]}"
expect_fail 2 "--wrapper wants a function name pattern" \
    "${R[@]}" --wrapper 'a,,b' -- "${CMD[@]}"
expect_fail 2 "has no spaces" "${R[@]}" --wrapper 'my alloc' -- "${CMD[@]}"
started options

# The same values from the environment are checked too.
expect_fail 2 "PT_BACKEND (from the environment): unknown backend 'tcmalloc'" \
    env PT_BACKEND=tcmalloc "${R[@]}" -- "${CMD[@]}"
expect_fail 2 "PT_PAGED_MAX (from the environment): '5 MB' is not a size" \
    env PT_PAGED_MAX='5 MB' "${R[@]}" -- "${CMD[@]}"
expect_fail 2 "PT_TAGS (from the environment): cannot read rules file '$T/none'" \
    env PT_TAGS="$T/none" "${R[@]}" -- "${CMD[@]}"
started environment

# Rules files.
expect_fail 2 "--tags: cannot read rules file '$T/none': No such file or directory" \
    "${R[@]}" --tags "$T/none" -- "${CMD[@]}"
expect_fail 2 "--tags: rules file '$T' is not a regular file" \
    "${R[@]}" --tags "$T" -- "${CMD[@]}"
if [ "$(id -u)" != 0 ]; then
    echo 'libc* Lc' >"$T/noread"; chmod 000 "$T/noread"
    expect_fail 2 "cannot read rules file '$T/noread': Permission denied" \
        "${R[@]}" --tags "$T/noread" -- "${CMD[@]}"
fi
rules() { printf '%b' "$1" >"$T/rules"; }
rules '# comment\n\nlibxml2.so* xml2\nlibz.so*\n'
expect_fail 2 "$T/rules:4: 'libz.so*' has no tag" \
    "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
rules 'libxml2.so* Toolong\n'
expect_fail 2 "$T/rules:1: bad tag 'Toolong': 1 to 4 characters" \
    "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
rules 'a* \\xZZ\n'
expect_fail 2 "$T/rules:1: bad tag '\\xZZ'" "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
rules '  # indented comment\r\n\tlibssl* TLS  \r\nlibssl* TLS extra words\n'
expect_fail 2 "$T/rules:3: unexpected 'extra words' after the tag" \
    "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
rules 'libc* Lc\nlib\0x* Nul\n'
expect_fail 2 "$T/rules:2: a NUL byte" "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
for i in $(seq 257); do echo "mod$i.so* M$i"; done >"$T/rules"
expect_fail 2 "$T/rules:257: more than 256 rules" \
    "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
{ for i in $(seq 3000); do echo "# padding padding padding"; done; echo 'a* A'; } >"$T/rules"
expect_fail 2 "the preload reads at most 65535" \
    "${R[@]}" --tags "$T/rules" -- "${CMD[@]}"
started rules

# CMD: not found 127, not executable 126, as a shell reports them.
expect_fail 127 "cannot run 'no-such-program-xyz': No such file or directory" \
    "${R[@]}" -- no-such-program-xyz
expect_fail 127 "cannot run '$T/none': No such file or directory" \
    "${R[@]}" -- "$T/none"
expect_fail 127 "cannot run '': No such file or directory" "${R[@]}" -- ''
expect_fail 127 "No such file or directory" env PATH="$T" "${R[@]}" -- sh -c true
echo 'echo hi' >"$T/noexec"; chmod 644 "$T/noexec"
expect_fail 126 "cannot run '$T/noexec': Permission denied" "${R[@]}" -- "$T/noexec"
mkdir -p "$T/p1" "$T/p2"
cp "$T/noexec" "$T/p1/tool"
expect_fail 126 "cannot run 'tool': Permission denied" \
    env PATH="$T/p1:$T/p2" "${R[@]}" -- tool
expect_fail 126 "cannot run '$T': Is a directory" "${R[@]}" -- "$T"

# CMD that the preload cannot load into.
if command -v readelf >/dev/null && [ -x /sbin/ldconfig ] &&
    ! readelf -l /sbin/ldconfig 2>/dev/null | grep -q INTERP; then
    expect_fail 2 "'/sbin/ldconfig' is statically linked" \
        "${R[@]}" -- /sbin/ldconfig --help
fi
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    cp /bin/true "$T/suid"; chown nobody "$T/suid"; chmod 4755 "$T/suid"
    expect_fail 2 "'$T/suid' is set-user-ID" "${R[@]}" -- "$T/suid"
fi
started cmd

# The preload: POOLTAG_PRELOAD that is not one, none found at all.
expect_fail 2 "POOLTAG_PRELOAD=$T/none.so: No such file or directory" \
    env POOLTAG_PRELOAD="$T/none.so" "${R[@]}" -- "${CMD[@]}"
expect_fail 2 "POOLTAG_PRELOAD=$T/rules: not an ELF shared object" \
    env POOLTAG_PRELOAD="$T/rules" "${R[@]}" -- "${CMD[@]}"
expect_fail 2 "POOLTAG_PRELOAD=/bin/true: not an ELF shared object" \
    env POOLTAG_PRELOAD=/bin/true "${R[@]}" -- "${CMD[@]}"
# Another library is refused, not loaded to run the program untagged.
libz=$(ls /lib/*/libz.so.1 /usr/lib/*/libz.so.1 /usr/lib/libz.so.1 2>/dev/null | head -1)
if [ -n "$libz" ]; then
    expect_fail 2 "POOLTAG_PRELOAD=$libz: not pooltag's preload" \
        env POOLTAG_PRELOAD="$libz" "${R[@]}" -- "${CMD[@]}"
fi
mkdir -p "$T/inst/bin"
cp "$POOLTAG" "$T/inst/bin/pooltag"
if ! ls /usr/local/lib/libpooltag-preload.so /usr/lib/libpooltag-preload.so \
    /usr/lib/*/libpooltag-preload.so >/dev/null 2>&1; then
    expect_fail 2 "cannot find libpooltag-preload.so (looked in " \
        "$T/inst/bin/pooltag" run -- "${CMD[@]}"
    grep -qF "$T/inst/lib" "$T/ef.err" || fail "the message does not name $T/inst/lib"
    grep -qF "set POOLTAG_PRELOAD" "$T/ef.err" || fail "the message gives no remedy"
fi
started preload
echo "run error tests passed"
