#!/usr/bin/env bash
# The dashboard page of `pooltag serve` in headless Chromium: it loads with
# no script error, polls /api/v1/processes several times and draws, per
# process, the SVG charts of the pool totals and of the top tags with data
# from the server (polylines with points; a card for the leaking and the
# loaded process).  A screenshot goes to $PT_BUILD/artifacts/.
. "$(dirname "$0")/serve_lib.sh"
need_notmyfault
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "SKIP: chromium not installed" >&2; exit 77; }

start_nmf --leak paged --rate 256K
A=$NMF_PID
start_nmf --load --period 4
B=$NMF_PID
wait_tagged "$A" Leak
wait_tagged "$B" Load
start_serve --listen 127.0.0.1:0

flags=(--headless --disable-gpu --no-first-run --no-default-browser-check
       --disable-extensions --disable-background-networking
       --user-data-dir="$T/chrome" --enable-logging=stderr --v=0)
[ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
# Virtual time runs the page's 2 s timer several times (network waits do
# not count against the budget).
timeout 60 "$CHROME" "${flags[@]}" --virtual-time-budget=9000 --dump-dom "$URL" \
    >"$T/dom.html" 2>"$T/chrome.err" || fail "chromium --dump-dom failed: $(tail -5 "$T/chrome.err")"
grep -i 'CONSOLE.*\(error\|uncaught\)\|Uncaught' "$T/chrome.err" &&
    fail "console errors in the page"
python3 - "$T/dom.html" "$A" "$B" <<'PY' || fail "dashboard DOM: $(head -c 2000 "$T/dom.html")"
import re, sys
html = open(sys.argv[1]).read()
st = re.search(r'<div id="status"([^>]*)>', html).group(1)
attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', st))
assert attrs["errors"] == "0", attrs
assert int(attrs["updates"]) >= 3, attrs
assert int(attrs["processes"]) >= 2, attrs
for pid in sys.argv[2:]:
    m = re.search(r'<section class="proc" data-pid="%s">(.*?)</section>' % pid, html, re.S)
    assert m, "no card for %s" % pid
    card = m.group(1)
    assert "notmyfault (%s)" % pid in card, card[:300]
    svgs = re.findall(r'<svg class="chart (pools|tags)"([^>]*)>(.*?)</svg>', card, re.S)
    assert [s[0] for s in svgs] == ["pools", "tags"], [s[0] for s in svgs]
    for kind, attr, body in svgs:
        pts = re.findall(r'<polyline points="([^"]+)"[^>]*data-series="([^"]*)"', body)
        assert pts, (pid, kind, body[:300])
        for p, name in pts:
            n = len(p.split())
            assert n >= 3, (pid, kind, name, n)
    tags = re.findall(r'data-series="([^"]*)"', svgs[1][2])
    want = "Leak" if pid == sys.argv[2] else "Load"
    assert want in tags and "Cach" in tags and "other" in tags, (pid, tags)
print("dashboard ok:", attrs)
PY
mkdir -p "$PT_BUILD/artifacts"
timeout 60 "$CHROME" "${flags[@]}" --virtual-time-budget=9000 --hide-scrollbars \
    --window-size=1300,900 --screenshot="$PT_BUILD/artifacts/serve-dashboard.png" "$URL" \
    >/dev/null 2>>"$T/chrome.err" || fail "screenshot failed"
[ -s "$PT_BUILD/artifacts/serve-dashboard.png" ] || fail "no screenshot"
echo "serve dashboard tests passed"
