#!/usr/bin/env bash
# trend --html: every chart's y-axis labels are distinct, also for a
# process whose counters are all zero (issue 9: steps of half a byte
# printed as "0 B, 0 B, 1 B, 2 B").
. "$(dirname "$0")/cli_lib.sh"
python3 "$PT_SRC/tests/trend_gen.py" "$T/log.db" --interval 5 >/dev/null || fail "trend_gen.py failed"
python3 - "$T/log.db" <<'PY' || fail "cannot zero the log"
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
d.execute("UPDATE sample SET paged_bytes = 0, nonpaged_bytes = 0, paged_max = 0, nonpaged_max = 0, "
          "paged_bytes_min = 0, paged_bytes_max = 0, nonpaged_bytes_min = 0, nonpaged_bytes_max = 0")
d.execute("UPDATE tag_sample SET bytes = 0, bytes_alloc = 0, bytes_freed = 0, allocs = 0, frees = 0, "
          "bytes_min = 0, bytes_max = 0")
d.commit()
PY
"$POOLTAG" trend --html "$T/r.html" "$T/log.db" >/dev/null || fail "trend --html exited $?"
python3 - "$T/r.html" <<'PY' || fail "duplicate y-axis labels"
import re, sys
html = open(sys.argv[1]).read()
charts = re.findall(r'<svg class="chart".*?</svg>', html, re.S)
assert charts, "no chart"
for c in charts:
    labels = re.findall(r'class="ylab">([^<]*)<', c)
    assert len(labels) >= 2 and len(set(labels)) == len(labels) and labels[0] == "0 B", labels
print(len(charts), "charts ok")
PY
echo "trend_html_ticks: ok"
