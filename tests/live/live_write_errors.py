#!/usr/bin/env python3
"""live_write_errors: output that cannot be written (issue 5, test 6).

docs/shakedown.1 (SIGNALS): "A write that fails for another reason (a full disk) is reported
once on standard error; capture and analysis go on and the records that could not be written
are counted." EXIT STATUS: 3 when records were lost because the output could not be written
(issue 7: a run whose output is incomplete must not look like a success).

  * shakedown -r CAPTURE -o /dev/full (200 connections, pcapgen.py): exit status 3; the write
    error is reported exactly once (not once per record), naming /dev/full and the reason
    (ENOSPC); the only other line allowed is the final count of records not written, which must
    be the number a normal run writes (every connection and the summary: the capture was still
    analysed to its end);
  * the same with -F text;
  * live (needs root): shakedown -i lo -o /dev/full --stats-interval 0.2 for ~1.5 s, then SIGINT:
    exit status 3, still one error line, and the lost count covers the stats records.
"""

import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import pcapgen  # noqa: E402

NAME = "live_write_errors"
CONNECTIONS = 200
ERROR_LINE = re.compile(r"^shakedown: cannot write output /dev/full: No space left on device$")
COUNT_LINE = re.compile(r"^shakedown: (\d+) records could not be written$")


def judge(tag, status, err, expect_lost, bad):
    """Checks one run's status and stderr; returns the lost count it printed (or None)."""
    lines = err.splitlines()
    lc.log(f"{tag}: status {status}, stderr {lines}")
    if status != 3:
        bad.append(f"{tag}: exit status {status}, expected 3")
    errors = [x for x in lines if ERROR_LINE.match(x)]
    counts = [int(m.group(1)) for m in map(COUNT_LINE.match, lines) if m]
    others = [x for x in lines if not ERROR_LINE.match(x) and not COUNT_LINE.match(x)]
    if len(errors) != 1:
        bad.append(f"{tag}: the write error is reported {len(errors)} times, expected once "
                   f"(naming /dev/full and ENOSPC)")
    if others:
        bad.append(f"{tag}: other lines on stderr: {others[:5]}")
    if len(counts) > 1:
        bad.append(f"{tag}: the lost-record count is printed {len(counts)} times")
    lost = counts[0] if counts else None
    if expect_lost is not None and lost != expect_lost:
        bad.append(f"{tag}: {lost} records counted as not written, expected {expect_lost}")
    return lost


def main():
    return lc.main(NAME, __doc__, run, 40, root=False)


def run(t, exe):
    lc.check(os.path.exists("/dev/full"), "/dev/full does not exist")
    cap = t.path("capture.pcap")
    pcapgen.write(cap, CONNECTIONS)
    bad = []

    normal = subprocess.run([exe, "-r", cap, "-F", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=30, check=False)
    lc.check(normal.returncode == 0, f"normal run: status {normal.returncode}")
    records = normal.stdout.count(b"\n")
    conns = normal.stdout.count(b'"type":"connection"')
    lc.check(conns == CONNECTIONS, f"normal run: {conns} connection records, expected "
                                   f"{CONNECTIONS}")
    lc.log(f"normal run: {records} records ({conns} connections)")

    for fmt in ("json", "text"):
        r = subprocess.run([exe, "-r", cap, "-F", fmt, "-o", "/dev/full"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                           check=False)
        if r.stdout:
            bad.append(f"-F {fmt} -o /dev/full: wrote to stdout: {r.stdout[:100]!r}")
        judge(f"-r CAPTURE -F {fmt} -o /dev/full", r.returncode,
              r.stderr.decode(errors="replace"), records if fmt == "json" else None, bad)

    if lc.live_part(f"{NAME} (live part)"):
        _, closed = lc.bind_ports(t, listening=0, closed=1)
        sd = lc.Shakedown(t, exe, ["-i", "lo", "-F", "json", "-o", "/dev/full",
                                   "--stats-interval", "0.2", f"tcp port {lc.port(closed[0])}"])
        lc.poll(lambda: "cannot write" in sd.stderr(), 5, "the write error", alive=sd)
        time.sleep(1.5)  # several more stats records fail meanwhile
        status = sd.stop()
        err = lc.without_banner(sd.stderr(), "lo")
        lost = judge("-i lo -o /dev/full --stats-interval 0.2", status, err, None, bad)
        if lost is not None and lost < 5:
            bad.append(f"live: only {lost} records counted as lost after ~1.7 s of "
                       f"--stats-interval 0.2")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
