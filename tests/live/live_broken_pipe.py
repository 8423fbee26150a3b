#!/usr/bin/env python3
"""live_broken_pipe: the reader of the output goes away (issue 5, test 5).

SIGPIPE is ignored; a vanished reader must end the run quietly with status 0 (docs/shakedown.1,
SIGNALS). On a capture of 3000 connections (pcapgen.py: far more output than a pipe buffers):
  * shakedown -r BIG.pcap -F json | head -1, run by bash: ${PIPESTATUS[0]} is 0, stderr is empty,
    head printed one complete, valid record;
  * the same with -F text, and from Python (subprocess, the reader closing after one line);
  * live (needs root): shakedown -i lo -F json --stats-interval 0.2 'tcp port Q' | head -1: the
    stats records alone fill the pipe; shakedown must exit 0, quietly (its stderr only the
    "listening on lo" banner), within 3 s.
"""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import pcapgen  # noqa: E402

NAME = "live_broken_pipe"
CONNECTIONS = 3000

BASH = r'''
"$0" "$@" 2>"$ERR" | head -1 >"$FIRST"
echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}" >"$STATUS"
'''


def via_bash(t, exe, args, tag, timeout=30):
    env = dict(os.environ, ERR=t.path(f"{tag}.err"), FIRST=t.path(f"{tag}.first"),
               STATUS=t.path(f"{tag}.status"))
    start = time.monotonic()
    subprocess.run(["bash", "-c", BASH, exe] + args, env=env, timeout=timeout, check=True,
                   start_new_session=True)
    took = time.monotonic() - start
    with open(env["STATUS"]) as f:
        status, head_status = (int(x) for x in f.read().split())
    with open(env["ERR"], "rb") as f:
        err = f.read().decode(errors="replace")
    with open(env["FIRST"], "rb") as f:
        first = f.read()
    lc.log(f"{tag}: shakedown {' '.join(args)} | head -1: PIPESTATUS {status} {head_status}, "
           f"{took:.2f} s, stderr {err!r}, first line {first[:80]!r}...")
    return status, err, first


def check_run(tag, status, err, first, json_line, bad):
    if status != 0:
        bad.append(f"{tag}: shakedown exited with status {status}, expected 0")
    if err:
        bad.append(f"{tag}: shakedown wrote to stderr: {err!r}")
    if first.count(b"\n") != 1 or not first.endswith(b"\n"):
        bad.append(f"{tag}: head did not get one whole line: {first[:200]!r}")
    elif json_line:
        try:
            rec = json.loads(first)
        except ValueError as e:
            bad.append(f"{tag}: the first line is not JSON ({e})")
        else:
            if not isinstance(rec, dict) or "type" not in rec:
                bad.append(f"{tag}: the first line is not a record: {first[:200]!r}")


def main():
    return lc.main(NAME, __doc__, run, 60, root=False, tools=("bash", "head"))


def run(t, exe):
    big = t.path("big.pcap")
    frames = pcapgen.write(big, CONNECTIONS)
    lc.log(f"{big}: {CONNECTIONS} connections, {frames} frames, {os.path.getsize(big)} bytes")
    bad = []

    for fmt in ("json", "text"):
        s, e, first = via_bash(t, exe, ["-r", big, "-F", fmt], f"file-{fmt}")
        check_run(f"-r BIG -F {fmt} | head -1", s, e, first, fmt == "json", bad)
    if not bad:  # the first line of JSON must also be valid against the schema
        with open(t.path("first.json"), "wb") as f, open(t.path("file-json.first"), "rb") as g:
            f.write(g.read())
        lc.validate([t.path("first.json")])

    # From Python: the reader reads one line and closes the pipe.
    errpath = t.path("py.err")
    with open(errpath, "wb") as errf:
        p = subprocess.Popen([exe, "-r", big, "-F", "json"], stdout=subprocess.PIPE,
                             stderr=errf, start_new_session=True)
        t.defer(lambda: p.poll() is None and p.kill())
        first = p.stdout.readline()
        p.stdout.close()
        status = p.wait(30)
    with open(errpath, "rb") as f:
        err = f.read().decode(errors="replace")
    lc.log(f"python reader: status {status}, stderr {err!r}")
    check_run("python reader closing after one line", status, err, first, True, bad)

    if lc.live_part(f"{NAME} (live part)"):
        _, closed = lc.bind_ports(t, listening=0, closed=1)
        q = lc.port(closed[0])
        s, e, first = via_bash(t, exe, ["-i", "lo", "-F", "json", "--stats-interval", "0.2",
                                        f"tcp port {q}"], "live", timeout=15)
        if not e.startswith(lc.banner("lo")):
            bad.append(f"live: stderr does not start with the banner: {e!r}")
        check_run("-i lo --stats-interval 0.2 | head -1", s, e.replace(lc.banner("lo"), "", 1),
                  first, True, bad)
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
