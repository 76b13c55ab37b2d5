#!/usr/bin/env python3
"""trend_gen.py — write counter logs (docs/log-format.md) with known answers
for the `pooltag trend` tests.

  trend_gen.py OUT.db [--interval S] [--span S] [--jitter]
                      [--leave-wal] [--break KIND] [--page-size N]
                      [--version 1|2]
  trend_gen.py OUT.db --bench N [--tags K] [--version 1|2]

The log holds four processes:
  pid 1001 'mixed'    every shape of tests/trend_verdict.c as its own tag,
                      with the verdict it must get (EXPECT below);
  pid 1002 'oneshot'  a single sample: every series unknown;
  pid 1003 'exited'   leaks, then exits half-way through (end_reason exited);
  pid 1004 'loadonly' a load and a steady tag: no leak anywhere.
--leave-wal exits without closing the database, so the samples are in the
-wal file only (a logger killed with SIGKILL).  --break KIND writes a log
that is malformed in one way (for trend_errors): appid, version, notables,
nosample_table, nocolumn, empty, badpool, bigtag.
--version 2 (the default) writes the current format, whose samples carry
each interval's lowest and highest bytes (the shape evaluated at 16 points
of the interval ending at the sample, the sample's instant included);
--version 1 the format before issue 15, without them.  --break minmax
writes a version-2 log whose bytes_min exceeds bytes in one row.
Prints the expectations as JSON on stdout: {"pid tag pool": verdict}.

--bench N writes one process of N samples with K tags (default 3: a leak,
a load, a steady tag) quickly, for bench/trend_bench.sh; no expectations.
"""
import json
import math
import os
import sqlite3
import sys

APP_ID = 1347701831


def tag_value(text):
    b = text.encode().ljust(4, b" ")
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


class Rng:
    def __init__(self, seed):
        self.s = seed

    def __call__(self):  # uniform in [-1, 1)
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.s >> 11) / float(1 << 52) - 1.0


def shapes(T):
    r = Rng(99)
    P6 = T / 6
    return {
        # tag: (pool, first_t_fraction, function of t, expected verdict)
        "Leak": (0, 0, lambda t: 1e5 + 300 * t, "leak"),
        "Sawt": (0, 0, lambda t: 2e5 + 1.5e6 * (t / P6 - math.floor(t / P6)), "load"),
        "Warm": (0, 0, lambda t: 4e6 * (1 - math.exp(-t / (T / 6))), "warm-up"),
        "Hidn": (0, 0, lambda t: 1e5 + 5e5 * (1 - math.cos(2 * math.pi * t / P6))
                 + 30e3 * t / P6, "leak"),
        "Nois": (1, 0, lambda t: 4e6 * (1 + 0.03 * r()), "steady"),
        "Risn": (0, 0, lambda t: 3e6 * (1 - math.exp(-t / (T / 1.5))), "warm-up"),
        "Part": (0, 0, lambda t: 1e4 + 5e5 * (1 - math.cos(2 * math.pi * t / (T / 0.7))),
                 "load"),
        "Zero": (1, 0, lambda t: 0, "steady"),
        "Late": (0, 0.4, lambda t: 1000 * (t - 0.4 * T), "leak"),
        "Stdy": (0, 0, lambda t: 65536, "steady"),
        # A warm-up with a leak behind it: the rise slows, then holds.
        "WrmL": (0, 0, lambda t: 2e6 * (1 - math.exp(-t / (T / 8))) + 800 * t, "leak"),
    }


SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE process(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL, comm TEXT NOT NULL, exe TEXT NOT NULL,
  first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, end_ns INTEGER,
  end_reason TEXT);
CREATE TABLE sample(id INTEGER PRIMARY KEY,
  process INTEGER NOT NULL REFERENCES process(id), t_ns INTEGER NOT NULL,
  rss_kb INTEGER NOT NULL, commit_kb INTEGER NOT NULL,
  paged_bytes INTEGER NOT NULL, nonpaged_bytes INTEGER NOT NULL,
  paged_max INTEGER NOT NULL, nonpaged_max INTEGER NOT NULL,
  paged_failures INTEGER NOT NULL, nonpaged_failures INTEGER NOT NULL,
  errors INTEGER NOT NULL);
