# serve_lib.sh — sourced by the serve_*.sh tests (on top of cli_lib.sh).
#
# start_serve ARGS...: starts `pooltag serve ARGS`, waits for its
# "listening on URL" line, sets SERVE_PID and URL (http://HOST:PORT/).
# start_serve_cmd CMD...: the same for a whole command that execs pooltag
# serve (e.g. under setpriv, so that SERVE_PID is the server itself).
# http METHOD URL [ACCEPT]: one request through python3 (no curl needed);
# prints the body to stdout, and "STATUS CONTENT-TYPE" to $T/http.status,
# the headers to $T/http.headers.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

start_serve() {
    start_serve_cmd "$POOLTAG" serve "$@"
}

start_serve_cmd() {
    "$@" 2>"$T/serve.err" &
    SERVE_PID=$!
    track_pid "$SERVE_PID"
    URL=
    for _ in $(seq 200); do
        URL=$(sed -n 's/^pooltag serve: listening on \(http:[^ ]*\)$/\1/p' "$T/serve.err")
        [ -n "$URL" ] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited: $(cat "$T/serve.err")"
        sleep 0.05
    done
    fail "serve never printed its URL: $(cat "$T/serve.err")"
}

cat >"$T/pt_get.py" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method)
if len(sys.argv) > 3 and sys.argv[3]:
    req.add_header("Accept", sys.argv[3])
try:
    r = urllib.request.urlopen(req, timeout=20)
    status, hdrs, body = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    status, hdrs, body = e.code, e.headers, e.read()
base = sys.argv[4]
with open(base + ".status", "w") as f:
    f.write("%d %s\n" % (status, hdrs.get("Content-Type", "")))
with open(base + ".headers", "w") as f:
    f.write(str(hdrs))
sys.stdout.buffer.write(body)
PY

http() {
    timeout 30 python3 "$T/pt_get.py" "$1" "$2" "${3:-}" "$T/http"
}

# status_is WANT: the last http call's status code.
status_is() {
    local got
    got=$(cut -d' ' -f1 "$T/http.status")
    [ "$got" = "$1" ] || fail "HTTP status $got, expected $1 ($(cat "$T/http.status"))"
}
