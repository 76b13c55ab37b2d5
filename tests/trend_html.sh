#!/usr/bin/env bash
# trend_html — the HTML report of `pooltag trend --html` in headless
# Chromium: it loads without console errors or blocked requests, draws its
# charts (SVG polylines with points: the pool totals of every process and
# one per top tag, each over the band of its interval extremes, a polygon
# whose lows never lie above its line's points), holds the verdict table (one row per series), refers to
# nothing outside itself, and escapes what comes from the log (a comm and a
# tag text with markup in them).  The screenshot is the CI artifact
# $PT_BUILD/artifacts/trend-report.png.
. "$PT_SRC/tests/cli_lib.sh"
GEN="$PT_SRC/tests/trend_gen.py"
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { echo "SKIP: chromium not installed" >&2; exit 77; }

python3 "$GEN" "$T/log.db" --interval 5 >/dev/null || fail "trend_gen.py failed"
# Markup in the log: a comm with a script, a tag whose text is "<i>&".
python3 - "$T/log.db" <<'PY' || fail "could not add hostile strings"
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
d.execute("UPDATE process SET comm = '<script>alert(1)</script>', "
          "exe = '/tmp/\"><img src=x onerror=alert(2)>' WHERE pid = 1004")
tag = ord('<') | ord('i') << 8 | ord('>') << 16 | ord('&') << 24
d.execute("INSERT INTO tag VALUES(?, '<i>&', '<b>bin</b>', '<style>x</style>')", (tag,))
d.execute("INSERT INTO tag_sample SELECT s.id, ?, 0, 1, 0, 100, 0, 100, 0, 100, 100 FROM sample s "
          "JOIN process p ON p.id = s.process WHERE p.pid = 1004", (tag,))
d.commit()
PY
"$POOLTAG" trend --html "$T/report.html" "$T/log.db" >"$T/table.txt" ||
    fail "trend --html exited $?"
"$POOLTAG" trend --json "$T/log.db" >"$T/report.json" || fail "trend --json"
R="$T/report.html"
[ -s "$R" ] || fail "no report written"

# Self-contained: no scripts, no references to anything outside the file.
grep -qiE '<script|<img|<iframe|<link|<object|src=|href=|url\(|@import|https?:|//[a-z0-9]' "$R" &&
    fail "the report refers to something outside itself: $(grep -oiE '.{30}(<script|<img|src=|href=|url\(|@import|https?:).{30}' "$R" | head -3)"
grep -q "Content-Security-Policy" "$R" || fail "no Content-Security-Policy"
# Escaped: the markup from the log shows as text.
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$R" || fail "comm not escaped"
grep -qF '&lt;i&gt;&amp;' "$R" || fail "tag text not escaped"
grep -qF 'gen&lt;host&gt;&amp;&quot;' "$R" || fail "host not escaped"

mkdir -p "$PT_BUILD/artifacts"
SHOT="$PT_BUILD/artifacts/trend-report.png"
rm -f "$SHOT"
FLAGS=(--headless=new --no-sandbox --disable-gpu --no-first-run
       --disable-extensions --disable-background-networking
       --user-data-dir="$T/profile" --host-resolver-rules="MAP * ~NOTFOUND"
       --enable-logging=stderr --v=0)
timeout 60 "$CHROME" "${FLAGS[@]}" --dump-dom "file://$R" >"$T/dom.html" 2>"$T/dom.log" ||
    fail "chromium --dump-dom failed: $(tail -5 "$T/dom.log")"
timeout 60 "$CHROME" "${FLAGS[@]}" --window-size=1100,2600 --hide-scrollbars \
    --screenshot="$SHOT" "file://$R" >/dev/null 2>"$T/shot.log" ||
    fail "chromium --screenshot failed: $(tail -5 "$T/shot.log")"
# Console errors, CSP refusals, failed loads.
if grep -E 'CONSOLE|Refused to|Uncaught|net::ERR_|Content Security Policy' \
        "$T/dom.log" "$T/shot.log" | grep -v 'dbus' >"$T/console.txt"; then
    fail "the page logged errors: $(head -5 "$T/console.txt")"
fi
[ -s "$SHOT" ] && [ "$(stat -c %s "$SHOT")" -gt 20000 ] || fail "screenshot missing or blank"
python3 - "$SHOT" <<'PY' || fail "screenshot is not a PNG of the page"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", b[16:24])
assert w >= 1000 and h >= 2000, (w, h)
PY

# The DOM Chromium built: charts drawn, table complete, no injected nodes.
python3 - "$T/dom.html" "$T/report.json" <<'PY' || fail "the rendered page is wrong"
import json, re, sys
from html.parser import HTMLParser
dom = open(sys.argv[1]).read()
rep = json.load(open(sys.argv[2]))
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.tags = {}; self.polys = []; self.bands = []; self.rows = 0; self.tbody = False
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "polyline": self.polys.append(a.get("points", ""))
        if tag == "polygon" and a.get("class") == "band": self.bands.append(a.get("points", ""))
        if tag == "tbody": self.tbody = True
        if tag == "tr" and self.tbody: self.rows += 1
p = P(); p.feed(dom)
nproc = len(rep["processes"])
ntags = sum(1 for q in rep["processes"] for s in q["series"] if not s["total"])
want_svgs = min(nproc, 16) + min(ntags, 12)
bad = 0
if p.tags.get("svg", 0) != want_svgs:
    print("svg charts: %d, want %d" % (p.tags.get("svg", 0), want_svgs)); bad = 1
if len(p.polys) < 2 * nproc:
    print("polylines: %d" % len(p.polys)); bad = 1
pairs = [len(re.findall(r"-?[\d.]+,-?[\d.]+", pts)) for pts in p.polys]
if min(pairs) < 2 or sum(pairs) < 500:
    print("empty polylines:", pairs[:20]); bad = 1
# One band per line (format 2 log), drawn before it: a step over each
# interval, 2n lows then 2n highs back; the corner at the end of interval i
# is at point i's time.  In SVG y grows downwards, so a low is at or below
# (y >=) the line's point and a high at or above it.
if len(p.bands) != len(p.polys):
    print("bands: %d, lines: %d" % (len(p.bands), len(p.polys))); bad = 1
num = lambda s: [tuple(map(float, xy.split(","))) for xy in s.split()]
for band, line in zip(p.bands, p.polys):
    b, l = num(band), num(line)
    n = len(b) // 4
    if len(l) >= 2 and n == len(l):
        lows, highs = b[1:2 * n:2], b[2 * n:][::-1][1::2]
        if any(lo[1] < pt[1] - 0.11 or hi[1] > pt[1] + 0.11 for lo, hi, pt in zip(lows, highs, l)):
            print("a band does not hold its line"); bad = 1; break
for tag in ("script", "img", "i", "iframe"):
    if p.tags.get(tag):
        print("injected <%s> in the DOM" % tag); bad = 1
if p.rows != rep["summary"]["series"]:
    print("table rows %d, series %d" % (p.rows, rep["summary"]["series"])); bad = 1
for word in ("leak", "load", "warm-up", "steady", "unknown", "Pool totals", "Top tags"):
    if word not in dom:
        print("missing:", word); bad = 1
print("svg=%d polylines=%d bands=%d points=%d rows=%d" % (p.tags.get("svg", 0), len(p.polys),
      len(p.bands), sum(pairs), p.rows))
sys.exit(bad)
PY
echo "trend_html: ok ($SHOT)"
