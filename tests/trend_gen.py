#!/usr/bin/env python3
"""trend_gen.py — write counter logs (docs/log-format.md) with known answers
for the `pooltag trend` tests.

  trend_gen.py OUT.db [--interval S] [--span S] [--jitter]
                      [--leave-wal] [--break KIND] [--page-size N]

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
Prints the expectations as JSON on stdout: {"pid tag pool": verdict}.
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
  failures INTEGER NOT NULL, PRIMARY KEY(sample, tag, pool)) WITHOUT ROWID;
CREATE TABLE tag(tag INTEGER PRIMARY KEY, text TEXT NOT NULL, binary TEXT,
  description TEXT);
"""

T0 = 1_700_000_000 * 10**9


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
    while t <= end + 1e-9 and (nsamples is None or n < nsamples):
        tt = max(0.0, t + (0.1 * interval * rng() if jitter else 0))
        t_ns = T0 + int(tt * 1e9)
        last_ns = max(last_ns, t_ns)
        rows = []
        totals = [0, 0]
        for text, (pool, first, fn) in tags.items():
            if tt < first * T:
                continue
            b = max(0, int(fn(tt)))
            c = counters.setdefault(text, {"allocs": 0, "frees": 0, "bytes": 0})
            grow = max(0, b - c["bytes"])
            churn = 3 + b // 100000
            c["allocs"] += churn + grow // 4096 + 1
            c["frees"] += churn + max(0, c["bytes"] - b) // 4096
            c["bytes"] = b
            ba = c["allocs"] * 4096 + b
            rows.append((tag_value(text), pool, c["allocs"], c["frees"], ba, ba - b, b, 0))
            totals[pool] += b
        cur.execute("INSERT INTO sample(process,t_ns,rss_kb,commit_kb,paged_bytes,"
                    "nonpaged_bytes,paged_max,nonpaged_max,paged_failures,"
                    "nonpaged_failures,errors) VALUES(?,?,?,?,?,?,?,?,0,0,0)",
                    (proc, t_ns, 1000 + totals[0] // 1024, 2000, totals[0],
                     totals[1], paged_max, 0))
        sid = cur.lastrowid
        cur.executemany("INSERT INTO tag_sample VALUES(?,?,?,?,?,?,?,?,?)",
                        [(sid,) + r for r in rows])
        n += 1
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
    interval, span, jitter, leave_wal, brk, page = 5.0, 1200.0, False, False, None, 0
    while args:
        a = args.pop(0)
        if a == "--interval":
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
    if brk == "empty":
        db = sqlite3.connect(out)
        db.executescript(SCHEMA)
        db.execute("PRAGMA application_id = %d" % APP_ID)
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
        return
    db = sqlite3.connect(out)
    if page:
        db.execute("PRAGMA page_size = %d" % page)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    schema = SCHEMA
    if brk == "nosample_table":
        schema = schema.replace("CREATE TABLE sample(", "CREATE TABLE samples(") \
                       .replace("ON sample(", "ON samples(")
    if brk == "nocolumn":
        schema = schema.replace("nonpaged_bytes INTEGER NOT NULL,", "")
    if brk != "notables":
        db.executescript(schema)
    db.execute("PRAGMA application_id = %d" % (12345 if brk == "appid" else APP_ID))
    db.execute("PRAGMA user_version = %d" % (7 if brk == "version" else 1))
    if brk in ("notables", "nosample_table", "nocolumn"):
        db.commit()
        db.close()
        return
    meta = {"format": "pooltag-log", "version": "1",
            "interval_ms": str(int(interval * 1000)), "max_size": "0",
            "created_ns": str(T0), "host": "gen<host>&\"", "pooltag_version": "gen"}
    db.executemany("INSERT INTO meta VALUES(?,?)", meta.items())
    sh = shapes(span)
    for text in list(sh) + ["Load"]:
        db.execute("INSERT INTO tag VALUES(?,?,?,?)",
                   (tag_value(text), text, "trend_gen", "generated <%s> shape" % text))
    expect = {}
    if brk in ("badpool", "bigtag"):
        write_process(db, 1001, "mixed", {"Leak": (0, 0, sh["Leak"][2])}, span,
                      interval, False)
        if brk == "badpool":
            db.execute("UPDATE tag_sample SET pool = 7")
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
