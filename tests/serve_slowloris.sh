#!/usr/bin/env bash
# Slow clients do not block `pooltag serve` (issue 9, item 11): with 70
# connections that trickle a byte a second into unfinished requests, a
# /metrics scrape is answered within 3 s, every slow connection is closed
# by the request deadline (never held until it stops sending), and a scrape
# still gets through while an attacker keeps reopening them.  Then serve
# still answers and exits 0 on SIGTERM.  Only 127.0.0.1.
. "$(dirname "$0")/serve_lib.sh"

start_serve --listen 127.0.0.1:0
port=${URL#http://127.0.0.1:}
port=${port%/}
timeout 30 python3 "$PT_SRC/tests/serve_slowloris.py" "$port" || fail "slow clients (see above)"
kill -0 "$SERVE_PID" || fail "serve died"
http GET "${URL}metrics" >/dev/null || fail "GET /metrics after the slow clients"
status_is 200
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
echo "serve slow client tests passed"
