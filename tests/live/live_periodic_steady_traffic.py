#!/usr/bin/env python3
"""live_periodic_steady_traffic: the periodic work of a live capture must keep its clock while
packets trickle in steadily (a regression test).

--stats-interval, --interim, --rotate-seconds and the SIGHUP reopen are all done in analyze.c's
periodic(). Until 65e65ef read_capture() called it only when capture_next() reported
CAPTURE_IDLE (no packet within the 250 ms poll timeout, or a signal interrupted the poll) or
after every 1024th packet. Traffic that is steady but light (one interactive session, a packet
every 20-40 ms) is neither: on a veth pair at ~50 packets/s no stats record came for 8 s with
--stats-interval 1, and no interim record during the whole connection. (On lo the effect is
weaker and racy: libpcap skips the outgoing copy of each loopback packet, and a wake-up for that
copy alone looks idle.)

So the capture is on a veth pair (livecommon.Veth), as on a real interface:
  shakedown -i VA --checksums keep -F json -o OUT --stats-interval 1 --interim 1 'tcp port P'
while a client in the namespace sends one byte every 40 ms for 6 s (~50 packets/s with the
ACKs). Required:
  * stats records keep their 1 s cadence: no gap between consecutive ones above 1.75 s;
  * an interim record of the connection within 3 s of its start;
  * SIGHUP (sent 4.5 s in, after those: a signal interrupts the poll, which runs periodic()
    at once) after `mv OUT OUT.1` acted on (a new OUT exists) within 1.5 s.
"""

import os
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_periodic_steady_traffic"
GAP = 0.04
DURATION = 6.0
MAX_STATS_GAP = 1.75
INTERIM_WITHIN = 3.0
REOPEN_WITHIN = 1.5
HUP_AT = 4.5  # after the stats and interim checks: a signal wakes the loop up itself

CLIENT = r'''
import socket, sys, time
host, port, gap, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("%s %d" % s.getsockname(), flush=True)
end = time.monotonic() + duration
n = 0
while time.monotonic() < end:
    s.sendall(b"x")
    n += 1
    time.sleep(gap)
s.close()
print(n, flush=True)
'''


def main():
    return lc.main(NAME, __doc__, run, 40, tools=("ip",))


def run(t, exe):
    veth = lc.Veth(t)
    (listener,), _ = lc.bind_ports(t, listening=1, host=veth.a)
    P = lc.port(listener)
    out = t.path("out.json")
    old = out + ".1"
    sd = lc.Shakedown(t, exe, ["-i", veth.va, "--checksums", "keep", "-F", "json", "-o", out,
                               "--stats-interval", "1", "--interim", "1", f"tcp port {P}"])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)

    client = subprocess.Popen([lc.which("ip"), "netns", "exec", veth.ns, sys.executable, "-c",
                               CLIENT, veth.a, str(P), str(GAP), str(DURATION)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    t.defer(lambda: client.poll() is None and os.killpg(client.pid, signal.SIGKILL))
    listener.settimeout(5)
    srv, _ = listener.accept()
    t.defer(srv.close)
    opened = time.monotonic()
    ip_, port_ = client.stdout.readline().split()
    key = ((ip_.decode(), int(port_)), (veth.a, P))

    def drain():  # the server's kernel ACKs each byte
        srv.settimeout(DURATION + 10)
        try:
            while srv.recv(4096):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()

    interim_at = hup_at = reopen_latency = None
    while client.poll() is None and time.monotonic() - opened < DURATION + 5:
        now = time.monotonic()
        if interim_at is None and any(
                r.get("type") == "connection" and r.get("final") is False
                and lc.key_of(r) == key for r in lc.read_lines(out)):
            interim_at = now - opened
        if hup_at is None and now - opened >= HUP_AT:
            os.rename(out, old)
            sd.send(signal.SIGHUP)
            hup_at = now
        if hup_at is not None and reopen_latency is None and os.path.exists(out):
            reopen_latency = now - hup_at
        if not sd.running():
            raise lc.Failure(f"shakedown exited with status {sd.proc.returncode}:\n"
                             f"{sd.stderr()}")
        time.sleep(0.02)
    sent = client.stdout.read().decode().strip()
    lc.check(client.wait(10) == 0, f"client failed: {client.stderr.read().decode()}")
    status = sd.stop()
    lc.check(status == 0, f"exit status {status} after SIGINT; stderr:\n{sd.stderr()}")

    files = [p for p in (old, out) if os.path.exists(p)]
    lc.validate(files)
    recs = [r for p in files for r in lc.strict_lines(p)]
    stats = lc.by_type(recs, "stats")
    ts = [s["ts"] for s in stats]
    gaps = [round(b - a, 2) for a, b in zip(ts, ts[1:])]
    fmt = lambda v: "never" if v is None else f"{v:.2f} s"  # noqa: E731
    lc.log(f"{sent} bytes sent one at a time every {GAP} s over {veth.va}; {len(stats)} stats "
           f"records, gaps {gaps}, packets {[s['packets'] for s in stats]}")
    lc.log(f"first interim record {fmt(interim_at)} after the connection opened; OUT reopened "
           f"{fmt(reopen_latency)} after SIGHUP")
    bad = []
    if gaps and max(gaps) > MAX_STATS_GAP:
        bad.append(f"--stats-interval 1: {max(gaps)} s between two stats records while packets "
                   f"kept coming (at most {MAX_STATS_GAP} s expected)")
    if interim_at is None or interim_at > INTERIM_WITHIN:
        bad.append(f"--interim 1: first interim record {fmt(interim_at)} after the connection "
                   f"opened, during {DURATION} s of traffic (at most {INTERIM_WITHIN} s "
                   f"expected)")
    if reopen_latency is None or reopen_latency > REOPEN_WITHIN:
        bad.append(f"SIGHUP: OUT reopened {fmt(reopen_latency)} after the signal (at most "
                   f"{REOPEN_WITHIN} s expected)")
    if bad:
        raise lc.Failure("periodic work (analyze.c's periodic()) starved by steady traffic:\n  "
                         + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
