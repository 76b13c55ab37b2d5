#!/usr/bin/env bash
# Issue 9: every setting the code reads is documented; issue 10: the
# tagged program's settings come from one table (src/common/options.def).
# The names come from the table (`pooltag run --settings-table`, which is
# generated from it, cross-checked against options.def's lines) and from
# every getenv("POOLTAG_...") in src/; a getenv("PT_...") outside the table's
# reader (src/runtime/options.c) is an error.  Each name must be in the man
# page's ENVIRONMENT sections and in README.md's settings tables; README's
# table of the PT_* variables must be exactly the generated one; the pool
# maximum's limit must be the one the man page and docs/run.md give.
. "$(dirname "$0")/cli_lib.sh"
S=$PT_SRC
"$POOLTAG" run --settings-table >"$T/table" || fail "run --settings-table exit $?"
opts=$(sed -nE 's/^\| `(PT_[A-Z0-9_]+)` \|.*/\1/p' "$T/table")
def=$(grep -oE '^PT_OPT\([A-Z0-9_]+,' "$S/src/common/options.def" | sed -E 's/PT_OPT\((.*),/PT_\1/')
[ "$opts" = "$def" ] || fail "the settings table is not options.def's: $opts / $def"
stray=$(grep -rnE 'getenv\("PT_' "$S/src" | grep -v '^[^:]*src/runtime/options\.c:' || true)
[ -z "$stray" ] || fail "PT_* variables read outside the options table: $stray"
names=$( {
    echo "$opts"
    grep -rohE 'getenv\("POOLTAG_[A-Z0-9_]+"\)' "$S/src" | grep -oE 'POOLTAG_[A-Z0-9_]+'
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
# README's table of the tagged program's settings is the generated one.
sed -n '/^### Settings/,/^Environment of the/p' "$S/README.md" |
    sed -n '/^| variable | default | values | meaning |$/,/^$/p' | sed '/^$/d' >"$T/readme_table"
diff -u "$T/readme_table" "$T/table" >"$T/diff" ||
    fail "README.md's settings table differs from the options table (regenerate it with pooltag run --settings-table): $(cat "$T/diff")"
# The pool maximum's limit, from the table, in the man page and docs/run.md.
max=$(sed -nE 's/^\| `PT_PAGED_MAX` \|[^|]*\| 0 to ([0-9]+) bytes.*/\1/p' "$T/table")
[ -n "$max" ] || fail "no PT_PAGED_MAX limit in the settings table"
grep -q "at most $max" <<<"$man" || fail "the man page does not give the pool maximum's limit $max"
grep -q "$max bytes" "$S/docs/run.md" || fail "docs/run.md does not give the pool maximum's limit $max"
# pooltag run's synopsis in the man page has every option of run --help.
syn=$(grep '^\.BR run ' "$S/man/pooltag.1" | sed 's/\\-/-/g')
# (An option with a short form may be given by either.)
while read -r short long; do
    [ "$long" = --help ] && continue
    grep -q -- "$long" <<<"$syn" || { [ -n "$short" ] && grep -q -- "\"$short\"\| $short " <<<"$syn"; } ||
        fail "the man page's run synopsis lacks $long"
done < <("$POOLTAG" run --help | sed -nE 's/^  (-[a-z], )?(--[a-z-]+).*/\1 \2/p' | sed 's/,//')
echo "docs_env: ok ($(wc -w <<<"$names") names)"
