#!/usr/bin/env python3
"""live_rotation: output reopen (SIGHUP) and rotation while real traffic flows (issue 5, test 4).

One case per run (--case), each a live capture on lo of a loop of real connections to the
traffic.py server (the client closes first: SF, close.how fin):
  sighup   logrotate's create mode: once OUT holds records, `mv OUT OUT.1`, SIGHUP, traffic goes
           on; a new OUT must appear and receive records within 2 s of the SIGHUP. After SIGINT:
           OUT.1 and OUT together hold every connection exactly once, every line of both is a
           complete valid record (nothing split or lost), OUT.1 has no summary and OUT ends
           with it.
  size     --rotate-size 2k over ~120 connections: several OUT.YYYYmmddTHHMMSSZ[.n] files, each
           line whole and valid, every connection exactly once in their union, one summary
           (the last record written); each rotated file reached 2048 bytes only with its last
           record (it was rotated right after the record that crossed the threshold).
  seconds  --rotate-seconds 1 over ~3.5 s of traffic: at least 2 rotated files, none empty,
           every connection exactly once in the union.
"""

import argparse
import collections
import os
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

ROTATED = re.compile(r"^out\.json\.(\d{8}T\d{6}Z)(?:\.(\d+))?$")


class Loop:
    """Makes client-first connections one after another (`gap` seconds between them) until
    stopped or `count` are made; .made lists their 4-tuples."""

    def __init__(self, test, server, gap, count=None):
        self.server, self.gap, self.count = server, gap, count
        self.made, self.errors = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        test.defer(self.stop)

    def _run(self):
        port = lc.port(self.server.sock)
        i = 0
        while not self._stop.is_set() and (self.count is None or i < self.count):
            c = traffic.Conn(i, traffic.CLIENT_FIRST, 64 + i % 50, 100 + i % 300)
            try:
                traffic._client(c, port, 1)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"connection #{i}: {type(e).__name__}: {e}")
                return
            self.made.append((tuple(c.local), tuple(c.remote)))
            i += 1
            self._stop.wait(self.gap)

    def done(self):
        return not self._thread.is_alive()

    def stop(self):
        self._stop.set()
        self._thread.join(15)
        if self._thread.is_alive():
            raise lc.Failure("the traffic loop did not stop")


def rotated_files(tmp):
    """The rotated files in the order they were written: (stamp, n) ascending."""
    found = []
    for name in os.listdir(tmp):
        m = ROTATED.match(name)
        if m:
            found.append(((m.group(1), int(m.group(2) or 0)), os.path.join(tmp, name)))
        elif name.startswith("out.json.") and name != "out.json.1":
            raise lc.Failure(f"unexpected file name {name}")
    return [p for _, p in sorted(found)]


def check_union(paths, made, bad):
    """Every connection exactly once as a final record across the files, nothing unexpected. A
    4-tuple can be made twice: Linux reuses a client port whose earlier connection to the same
    server is in TIME_WAIT for over a second (net.ipv4.tcp_tw_reuse, on for loopback by
    default), and these loops run for seconds; it then has one final record per connection."""
    seen = {}
    for p in paths:
        for r in lc.finals(lc.strict_lines(p)):
            seen.setdefault(lc.key_of(r), []).append(os.path.basename(p))
    for k, times in collections.Counter(made).items():
        n = len(seen.get(k, []))
        if n != times:
            bad.append(f"{k}: {n} final records ({seen.get(k)}) of {times} connection(s)")
    for k in seen.keys() - set(made):
        bad.append(f"{k}: a record of a connection the test never made ({seen[k]})")
    return seen


def start(t, exe, extra):
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-F", "json", "-o", out,
                               "--stats-interval", "0.25"] + extra + [f"tcp port {P}"])
    # Readiness: the first stats record. With rotation it may already sit in a rotated file.
    lc.poll(lambda: any(lc.by_type(lc.read_lines(p), "stats")
                        for p in [out] + rotated_files(t.tmp)), 10,
            "the first stats record", alive=sd)
    server.start()
    t.defer(server.stop)
    return server, out, sd


def finish(t, sd, server, loop, paths_fn):
    """Waits for every connection's record (in any of paths_fn()), stops shakedown with SIGINT;
    exit status 0 and a quiet stderr (the banner alone) are required."""
    loop.stop()
    server.stop()
    lc.check(not loop.errors and not server.errors, f"traffic: {loop.errors + server.errors}")

    def all_reported():
        got = set()
        for p in paths_fn():
            got |= {lc.key_of(r) for r in lc.finals(lc.read_lines(p))}
        return set(loop.made) <= got

    lc.poll(all_reported, 10, f"the records of all {len(loop.made)} connections", alive=sd)
    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"exit status {status} after SIGINT, expected 0; stderr:\n{err}")
    lc.check_banner_only(err, "lo")


