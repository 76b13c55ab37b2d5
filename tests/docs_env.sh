#!/usr/bin/env bash
# Issue 9: every setting the code reads is documented.  The names come
# from the code: the runtime's options table (src/runtime/options.c), every
# getenv("PT_...")/getenv("POOLTAG_...") in src/, and the glob lists the
# preload reads (load_globs("PT_...")).  Each must be in the man page's
# ENVIRONMENT sections and in README.md's settings tables.
. "$(dirname "$0")/cli_lib.sh"
S=$PT_SRC
names=$( {
    grep -ohE '\{"PT_[A-Z0-9_]+", OPT_' "$S/src/runtime/options.c" | grep -oE 'PT_[A-Z0-9_]+'
    grep -rohE 'getenv\("(PT|POOLTAG)_[A-Z0-9_]+"\)' "$S/src" | grep -oE '(PT|POOLTAG)_[A-Z0-9_]+'
    grep -rohE 'load_globs\("PT_[A-Z0-9_]+"' "$S/src" | grep -oE 'PT_[A-Z0-9_]+'
} | sort -u | grep -vx 'POOLTAG_FIND_TEST_PAUSE')   # a test hook of find_live
[ "$(wc -w <<<"$names")" -ge 15 ] || fail "too few names found in the code: $names"
man=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH FILES/p' "$S/man/pooltag.1" | sed 's/\\-/-/g')
readme=$(sed -n '/^### Settings/,/^## How it works/p' "$S/README.md")
missing=""
for n in $names; do
    grep -qw -- "$n" <<<"$man" || missing+=" man:$n"
    grep -q -- "| \`$n\` |" <<<"$readme" || missing+=" README:$n"
done
[ -z "$missing" ] || fail "settings read by the code but not documented:$missing"
# pooltag run's synopsis in the man page has every option of run --help.
syn=$(grep '^\.BR run ' "$S/man/pooltag.1" | sed 's/\\-/-/g')
# (An option with a short form may be given by either.)
while read -r short long; do
    [ "$long" = --help ] && continue
    grep -q -- "$long" <<<"$syn" || { [ -n "$short" ] && grep -q -- "\"$short\"\| $short " <<<"$syn"; } ||
        fail "the man page's run synopsis lacks $long"
done < <("$POOLTAG" run --help | sed -nE 's/^  (-[a-z], )?(--[a-z-]+).*/\1 \2/p' | sed 's/,//')
echo "docs_env: ok ($(wc -w <<<"$names") names)"
