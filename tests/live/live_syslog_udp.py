#!/usr/bin/env python3
"""live_syslog_udp: over UDP, a syslog receiver that is not there is noticed, and no record it
refused is counted written (issue 14: "nothing lost silently"; "an unreachable receiver at start
is a clear error (exit 2) naming it").

UDP has no acknowledgement; the one sign of a receiver that is not there is its host's ICMP port
unreachable, which a connected UDP socket reports as ECONNREFUSED. On loopback that error is
back by the time send() returns, so shakedown can tell exactly which datagram was refused.

  * at start: `shakedown -r CAP -o syslog://127.0.0.1:U` with nothing bound to UDP port U exits
    with status 2 and one line naming the target and saying "Connection refused", without a
    record on standard output (before, it exited 0 and counted every record written while
    stderr said "Connection refused" over and over);
  * reading files, the receiver goes away between two parts of a capture fed through a pipe and
    comes back: shakedown waits for it (each refused datagram is sent again, with backoff) and
    every record arrives exactly once, in order, as -F json writes it (receivers.py), exit 0;
  * live (`-i lo`, a file output beside it), the receiver is there for PHASE connections, gone
    for PHASE more, back for PHASE more: what it received (whole, but the summary, which cannot
    count itself) is exactly the syslog output's written; the records refused meanwhile are its
    dropped (written + dropped + failed equals the file output's written); stderr says the
    receiver was lost and is back; exit status 3 (records were dropped).
The receiver is a Python UDP socket with an 8 MB buffer (SO_RCVBUFFORCE), read by a thread of
its own, so that it drops nothing itself.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_syslog_udp"
CONNECTIONS = 200  # of the capture read from a pipe
PHASE = 150  # live connections made in each of the three phases
SO_RCVBUFFORCE = 33


class UdpReceiver:
    """Datagrams on a loopback UDP port, kept in arrival order (records(): but the empty one
    shakedown probes with at start); stop() unbinds the port (its host then refuses datagrams
    to it), start() binds it again."""

    def __init__(self, test, port):
        self.port, self.sock, self.thread = port, None, None
        self.got = []
        test.defer(self.stop)

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        s.bind((lc.HOST, self.port))
        s.settimeout(0.1)
        self.sock, self.running = s, True
        self.thread = threading.Thread(target=self._take, args=(s,), daemon=True)
        self.thread.start()

    def _take(self, s):
        while self.running:
            try:
                self.got.append(s.recv(1 << 16))
            except socket.timeout:
                continue
            except OSError:
                return

    def records(self):
        return [d for d in self.got if d]

    def stop(self):
        if self.sock is None:
            return
        self.running = False
        self.thread.join(5)
        while True:  # what is still queued was received before the port closed
            try:
                self.got.append(self.sock.recv(1 << 16, socket.MSG_DONTWAIT))
            except OSError:
                break
        self.sock.close()
        self.sock = None


def body(datagram):
    """The record in an RFC 5424 message: after "<PRI>1 TS HOST APP PROCID MSGID - "."""
    return datagram.split(b" ", 7)[7]


def msgid(datagram):
    return datagram.split(b" ", 7)[5]


def main():
    return lc.main(NAME, __doc__, run, 60)


def run(t, exe):
    frames, times, cap = rc.capture_file(t, CONNECTIONS)
    at_start(t, exe, cap)
    reading_files(t, exe, frames, times, rc.reference(exe, cap))
    live(t, exe)


def at_start(t, exe, cap):
    port = rc.free_port()  # nothing bound to it: its datagrams are refused
    target = f"syslog://{lc.HOST}:{port}"
    r = subprocess.run([exe, "-r", cap, "-F", "json", "-o", target], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20, check=False)
    err = r.stderr.decode(errors="replace").splitlines()
    lc.log(f"at start: status {r.returncode}, {err}")
    lc.check(r.returncode == 2 and len(err) == 1 and target in err[0] and
             "Connection refused" in err[0], f"refusing receiver at start: status "
             f"{r.returncode}, stderr {err}")
    lc.check(not r.stdout, "refusing receiver at start: records on stdout")


def reading_files(t, exe, frames, times, want):
    """Gone between the two halves of the capture, back later: shakedown waits, none lost."""
    port = rc.free_port()
    receiver = UdpReceiver(t, port)
    receiver.start()

    def gone():
        rc.wait_until(t, lambda: len(receiver.records()) >= CONNECTIONS // 2, 10,
                      "the first half's records")
        receiver.stop()

    err = rc.outage(t, exe, f"syslog://{lc.HOST}:{port}", frames, times, CONNECTIONS // 2 * 8,
                    gone, receiver.start)
    lc.check("Connection refused; waiting for it" in err,
             f"reading files: stderr does not say the receiver refused: {err!r}")
    rc.wait_until(t, lambda: len(receiver.records()) >= len(want), 10, f"{len(want)} records")
    time.sleep(0.2)  # and no more after them
    receiver.stop()
    lc.check(receiver.got.count(b"") == 1, f"{receiver.got.count(b'')} empty datagrams: one "
                                           f"probe at start expected")
    rc.compare("UDP receiver gone and back, reading files",
               [body(d) for d in receiver.records()], want)


def connections(server_port, n):
    for i in range(n):
        traffic._client(traffic.Conn(i, traffic.CLIENT_FIRST, 100, 100), server_port, 1)


def live(t, exe):
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    port = rc.free_port()
    receiver = UdpReceiver(t, port)
    receiver.start()
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-F", "json", "-o", out, "-o",
                               f"syslog://{lc.HOST}:{port}", f"tcp port {P}"])
    lc.poll(lambda: lc.banner("lo") in sd.stderr(), 10, "the banner", alive=sd)
    server.start()
    t.defer(server.stop)

    def phase(k):
        connections(P, PHASE)
        lc.poll(lambda: len(lc.finals(lc.read_lines(out))) >= k * PHASE, 15,
                f"the file output's {k * PHASE} final records", alive=sd)
        time.sleep(0.2)  # the writer has sent them too

    phase(1)
    receiver.stop()
    phase(2)
    receiver.start()
    time.sleep(1.2)  # the backoff's next attempt is due (at most a second)
    phase(3)
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    status = sd.stop(timeout=15, sig=signal.SIGINT)
    time.sleep(0.2)
    receiver.stop()
    err = sd.stderr()
    summary = lc.strict_lines(out)[-1]
    lc.log(f"live: exit status {status}; outputs {summary.get('outputs')}; stderr "
           f"{err.splitlines()}")
    _, to_syslog = rc.file_and_receiver(summary)
    received = [d for d in receiver.records() if msgid(d) != b"summary"]
    lc.log(f"live: {len(receiver.got)} datagrams received, {len(received)} but the summary")
    lc.check(len(received) == to_syslog["written"],
             f"the receiver got {len(received)} records, the syslog output counts {to_syslog}")
    lc.check(to_syslog["dropped"] > 0 and status == 3,
             f"records sent while the receiver was gone were not counted dropped: status "
             f"{status}, {to_syslog}")
    lc.check("Connection refused; records are dropped and counted until it is back" in err and
             "connected again" in err,
             f"live: stderr does not say the receiver was lost and is back: {err!r}")


if __name__ == "__main__":
    sys.exit(main())