def case_sighup(t, exe):
    server, out, sd = start(t, exe, [])
    old = out + ".1"
    loop = Loop(t, server, gap=0.01)
    lc.poll(lambda: len(lc.finals(lc.read_lines(out))) >= 10, 10, "10 records in OUT", alive=sd)
    os.rename(out, old)
    sent = time.monotonic()
    sd.send(signal.SIGHUP)
    made_at_hup = len(loop.made)
    # A new OUT with connection records in it, while the traffic goes on.
    lc.poll(lambda: lc.finals(lc.read_lines(out)), 5, "records in the reopened OUT", alive=sd)
    latency = time.monotonic() - sent
    lc.log(f"new OUT written to {latency:.2f} s after SIGHUP ({made_at_hup} connections made "
           f"by then)")
    time.sleep(0.3)  # some more traffic into the new file
    finish(t, sd, server, loop, lambda: [old, out])
    bad = []
    lc.validate([old])
    lc.validate([out], whole_run=True)
    seen = check_union([old, out], loop.made, bad)
    old_recs, new_recs = lc.strict_lines(old), lc.strict_lines(out)
    if lc.by_type(old_recs, "summary"):
        bad.append("OUT.1 holds a summary")
    if not new_recs or new_recs[-1].get("type") != "summary":
        bad.append("OUT does not end with the summary")
    n_old, n_new = len(lc.finals(old_recs)), len(lc.finals(new_recs))
    if n_old == 0 or n_new == 0:
        bad.append(f"records: {n_old} in OUT.1, {n_new} in OUT: both must have some")
    if latency > 2:
        bad.append(f"the reopen took {latency:.2f} s (more than 2 s) under traffic")
    lc.log(f"{len(loop.made)} connections: {n_old} in OUT.1, {n_new} in OUT, "
           f"{len(seen)} distinct")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


def case_size(t, exe):
    limit = 2048
    server, out, sd = start(t, exe, ["--rotate-size", "2k"])
    loop = Loop(t, server, gap=0.002, count=120)
    lc.poll(loop.done, 20, "120 connections")
    finish(t, sd, server, loop, lambda: rotated_files(t.tmp) + [out])
    files = rotated_files(t.tmp)
    bad = []
    lc.log(f"{len(files)} rotated files; sizes {[os.path.getsize(p) for p in files]}; "
           f"OUT {os.path.getsize(out)} bytes")
    if len(files) < 3:
        bad.append(f"only {len(files)} rotated files")
    lc.validate(files + [out])
    check_union(files + [out], loop.made, bad)
    for p in files:
        with open(p, "rb") as f:
            lines = f.read().split(b"\n")[:-1]
        size = sum(len(x) + 1 for x in lines)
        before_last = size - len(lines[-1]) - 1 if lines else 0
        if size < limit or before_last >= limit:
            bad.append(f"{os.path.basename(p)}: {size} bytes, {before_last} before its last "
                       f"record: not rotated right after crossing {limit} bytes")
    every = [r for p in files + [out] for r in lc.strict_lines(p)]
    summaries = [i for i, r in enumerate(every) if r.get("type") == "summary"]
    if summaries != [len(every) - 1]:
        bad.append(f"summary records at {summaries} of {len(every)} records (in file order), "
                   f"expected only the last")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


def case_seconds(t, exe):
    server, out, sd = start(t, exe, ["--rotate-seconds", "1"])
    loop = Loop(t, server, gap=0.01)
    time.sleep(3.5)  # the traffic itself: rotation is by age, so this is what is being tested
    finish(t, sd, server, loop, lambda: rotated_files(t.tmp) + [out])
    files = rotated_files(t.tmp)
    bad = []
    sizes = [os.path.getsize(p) for p in files]
    lc.log(f"{len(loop.made)} connections; {len(files)} rotated files, sizes {sizes}")
    if len(files) < 2:
        bad.append(f"{len(files)} rotated files after 3.5 s with --rotate-seconds 1, expected "
                   f"at least 2")
    if 0 in sizes:
        bad.append("an empty file was rotated")
    lc.validate(files + [out])
    check_union(files + [out], loop.made, bad)
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


CASES = {"sighup": case_sighup, "size": case_size, "seconds": case_seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    args = ap.parse_args()
    name = f"live_rotation_{args.case}"
    lc.preflight(name)
    with lc.Test(name, deadline=40) as t:
        CASES[args.case](t, args.shakedown)
    return t.status


if __name__ == "__main__":
    sys.exit(main())
