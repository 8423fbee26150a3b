#!/usr/bin/env python3
"""live_sigint_output_blocked: SIGINT while shakedown is blocked writing to a slow reader (a
regression test).

A live capture whose standard output is a pipe the reader is not reading yet (a slow consumer:
`shakedown -i eth0 -F json | ssh ...`). Real connections on lo produce far more than the 64 KiB a
pipe holds, so shakedown's writer thread blocks in write() (its /proc/PID/task/TID/wchan says
pipe_write; the capture goes on, the records queue). Then:

  orderly  SIGINT, and after 0.5 s the reader starts reading everything. docs/shakedown.1: the
           first SIGINT stops reading, reports every open connection and writes the summary,
           exit status 0; a write is only an error when it fails (a full disk), and then it is
           counted. Required: exit status 0, only the banner on stderr, every line complete and
           valid, the summary last, no summary records_lost, and every connection the summary counts
           (connections.total) present as a final record — none dropped.
           (Until 65e65ef the handlers were installed without SA_RESTART, so the blocked
           write returned EINTR, sink.c took it for a write error — "cannot write output:
           Interrupted system call" — and the record being written was dropped and counted
           lost; the same for SIGTERM and SIGHUP.)
  second   SIGINT while blocked, nobody reads, then a second SIGINT: shakedown exits at once
           (within 2 s) with status 130 (128 + SIGINT, main.c's on_stop_signal()).
"""

import argparse
import collections
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_sigint_output_blocked"
CONNECTIONS = 250  # ~1 KiB of JSON each: several times what a pipe holds


def blocked_writing(pid):
    """A thread of pid (the output's writer thread) waits in pipe_write."""
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                if "pipe_write" in f.read():
                    return True
    except OSError:
        pass
    return False


def start_blocked(t, exe, tag):
    """shakedown on lo writing into a pipe nobody reads, made to block by real traffic.
    Returns (process, stderr path, first line, 4-tuples made)."""
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    errpath = t.path(f"{tag}.err")
    errf = open(errpath, "wb")
    t.defer(errf.close)
    p = subprocess.Popen([exe, "-i", "lo", "--checksums", "keep", "-F", "json",
                          "--stats-interval", "0.2", f"tcp port {P}"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=errf, start_new_session=True)

    def kill():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
        p.stdout.close()

    t.defer(kill)
    first = p.stdout.readline()  # a stats record: it is capturing
    lc.check(first.startswith(b'{"type":"stats"'), f"{tag}: first line {first[:100]!r}")
    server.start()
    t.defer(server.stop)
    made = []
    for i in range(CONNECTIONS):
        c = traffic.Conn(i, traffic.CLIENT_FIRST, 100, 100)
        traffic._client(c, P, 1)
        made.append((tuple(c.local), tuple(c.remote)))
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    end = time.monotonic() + 10
    while not blocked_writing(p.pid):
        if p.poll() is not None or time.monotonic() > end:
            raise lc.Failure(f"{tag}: shakedown never blocked writing to the full pipe "
                             f"(status {p.poll()})")
        time.sleep(0.05)
    time.sleep(0.2)
    lc.check(blocked_writing(p.pid), f"{tag}: shakedown stopped being blocked on its own")
    return p, errpath, first, made


def case_orderly(t, exe, bad):
    p, errpath, first, made = start_blocked(t, exe, "orderly")
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    data = first + p.stdout.read()  # until shakedown closes it
    status = p.wait(10)
    with open(errpath, "rb") as f:
        err = f.read().decode(errors="replace")
    out = t.path("orderly.json")
    with open(out, "wb") as f:
        f.write(data)
    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    finals = lc.finals(recs)
    keys = [lc.key_of(r) for r in finals]
    summary = recs[-1]
    total = summary["connections"]["total"]
    lc.log(f"orderly: status {status}; stderr {err.splitlines()}; {len(recs)} lines, "
           f"{len(finals)} final records; summary connections.total {total}, records_lost "
           f"{summary.get('records_lost', 0)}, packets {summary['packets']}, capture "
           f"{summary.get('capture')}")
    if status != 0:
        bad.append(f"orderly: exit status {status} after SIGINT, expected 0")
    if err != lc.banner("lo"):
        bad.append(f"orderly: stderr after a SIGINT that interrupted a blocked write: "
                   f"{err.splitlines()}")
    if summary.get("records_lost"):
        bad.append(f"orderly: summary records_lost {summary['records_lost']}")
    if total != len(finals):
        bad.append(f"orderly: the summary counts {total} connections, the output has "
                   f"{len(finals)} final records: {total - len(finals)} dropped")
    # More records of a 4-tuple than connections made with it (the kernel may reuse a client
    # port in TIME_WAIT for a new connection to the same server: tcp_tw_reuse on loopback).
    made_n = collections.Counter(made)
    twice = [k for k, n in collections.Counter(keys).items() if 0 < made_n[k] < n]
    if twice:
        bad.append(f"orderly: connections reported twice: {twice[:5]}")
    if set(keys) - set(made):
        bad.append(f"orderly: records of connections never made: {set(keys) - set(made)}")


def case_second(t, exe, bad):
    p, errpath, _, _ = start_blocked(t, exe, "second")
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    if p.poll() is not None:
        bad.append(f"second: shakedown exited ({p.returncode}) after the first SIGINT although "
                   f"its output was still blocked")
        return
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        status = p.wait(2)
    except subprocess.TimeoutExpired:
        bad.append("second: still running 2 s after the second SIGINT")
        return
    lc.log(f"second: exited {time.monotonic() - sent:.2f} s after the second SIGINT, status "
           f"{status}")
    if status != 128 + signal.SIGINT:
        bad.append(f"second: exit status {status} after a second SIGINT, expected "
                   f"{128 + signal.SIGINT}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    lc.preflight(NAME)
    with lc.Test(NAME, deadline=50) as t:
        bad = []
        case_second(t, args.shakedown, bad)
        case_orderly(t, args.shakedown, bad)
        if bad:
            raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))
    return t.status


if __name__ == "__main__":
    sys.exit(main())