CREATE INDEX sample_by_process ON sample(process, t_ns);
CREATE TABLE tag_sample(sample INTEGER NOT NULL REFERENCES sample(id) ON DELETE CASCADE,
  tag INTEGER NOT NULL, pool INTEGER NOT NULL, allocs INTEGER NOT NULL,
  frees INTEGER NOT NULL, bytes_alloc INTEGER NOT NULL,
  bytes_freed INTEGER NOT NULL, bytes INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  bytes_min INTEGER NOT NULL, bytes_max INTEGER NOT NULL,
  PRIMARY KEY(sample, tag, pool)) WITHOUT ROWID;
CREATE TABLE tag(tag INTEGER PRIMARY KEY, text TEXT NOT NULL, binary TEXT,
  description TEXT);
"""

T0 = 1_700_000_000 * 10**9
VERSION = 2
SUBPOINTS = 16


def schema_of(version):
    """The tables of format version 1 or 2 (docs/log-format.md)."""
    if version >= 2:
        return SCHEMA.replace("errors INTEGER NOT NULL);",
                              "errors INTEGER NOT NULL,\n"
                              "  paged_bytes_min INTEGER NOT NULL, paged_bytes_max INTEGER NOT NULL,\n"
                              "  nonpaged_bytes_min INTEGER NOT NULL, nonpaged_bytes_max INTEGER NOT NULL);")
    return SCHEMA.replace("  bytes_min INTEGER NOT NULL, bytes_max INTEGER NOT NULL,\n", "")


def insert_sample(cur, values, extremes):
    """One sample row: values = (process, t_ns, rss_kb, commit_kb,
    paged_bytes, nonpaged_bytes, paged_max, nonpaged_max); extremes =
    (paged min, max, nonpaged min, max), written in version 2."""
    cols = ("process,t_ns,rss_kb,commit_kb,paged_bytes,nonpaged_bytes,paged_max,"
            "nonpaged_max,paged_failures,nonpaged_failures,errors")
    if VERSION >= 2:
        cur.execute("INSERT INTO sample(" + cols + ",paged_bytes_min,paged_bytes_max,"
                    "nonpaged_bytes_min,nonpaged_bytes_max) "
                    "VALUES(?,?,?,?,?,?,?,?,0,0,0,?,?,?,?)", values + extremes)
    else:
        cur.execute("INSERT INTO sample(" + cols + ") VALUES(?,?,?,?,?,?,?,?,0,0,0)", values)


def insert_tag_rows(cur, sid, rows):
    if rows:
        cur.executemany("INSERT INTO tag_sample VALUES(%s)" % ",".join("?" * (len(rows[0]) + 1)),
                        [(sid,) + r for r in rows])


def write_bench(out, nsamples, ntags):
    """One process, nsamples samples of ntags tags (leak, load, steady, ...),
    in large transactions: a big log quickly (bench/trend_bench.sh)."""
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(schema_of(VERSION))
    db.execute("PRAGMA application_id = %d" % APP_ID)
    db.execute("PRAGMA user_version = %d" % VERSION)
    db.executemany("INSERT INTO meta VALUES(?,?)",
                   {"format": "pooltag-log", "version": str(VERSION), "interval_ms": "1000",
                    "max_size": "0", "created_ns": str(T0), "host": "bench",
                    "pooltag_version": "gen"}.items())
    names = ["B%03d" % k for k in range(ntags)]
    db.executemany("INSERT INTO tag VALUES(?,?,?,?)",
                   [(tag_value(t), t, "trend_gen", "bench") for t in names])
    cur = db.cursor()
    cur.execute("INSERT INTO process(pid,start_ns,comm,exe,first_ns,last_ns) "
                "VALUES(4242,?,'bench','/usr/bin/bench',?,?)",
                (T0, T0, T0 + (nsamples - 1) * 10**9))
    proc = cur.lastrowid
    tv = [tag_value(t) for t in names]
    srows, trows = [], []
    for i in range(nsamples):
        tot = 0
        for k in range(ntags):
            kind = k % 3
            if kind == 0:
                b = 1000 + 7 * i
                lo, hi = b - 7, b
            elif kind == 1:
                b = 500000 + int(400000 * math.sin(i * 0.7))
                lo, hi = max(0, b - 150000), b + 150000
            else:
                b = 65536
                lo, hi = b, b
            tot += b
            row = (i + 1, tv[k], 0, 10 * i + 1, 10 * i, 4096 * i + b, 4096 * i, b, 0)
            trows.append(row + ((lo, hi) if VERSION >= 2 else ()))
        s = (i + 1, proc, T0 + i * 10**9, 1000, 2000, tot, 0, 256 << 20, 0, 0, 0, 0)
        srows.append(s + ((tot, tot, 0, 0) if VERSION >= 2 else ()))
        if len(srows) >= 50000 or i == nsamples - 1:
            db.executemany("INSERT INTO sample VALUES(%s)" % ",".join("?" * len(srows[0])), srows)
            db.executemany("INSERT INTO tag_sample VALUES(%s)" % ",".join("?" * len(trows[0])),
                           trows)
            db.commit()
            srows, trows = [], []
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def write_process(db, pid, comm, tags, T, interval, jitter, until=None,
                  ended=False, nsamples=None, paged_max=256 << 20):
    """tags: {text: (pool, first_fraction, fn)}; returns nothing."""
    cur = db.cursor()
    end = T if until is None else until
    cur.execute("INSERT INTO process(pid,start_ns,comm,exe,first_ns,last_ns,"
                "end_ns,end_reason) VALUES(?,?,?,?,?,?,?,?)",
                (pid, T0 - 10**9, comm, "/usr/bin/" + comm, T0, T0, None, None))
    proc = cur.lastrowid
    rng = Rng(pid)
    counters = {}
    n = 0
    t = 0.0
    last_ns = T0
    prev_tt = None
    while t <= end + 1e-9 and (nsamples is None or n < nsamples):
        tt = max(0.0, t + (0.1 * interval * rng() if jitter else 0))
        t_ns = T0 + int(tt * 1e9)
        last_ns = max(last_ns, t_ns)
        rows = []
        totals = [0, 0]
        # The interval's points: (prev_tt, tt], the instant last.
        pts = [tt] if prev_tt is None else \
            [prev_tt + (tt - prev_tt) * (j + 1) / SUBPOINTS for j in range(SUBPOINTS - 1)] + [tt]
        sub_tot = [[0] * len(pts), [0] * len(pts)]
        for text, (pool, first, fn) in tags.items():
            if tt < first * T:
                continue
            vals = [max(0, int(fn(x))) if x >= first * T else 0 for x in pts]
            for j, v in enumerate(vals):
                sub_tot[pool][j] += v
            b = vals[-1]
            c = counters.setdefault(text, {"allocs": 0, "frees": 0, "bytes": 0})
            grow = max(0, b - c["bytes"])
            churn = 3 + b // 100000
            c["allocs"] += churn + grow // 4096 + 1
            c["frees"] += churn + max(0, c["bytes"] - b) // 4096
            c["bytes"] = b
            ba = c["allocs"] * 4096 + b
            row = (tag_value(text), pool, c["allocs"], c["frees"], ba, ba - b, b, 0)
            if VERSION >= 2:
                row += (min(vals), max(vals))
            rows.append(row)
            totals[pool] += b
        insert_sample(cur, (proc, t_ns, 1000 + totals[0] // 1024, 2000, totals[0],
                            totals[1], paged_max, 0),
                      (min(sub_tot[0]), max(sub_tot[0]), min(sub_tot[1]), max(sub_tot[1])))
        sid = cur.lastrowid
        insert_tag_rows(cur, sid, rows)
        n += 1
        prev_tt = tt
        t += interval
        db.commit()  # one transaction per sample, like the logger
    cur.execute("UPDATE process SET last_ns=?, end_ns=?, end_reason=? WHERE id=?",
                (last_ns, last_ns if ended else None, "exited" if ended else None, proc))
    db.commit()


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = args.pop(0)
    global VERSION
    interval, span, jitter, leave_wal, brk, page = 5.0, 1200.0, False, False, None, 0
    bench, ntags = 0, 3
    while args:
        a = args.pop(0)
        if a == "--version":
            VERSION = int(args.pop(0))
            if VERSION not in (1, 2):
                sys.exit("trend_gen.py: --version 1 or 2")
        elif a == "--bench":
            bench = int(args.pop(0))
        elif a == "--tags":
            ntags = int(args.pop(0))
        elif a == "--interval":
            interval = float(args.pop(0))
        elif a == "--span":
            span = float(args.pop(0))
        elif a == "--jitter":
            jitter = True
        elif a == "--leave-wal":
            leave_wal = True
        elif a == "--page-size":
            page = int(args.pop(0))
        elif a == "--break":
            brk = args.pop(0)
        else:
            sys.exit("trend_gen.py: unknown argument " + a)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(out + suffix):
            os.unlink(out + suffix)
    if bench:
        write_bench(out, bench, ntags)
        return
    if brk == "empty":
        db = sqlite3.connect(out)
        db.executescript(schema_of(VERSION))
        db.execute("PRAGMA application_id = %d" % APP_ID)
        db.execute("PRAGMA user_version = %d" % VERSION)
        db.commit()
        db.close()
        return
    db = sqlite3.connect(out)
    if page:
        db.execute("PRAGMA page_size = %d" % page)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    schema = schema_of(VERSION)
    if brk == "nosample_table":
        schema = schema.replace("CREATE TABLE sample(", "CREATE TABLE samples(") \
                       .replace("ON sample(", "ON samples(")
    if brk == "nocolumn":
        schema = schema.replace("nonpaged_bytes INTEGER NOT NULL,", "")
    if brk != "notables":
        db.executescript(schema)
    db.execute("PRAGMA application_id = %d" % (12345 if brk == "appid" else APP_ID))
    db.execute("PRAGMA user_version = %d" % (7 if brk == "version" else VERSION))
    if brk in ("notables", "nosample_table", "nocolumn"):
        db.commit()
        db.close()
        return
    meta = {"format": "pooltag-log", "version": str(VERSION),
            "interval_ms": str(int(interval * 1000)), "max_size": "0",
            "created_ns": str(T0), "host": "gen<host>&\"", "pooltag_version": "gen"}
    db.executemany("INSERT INTO meta VALUES(?,?)", meta.items())
    sh = shapes(span)
    for text in list(sh) + ["Load"]:
        db.execute("INSERT INTO tag VALUES(?,?,?,?)",
                   (tag_value(text), text, "trend_gen", "generated <%s> shape" % text))
    expect = {}
    if brk in ("badpool", "bigtag", "minmax"):
        write_process(db, 1001, "mixed", {"Leak": (0, 0, sh["Leak"][2])}, span,
                      interval, False)
        if brk == "badpool":
            db.execute("UPDATE tag_sample SET pool = 7")
        elif brk == "minmax":
            db.execute("UPDATE tag_sample SET bytes_min = bytes + 1 "
                       "WHERE sample = (SELECT max(sample) FROM tag_sample)")
        else:
            db.execute("UPDATE tag_sample SET tag = 1 << 40")
        db.commit()
        db.close()
        return
    write_process(db, 1001, "mixed", {k: v[:3] for k, v in sh.items()}, span,
                  interval, jitter)
    for k, v in sh.items():
        expect["1001 %s %s" % (k, "paged" if v[0] == 0 else "nonpaged")] = v[3]
    expect["1001 (total) nonpaged"] = "steady"   # Nois + Zero
    # Warm-ups, loads and three leaks: the warm-up slows, the leaks hold
    # the pace to the end, so the paged pool leaks.
    expect["1001 (total) paged"] = "leak"
    write_process(db, 1002, "oneshot", {"Leak": (0, 0, sh["Leak"][2])}, span,
                  interval, jitter, nsamples=1)
    expect["1002 Leak paged"] = "unknown"
    expect["1002 (total) paged"] = "unknown"
    write_process(db, 1003, "exited", {"Leak": (0, 0, lambda t: 5e4 + 500 * t),
                                       "Stdy": (0, 0, lambda t: 8192)},
                  span, interval, jitter, until=span / 2, ended=True)
    expect["1003 Leak paged"] = "leak"
    expect["1003 Stdy paged"] = "steady"
    expect["1003 (total) paged"] = "leak"
    P = span / 6
    write_process(db, 1004, "loadonly",
                  {"Load": (0, 0, lambda t: 8e5 * (1 - math.cos(2 * math.pi * t / P))),
                   "Stdy": (0, 0, lambda t: 65536)},
                  span, interval, jitter, paged_max=0)
    expect["1004 Load paged"] = "load"
    expect["1004 Stdy paged"] = "steady"
    expect["1004 (total) paged"] = "load"
    expect["1004 (total) nonpaged"] = "steady"
    json.dump(expect, sys.stdout, indent=1)
    sys.stdout.write("\n")
    sys.stdout.flush()
    if leave_wal:
        os._exit(0)  # no close, no checkpoint: the samples stay in -wal
    db.close()


if __name__ == "__main__":
    main()
