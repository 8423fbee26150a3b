#!/usr/bin/env python3
"""live_notify: shakedown tells systemd it is ready and alive (issue 19, sd_notify).

The test stands in for systemd: it binds a Unix datagram socket and starts
`shakedown -i lo -F json -o OUT 'tcp port 9'` with NOTIFY_SOCKET pointing at it and
WATCHDOG_USEC=400000 (WatchdogSec=0.4), as systemd does for a Type=notify unit. shakedown must
send READY=1 once (after the capture and the output are open: OUT exists by then), then
WATCHDOG=1 about every 0.2 s (half the interval, sd_watchdog_enabled(3)) for as long as it runs
— at least 5 pings in 1.5 s, no gap over 0.6 s — and STOPPING=1 on SIGINT, then exit 0.
Then WATCHDOG_PID set to another process: the watchdog is not ours, so READY=1 and no ping.
Then with --workers 2, where capture threads read and the main thread pings only while each of
them made progress (a packet or an idle poll of its socket) within WatchdogSec: an idle
lo, polled every 250 ms, keeps them alive, so the pings go on as with one thread.
A build without libsystemd sends nothing: the test then fails, saying so, unless
SHAKEDOWN_NO_SYSTEMD=1 says that build is the one meant.
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_notify"


def receive(sock, seconds):
    """Every datagram received within seconds, as (monotonic time, text)."""
    got = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            break
        got.append((time.monotonic(), data.decode(errors="replace")))
    return got


def start(t, exe, sock_path, out, env, extra=()):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return lc.Shakedown(t, exe, ["-i", "lo", "-F", "json", "-o", out, *extra, "tcp port 9"])
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check_ready_and_pings(msgs, out, what):
    """READY=1 first and once, after the output is open; then a ping every 0.2 s."""
    lc.check(msgs and msgs[0][1] == "READY=1", f"first message {msgs[:1]}, expected READY=1{what}")
    lc.check(os.path.exists(out), f"READY=1 came before the output file was open{what}")
    lc.check(sum(m == "READY=1" for _, m in msgs) == 1, f"READY=1 sent more than once{what}")
    pings = [ts for ts, m in msgs if m == "WATCHDOG=1"]
    lc.check(len(pings) >= 5, f"{len(pings)} WATCHDOG=1 in 1.5 s, expected about 7 (every "
                              f"0.2 s){what}")
    gaps = [b - a for a, b in zip([msgs[0][0]] + pings, pings)]
    lc.check(max(gaps) < 0.6, f"a gap of {max(gaps):.2f} s between pings (WatchdogSec 0.4){what}")
    lc.check(min(gaps[1:]) > 0.1, f"pings {min(gaps[1:]):.3f} s apart: faster than half the "
                                  f"interval{what}")


def stop_and_check(sd, sock, what):
    """SIGINT: exit 0, STOPPING=1 said."""
    rc = sd.stop()
    lc.check(rc == 0, f"exit status {rc} after SIGINT{what}")
    tail = [m for _, m in receive(sock, 0.3)]
    lc.check("STOPPING=1" in tail, f"no STOPPING=1 after SIGINT (got {tail}){what}")


def run(t, exe):
    sock_path = t.path("notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    t.defer(sock.close)

    out = t.path("out.json")
    sd = start(t, exe, sock_path, out,
               {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"})
    msgs = receive(sock, 1.5)
    lc.log(f"received {len(msgs)} messages: {[m for _, m in msgs][:4]} ...")
    if not msgs:
        if os.environ.get("SHAKEDOWN_NO_SYSTEMD") == "1":
            lc.log("no message: built without libsystemd, as SHAKEDOWN_NO_SYSTEMD=1 says")
            sd.stop()
            return
        raise lc.Failure("no sd_notify message at all (built without libsystemd-dev?)")
    check_ready_and_pings(msgs, out, "")
    stop_and_check(sd, sock, "")

    # --workers 2: the capture threads' idle polls are their progress.
    out = t.path("out-workers.json")
    sd = start(t, exe, sock_path, out, {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"},
               ["--workers", "2"])
    check_ready_and_pings(receive(sock, 1.5), out, " (--workers 2)")
    stop_and_check(sd, sock, " (--workers 2)")

    # A watchdog meant for another process (WATCHDOG_PID): readiness only.
    sd = start(t, exe, sock_path, t.path("out2.json"),
               {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})
    msgs = [m for _, m in receive(sock, 1.0)]
    lc.check(msgs == ["READY=1"], f"with WATCHDOG_PID=1: {msgs}, expected READY=1 alone")
    lc.check(sd.stop() == 0, "exit status after SIGINT")


def main():
    return lc.main(NAME, __doc__, run, 30)


if __name__ == "__main__":
    sys.exit(main())
