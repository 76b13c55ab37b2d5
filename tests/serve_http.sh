#!/usr/bin/env bash
# `pooltag serve` as an HTTP server: routes (/ 200, unknown 404, other
# methods 405 with Allow, HEAD without a body), hostile clients (garbage
# bytes, an oversized header, a huge body, stalled partial requests beyond
# the connection limit) after which it still answers, the request deadline,
# loopback by default, the one-line errors with exit 2 for bad options and
# a port in use, and a clean exit 0 on SIGTERM and SIGINT.
. "$(dirname "$0")/serve_lib.sh"

expect_error serve "--top wants a number" "$POOLTAG" serve --top 0
expect_error serve "--top wants a number" "$POOLTAG" serve --top 1001
expect_error serve "--top wants a number" "$POOLTAG" serve --top x
expect_error serve "--listen wants HOST:PORT" "$POOLTAG" serve --listen 127.0.0.1
expect_error serve "--listen wants HOST:PORT" "$POOLTAG" serve --listen 127.0.0.1:99999
expect_error serve "--listen wants HOST:PORT" "$POOLTAG" serve --listen :9464
expect_error serve "--listen wants HOST:PORT" "$POOLTAG" serve --listen '[::1'
expect_error serve "cannot resolve" "$POOLTAG" serve --listen no.such.host.invalid:1
expect_error serve "not an address of this machine" "$POOLTAG" serve --listen 192.0.2.1:0
expect_error serve "needs a value" "$POOLTAG" serve --listen
expect_error serve "unknown option" "$POOLTAG" serve --bogus
expect_error serve "unexpected argument" "$POOLTAG" serve 1234
"$POOLTAG" serve --help >"$T/help" || fail "--help exit $?"
grep -q '^Usage: pooltag serve' "$T/help" || fail "--help text"

start_serve --listen 127.0.0.1:0
case $URL in http://127.0.0.1:[1-9]*/) ;; *) fail "URL $URL" ;; esac
port=${URL#http://127.0.0.1:}
port=${port%/}
# A second server on the same port: one line, exit 2.
expect_error serve "is in use" "$POOLTAG" serve --listen "127.0.0.1:$port"

http GET "$URL" >"$T/page" || fail "GET /"
status_is 200
grep -q '^200 text/html' "$T/http.status" || fail "/ content type: $(cat "$T/http.status")"
grep -q '<svg\|createElementNS' "$T/page" || fail "the page has no chart code"
grep -qi "^Content-Security-Policy: default-src 'none'" "$T/http.headers" || fail "no CSP"
grep -Eq 'src="http|href="http' "$T/page" && fail "the page loads external resources"
http GET "${URL}nope" >/dev/null; status_is 404
http GET "${URL}metrics/x" >/dev/null; status_is 404
for m in POST PUT DELETE PATCH OPTIONS; do
    http "$m" "${URL}metrics" >/dev/null
    status_is 405
    grep -qi '^Allow: GET, HEAD' "$T/http.headers" || fail "$m: no Allow header"
done
http HEAD "${URL}metrics" >"$T/head" || fail "HEAD"
status_is 200
[ ! -s "$T/head" ] || fail "HEAD returned a body"
grep -qi '^Content-Length: [1-9]' "$T/http.headers" || fail "HEAD: no Content-Length"
http GET "${URL}metrics?x=1&y" >/dev/null; status_is 200

# Hostile clients, then a normal request must still be answered.
python3 - "$port" <<'PY' || fail "hostile clients"
import os, socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s
def ask(data, want=None):
    s = conn()
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may close before reading it all
    reply = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            reply += b
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    if want is not None and not reply.startswith(want):
        sys.exit("expected %r, got %r" % (want, reply[:80]))
    return reply
def alive():
    r = ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"HTTP/1.1 200")
    assert b"# TYPE pooltag_pool_bytes gauge" in r, r[:200]
alive()
ask(os.urandom(4096) + b"\r\n\r\n"); alive()
ask(b"\x00\xff\r\n\r\n" * 100); alive()
ask(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"); alive()
ask(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"); alive()
ask(b"GET / HTTP/1.1\r\n" + b"H: v\r\n" * 20000 + b"\r\n"); alive()
ask(b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"); alive()
ask(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n" + b"z" * 4000000, b"HTTP/1.1 405"); alive()
ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n"); alive()
ask(b"GET /metrics HTTP/1.0\r\n\r\n", b"HTTP/1.1 200"); alive()
# Stalled partial requests, more than the connection limit (64): the
# newest push the oldest out, the rest are closed by the request deadline
# (5 s); the server does not die and answers afterwards.
held = []
for i in range(80):
    try:
        s = conn()
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held.append(s)
    except OSError:
        pass
t0 = time.time()
closed = 0
for s in held[:5]:
    s.settimeout(30)
    try:
        if s.recv(100) == b"":
            closed += 1
    except OSError:
        closed += 1
if closed == 0:
    sys.exit("stalled connections were never closed")
waited = time.time() - t0
for s in held:
    s.close()
deadline = time.time() + 30
while True:
    try:
        alive()
        break
    except (SystemExit, OSError, AssertionError):
        if time.time() > deadline:
            raise
        time.sleep(0.5)
print("stalled connections closed after %.1f s" % waited)
PY
kill -0 "$SERVE_PID" || fail "serve died"

# SIGTERM and SIGINT end it with status 0.
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
start_serve --listen 127.0.0.1:0
kill -INT "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGINT: exit $rc"

# Loopback by default: with no --listen it binds 127.0.0.1:9464 (unless
# that port is taken on this machine, which is then the one-line error).
"$POOLTAG" serve 2>"$T/def.err" &
dpid=$!
track_pid "$dpid"
for _ in $(seq 100); do
    [ -s "$T/def.err" ] && break
    sleep 0.05
done
if grep -q 'is in use' "$T/def.err"; then
    echo "port 9464 busy here: default address not checked"
else
    grep -qx 'pooltag serve: listening on http://127.0.0.1:9464/' "$T/def.err" ||
        fail "default listen: $(cat "$T/def.err")"
    grep -q ' 0100007F:24F8 00000000:0000 0A ' /proc/net/tcp ||
        fail "no listening socket on 127.0.0.1:9464 in /proc/net/tcp"
    kill "$dpid"
fi
echo "serve http tests passed"
