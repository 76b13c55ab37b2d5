#!/usr/bin/env bash
# The dashboard's y axis (serve_page.html) has distinct tick labels, also
# for all-zero data (issue 9): serve_ticks.js runs the page's chart code
# under node on a stub DOM.
. "$(dirname "$0")/cli_lib.sh"
command -v node >/dev/null || { echo "SKIP: node not installed" >&2; exit 77; }
node "$PT_SRC/tests/serve_ticks.js" "$PT_SRC/src/lib/serve_page.html" || fail "dashboard y-axis ticks"
echo "serve_ticks: ok"
