#!/usr/bin/env bash
# `make demo`: demo/run-demo.sh shows Leak on top of `pooltag used` against
# notmyfault --leak nonpaged.  Skipped (77) while the pooltag CLI is not built.
. "$(dirname "$0")/demo_lib.sh"
if [ ! -x "${POOLTAG:-}" ]; then echo "skip: ${POOLTAG:-pooltag} not built"; exit 77; fi
out=$(mktemp)
timeout 60 bash "$PT_SRC/demo/run-demo.sh" >"$out" 2>&1
st=$?
cat "$out"
if [ "$st" = 0 ] && grep -q 'Sorting by NonPaged Pool Consumed' "$out" &&
   grep -q '^==> pooltag found the leak: Leak is on top' "$out"; then
    ok "run-demo.sh shows Leak on top"
else
    bad "run-demo.sh: status $st"
fi
rm -f "$out"
finish
