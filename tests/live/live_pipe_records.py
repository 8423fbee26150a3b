#!/usr/bin/env python3
"""live_pipe_records: records of a capture read from a pipe are written as soon as they exist,
with one analysis thread and with --workers (`tcpdump -w - | shakedown -r -`).

Reading a regular file, packets may wait a little before they are analysed (one tracker's delay
line, the workers' batches of 256: program/engine.c); from a pipe the next packet may be long in
coming, so each goes on at once. The bundled clean-ipv4.pcap holds one connection, handshake to
4-way close (11 frames, samples/README): written into shakedown's standard input, and the pipe
then left open, its connection record must come out within a few seconds — it is final at the
last ACK — while shakedown still waits for more. Then the pipe is closed: exit status 0 and the
summary. With --workers 2 the 11 packets are far fewer than a batch: before the workers published
each slot of a pipe at once, the record waited for the end of the input.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_pipe_records"
SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                      "clean-ipv4.pcap")
WITHIN = 5.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    lc.preflight(NAME, root=False)
    with lc.Test(NAME, deadline=40) as t:
        for workers in ("1", "2"):
            run(t, args.shakedown, workers)
    return t.status


def first_connection(proc, within):
    """Reads proc's stdout until a connection record, for at most `within` seconds: (the record
    or None, the bytes read)."""
    end = time.monotonic() + within
    buf = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        for line in buf.split(b"\n")[:-1]:
            if json.loads(line).get("type") == "connection":
                return json.loads(line), buf
    return None, buf


def run(t, exe, workers):
    with open(SAMPLE, "rb") as f:
        capture = f.read()
    proc = subprocess.Popen([exe, "-r", "-", "-F", "json", "--workers", workers],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    t.defer(lambda: proc.poll() is None and proc.kill())
    proc.stdin.write(capture)
    proc.stdin.flush()  # and left open: shakedown waits for more
    rec, head = first_connection(proc, WITHIN)
    lc.check(rec is not None, f"--workers {workers}: no connection record within {WITHIN} s of "
             f"the connection's last packet, the pipe still open")
    lc.check(rec.get("final") is True and rec["close"]["how"] == "fin",
             f"--workers {workers}: {rec}")
    lc.check(proc.poll() is None, f"--workers {workers}: shakedown ended before its input did")
    out, err = proc.communicate(timeout=10)  # closes the pipe: the input ends
    lines = [json.loads(x) for x in (head + out).decode().splitlines()]
    lc.check(proc.returncode == 0, f"--workers {workers}: exit status {proc.returncode}: {err}")
    lc.check(lines and lines[-1]["type"] == "summary" and lines[-1]["packets"] == 11,
             f"--workers {workers}: the summary: {lines[-1:] if lines else out}")
    lc.log(f"--workers {workers}: the record came while the pipe was open")


if __name__ == "__main__":
    sys.exit(main())
