#!/usr/bin/env python3
"""live_usage: live-capture setup errors and usage (issue 5, test 7).

  * -i nosuchif0: one line on stderr naming the interface, nothing on stdout, exit status 2;
  * -i nosuchif0 -o OUT: the same (OUT may be created, but holds no record);
  * -i nosuchif0 --workers 2 -o OUT: the same, and no "listening on" banner (the capture group
    of two sockets fails at its first socket; issue 16);
  * -D: lists lo (one line "N.lo ..." with Loopback), exit status 0, nothing on stderr;
  * -i lo -r x: a usage error (one line, exit status 2), x is never opened;
  * -Z nobody without -i, and --rotate-size without -o: usage errors (one line, exit 2).
As root, since what -i reports for a missing interface depends on the right to capture.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_usage"


def sd(exe, *args):
    r = subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=15, check=False)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def one_line_error(tag, result, must_name, bad):
    status, out, err = result
    lc.log(f"{tag}: status {status}, stderr {err!r}")
    if status != 2:
        bad.append(f"{tag}: exit status {status}, expected 2")
    if err.count("\n") != 1 or not err.endswith("\n"):
        bad.append(f"{tag}: expected exactly one line on stderr, got {err!r}")
    for word in must_name:
        if word not in err:
            bad.append(f"{tag}: the message does not name {word!r}: {err!r}")
    if out:
        bad.append(f"{tag}: wrote to stdout: {out[:200]!r}")


def main():
    return lc.main(NAME, __doc__, run, 30)


def run(t, exe):
    bad = []
    one_line_error("-i nosuchif0", sd(exe, "-i", "nosuchif0"), ["nosuchif0"], bad)
    out = t.path("out.json")
    one_line_error("-i nosuchif0 -o OUT", sd(exe, "-i", "nosuchif0", "-F", "json", "-o", out),
                   ["nosuchif0"], bad)
    if os.path.exists(out) and os.path.getsize(out):
        bad.append(f"-i nosuchif0 -o OUT: OUT holds {os.path.getsize(out)} bytes")
    group = sd(exe, "-i", "nosuchif0", "--workers", "2", "-F", "json", "-o", out)
    one_line_error("-i nosuchif0 --workers 2 -o OUT", group, ["nosuchif0"], bad)
    if "listening on" in group[2]:
        bad.append(f"-i nosuchif0 --workers 2: a banner on stderr: {group[2]!r}")
    if os.path.exists(out) and os.path.getsize(out):
        bad.append(f"-i nosuchif0 --workers 2 -o OUT: OUT holds {os.path.getsize(out)} bytes")

    status, listing, err = sd(exe, "-D")
    lc.log(f"-D: status {status}, {len(listing.splitlines())} interfaces, stderr {err!r}")
    lo = [x for x in listing.splitlines() if x.split(" ", 1)[0].split(".", 1)[-1] == "lo"]
    if status != 0:
        bad.append(f"-D: exit status {status}, expected 0")
    if err:
        bad.append(f"-D: stderr {err!r}")
    if len(lo) != 1 or "Loopback" not in lo[0]:
        bad.append(f"-D does not list lo as a loopback interface once:\n{listing}")

    x = t.path("x")  # does not exist: a usage error must come before any attempt to open it
    one_line_error("-i lo -r x", sd(exe, "-i", "lo", "-r", x), ["-i", "-r"], bad)
    one_line_error("-r x -Z nobody", sd(exe, "-r", x, "-Z", "nobody"), ["-Z"], bad)
    one_line_error("-i lo --rotate-size 1k", sd(exe, "-i", "lo", "--rotate-size", "1k"),
                   ["--rotate-size"], bad)
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
