"""Slow clients against `pooltag serve` (issue 9, item 11).

usage: serve_slowloris.py PORT

Phase 1: 70 connections each send the start of a request and then one more
byte every second (so the idle timeout never ends them).  While they are
held, a /metrics scrape must be answered within 3 s, and each of the slow
connections must be closed by the server within 9 s of its start (the
request deadline, 5 s, its 1 s check, and slack for a loaded machine),
never held for good.
Phase 2: a persistent attacker reopens every slow connection the server
closes, keeping 70 open; scrapes must still be answered within 3 s.
Everything has a timeout: the script ends by itself (about 12 s).
"""
import select
import socket
import sys
import time

PORT = int(sys.argv[1])
SLOW = 70
SCRAPE_BOUND = 3.0
CLOSE_BOUND = 9.0
PARTIAL = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "


def scrape():
    """One /metrics request on a fresh connection; returns its duration."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", PORT), timeout=SCRAPE_BOUND)
    reply = b""
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while time.monotonic() - t0 < SCRAPE_BOUND:
            s.settimeout(max(0.01, SCRAPE_BOUND - (time.monotonic() - t0)))
            b = s.recv(65536)
            if not b:
                break
            reply += b
    except socket.timeout:
        pass
    finally:
        s.close()
    took = time.monotonic() - t0
    if not reply.startswith(b"HTTP/1.1 200") or b"# TYPE pooltag_pool_bytes gauge" not in reply:
        sys.exit("scrape not answered within %.0f s while %d slow clients were held "
                 "(got %r after %.1f s)" % (SCRAPE_BOUND, SLOW, reply[:40], took))
    return took


class Slow:
    def __init__(self):
        self.t0 = time.monotonic()
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.s.setblocking(False)
        self.s.sendall(PARTIAL)
        self.closed_after = None

    def closed(self):
        if self.closed_after is None:
            self.closed_after = time.monotonic() - self.t0
            self.s.close()

    def poll(self):
        """Has the server closed it?"""
        try:
            if self.s.recv(4096) == b"":
                self.closed()
        except BlockingIOError:
            pass
        except OSError:
            self.closed()

    def drip(self):
        try:
            self.s.send(b"a")
        except BlockingIOError:
            pass
        except OSError:
            self.closed()


def run(seconds, reopen, scrape_at):
    conns = [Slow() for _ in range(SLOW)]
    first = list(conns)
    start = last_drip = time.monotonic()
    scrapes = []
    while time.monotonic() - start < seconds:
        live = [c for c in conns if c.closed_after is None]
        if not live and not reopen:
            break
        r, _, _ = select.select([c.s for c in live], [], [], 0.1)
        for c in live:
            if c.s in r:
                c.poll()
        if reopen:
            for i, c in enumerate(conns):
                if c.closed_after is not None:
                    conns[i] = Slow()
        now = time.monotonic()
        if now - last_drip >= 1.0:
            last_drip = now
            for c in conns:
                if c.closed_after is None:
                    c.drip()
        if scrape_at and now - start >= scrape_at[0]:
            scrape_at.pop(0)
            scrapes.append(scrape())
    for c in conns:
        if c.closed_after is None:
            c.s.close()
    if scrape_at:
        sys.exit("phase ended before its scrapes")
    return first, scrapes


# Phase 1: 70 slow clients, one scrape while they are held.
first, scrapes = run(CLOSE_BOUND + 1.5, False, [1.0])
open_too_long = [c for c in first if c.closed_after is None or c.closed_after > CLOSE_BOUND]
if open_too_long:
    sys.exit("%d of %d slow clients were still held %.0f s after they connected"
             % (len(open_too_long), SLOW, CLOSE_BOUND))
times = sorted(c.closed_after for c in first)
print("phase 1: scrape %.3f s; slow clients closed after %.1f .. %.1f s (median %.1f)"
      % (scrapes[0], times[0], times[-1], times[len(times) // 2]))
# Most were ended by the deadline, not by being pushed out at once.
if times[len(times) // 2] < 3.0:
    sys.exit("slow clients were closed before any request deadline (median %.1f s)"
             % times[len(times) // 2])

# Phase 2: an attacker that reopens what the server closes.
_, scrapes = run(3.0, True, [0.5, 1.5, 2.5])
print("phase 2: scrapes %s s" % ", ".join("%.3f" % t for t in scrapes))
