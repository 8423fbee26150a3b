#!/usr/bin/env python3
"""live_soak_veth: the soak test's checks on a live capture at a steady rate (issue 19), in CI
size — seconds, with timeouts scaled down to match, instead of an hour.

A veth pair into a network namespace (livecommon.Veth); in this namespace an echo server on
A:P (each connection echoes what it reads, closes on EOF; one thread, selectors) and a closed
port A:Q; in the other namespace one client process, for RUN seconds at a steady rate:
  * LONG: 1,000 connections opened at the start, each sending 8 bytes (and reading the echo)
    every 0.5 s until the end: under --idle-timeout 2, never idle; still open when shakedown is
    stopped (SIGTERM): close.how "shutdown";
  * SHORT: one every 25 ms: 8 bytes, the echo, the client's FIN, the server's: "fin"; with
    --time-wait 1 each is remembered for a second and then forgotten;
  * IDLE: one every 0.25 s during the first RUN - 4 s: 8 bytes, the echo, then silence, the
    socket held open: expires after the 2 s idle timeout, "timeout", while the run goes on;
  * REFUSED: one every 0.5 s to Q: SYN answered by RST, "rst".
  * LATE: TIME_WAIT at work, directly. The test watches VA itself (a packet socket) for the
    final ACK of SHORT connections (the client's pure ACK after its FIN and the server's) and
    sends that very frame again out of VA (the capture sees it; the client's side drops it, as
    it is addressed to VA's MAC; the server never gets it): for one SHORT connection a second,
    0.4 s after its close (inside the 1 s TIME_WAIT: a late packet of the closed connection,
    counted in the summary's late_packets, no anomaly: it only repeats the close), for another
    1.5 s after it (past TIME_WAIT, still remembered until 2 s: packet_after_time_wait, and the
    packet opens a midstream connection of its own on those ports).
  shakedown -i VA --checksums keep -F json -o OUT --stats-interval 0.5 --max-flows 4096
            --idle-timeout 2 --time-wait 1 'tcp port P or tcp port Q'
The client reports every connection it made, then waits; once every IDLE connection has its
timeout record shakedown is stopped with SIGTERM, and only then are the held sockets closed
(their FINs come after the capture). Checked: every connection exactly one final record, with
the end its kind gives (two for a connection whose ACK came again after TIME_WAIT: its fin and
the midstream one); nothing else recorded; the summary's late_packets exactly the ACKs sent
inside TIME_WAIT, packet_after_time_wait exactly for those sent after it, each 1 to 2 s after
its connection's end, and no packet_during_time_wait; idle expiry firing throughout (every
2-second slice of the idle phase has timeout records written in it, each 2 s after the
connection's last packet); memory flat after warm-up: the stats records' memory_used_bytes, a
high-water mark of the tables in use, grows by at most 2 % after the first 2 s (the table of
closed connections would grow by one entry per SHORT connection, 400 of them, if TIME_WAIT
never let go); stats counters never decreasing; no kernel drops; every packet read analysed.
About 20 s in all: the issue's hour of steady traffic is left out, so that the whole suite stays
within its five minutes on two cores.
"""

import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import livecommon as lc  # noqa: E402

NAME = "live_soak_veth"
RUN = 10.0  # seconds of traffic
WARM = 2.0  # seconds of warm-up before memory must stay flat
LONGS = 1000  # long-lived connections open throughout
INSIDE, AFTER = 0.4, 1.5  # a late ACK this long after its connection's close (TIME_WAIT 1 s)

CLIENT = r'''
import json, resource, socket, sys, threading, time
host, port, closed, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
longs_n = int(sys.argv[5])
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
made, held, lock = [], [], threading.Lock()
t0 = time.monotonic()

def note(kind, s, at):
    with lock:
        made.append({"kind": kind, "local": list(s.getsockname()), "at": at})

def echo(s, n=8):
    s.sendall(b"x" * n)
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise ConnectionError("echo cut short")
        got += b

def connect():
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def steady(period, until, fn):
    n = 0
    while True:
        at = n * period
        if at >= until:
            return
        delay = t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        fn(at)
        n += 1

def short(at):
    s = connect(); echo(s); note("short", s, at); s.close()

def idle(at):
    s = connect(); echo(s); note("idle", s, at); held.append(s)

def refused(at):
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect((host, closed))
        raise ConnectionError("the closed port accepted")
    except ConnectionRefusedError:
        note("refused", s, at)
    finally:
        s.close()

longs = [connect() for _ in range(longs_n)]
for s in longs:
    note("long", s, 0.0)
    held.append(s)
def keep_alive(at):  # all at once, then every echo read
    for s in longs:
        s.sendall(b"x" * 8)
    for s in longs:
        got = b""
        while len(got) < 8:
            b = s.recv(8 - len(got))
            if not b:
                raise ConnectionError("echo cut short")
            got += b

threads = [threading.Thread(target=steady, args=a) for a in
           ((0.025, run, short), (0.25, run - 4, idle), (0.5, run, refused),
            (0.5, run, keep_alive))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(made), flush=True)
sys.stdin.readline()  # the test has stopped shakedown: now the held sockets may close
for s in held: s.close()
'''


class EchoServer:
    """Echoes what each connection sends; closes it on EOF. One thread for all (selectors): a
    thousand connections would be a thousand threads."""

    def __init__(self, test, host):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(2048)
        self.sock.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        test.defer(self.stop)

    def loop(self):
        while not self.stopping.is_set():
            for key, _ in self.sel.select(0.2):
                if key.fileobj is self.sock:
                    self.accept()
                else:
                    self.echo(key.fileobj)

    def accept(self):
        try:
            c, _ = self.sock.accept()
        except (BlockingIOError, OSError):
            return
        c.setblocking(False)
        self.sel.register(c, selectors.EVENT_READ)

    def echo(self, c):
        try:
            b = c.recv(4096)
            if b:
                c.sendall(b)  # a few bytes into an empty send buffer
                return
        except BlockingIOError:
            return
        except OSError as e:
            self.errors.append(f"echo: {e}")
        self.sel.unregister(c)
        c.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


class LateAcks:
    """TIME_WAIT's direct check: watches VA for the final ACK of SHORT connections (to port P: a
    FIN from the client, then its pure ACK) and sends that frame again out of VA, INSIDE or AFTER
    seconds after the close (its time here, within a millisecond of the capture's), alternately,
    for one connection every PICK_EVERY seconds while the traffic has more than PICK_END seconds
    to go (so that every one is sent, and its TIME_WAIT judged, before the run ends). Records
    what it sent: {client port: delay}."""

    PICK_EVERY, PICK_END = 0.8, 3.5

    def __init__(self, test, iface, port_):
        self.port = port_
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.2)
        test.defer(self.sock.close)
        self.finning = set()
        self.sent = {}
        self.picks_until = time.monotonic() + RUN - self.PICK_END
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        test.defer(self.stop)

    def final_ack(self, frame):
        """The client port if frame is a SHORT connection's final ACK, else None."""
        if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            return None
        tcp = 14 + (frame[14] & 15) * 4
        if int.from_bytes(frame[tcp + 2:tcp + 4], "big") != self.port:
            return None
        sport, flags = int.from_bytes(frame[tcp:tcp + 2], "big"), frame[tcp + 13]
        ip_len = int.from_bytes(frame[16:18], "big")
        if flags & 0x01:  # the client's FIN
            self.finning.add(sport)
        elif (flags == 0x10 and sport in self.finning
              and ip_len == tcp - 14 + (frame[tcp + 12] >> 4) * 4):  # no payload
            self.finning.discard(sport)
            return sport
        return None

    def loop(self):
        due = []  # (when, port, frame, delay)
        next_pick, n = time.monotonic() + 0.5, 0
        while due or not self.stopping.is_set():
            try:
                frame, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                frame, addr = None, None
            now = time.monotonic()
            if frame and addr[2] != socket.PACKET_OUTGOING:
                sport = self.final_ack(frame)
                if sport is not None and next_pick <= now < self.picks_until:
                    due.append((now + (INSIDE if n % 2 == 0 else AFTER), sport, frame,
                                INSIDE if n % 2 == 0 else AFTER))
                    next_pick, n = now + self.PICK_EVERY, n + 1
            for d in [d for d in due if d[0] <= now]:
                due.remove(d)
                try:
                    self.sock.send(d[2])
                    self.sent[d[1]] = d[3]
                except OSError as e:
                    self.errors.append(f"sending the late ACK of port {d[1]}: {e}")

    def stop(self):
        """Once every late ACK due is sent."""
        self.stopping.set()
        self.thread.join(5)


EXPECT = {"long": "shutdown", "short": "fin", "idle": "timeout", "refused": "rst"}


def run(t, exe):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a thousand connections' sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    veth = lc.Veth(t)
    server = EchoServer(t, veth.a)
    P = lc.port(server.sock)
    _, closed = lc.bind_ports(t, listening=0, closed=1, host=veth.a)
    Q = lc.port(closed[0])
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", veth.va, "--checksums", "keep", "-F", "json", "-o", out,
                               "--stats-interval", "0.5", "--max-flows", "4096",
                               "--idle-timeout", "2", "--time-wait", "1",
                               f"tcp port {P} or tcp port {Q}"])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    late = LateAcks(t, veth.va, P)
    client = subprocess.Popen([lc.which("ip"), "netns", "exec", veth.ns, sys.executable, "-c",
                               CLIENT, veth.a, str(P), str(Q), str(RUN), str(LONGS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    t.defer(client.kill)
    line = client.stdout.readline()
    if not line:
        raise lc.Failure(f"client failed:\n{client.stderr.read().decode(errors='replace')}")
    made = json.loads(line)
    idle = [c for c in made if c["kind"] == "idle"]
    local = {c["local"][0] for c in made}
    lc.poll(lambda: sum(1 for r in lc.finals(lc.read_lines(out))
                        if r["close"]["how"] == "timeout") >= len(idle), 10,
            f"the timeout records of all {len(idle)} idle connections", alive=sd)
    late.stop()
    status = sd.stop(sig=signal.SIGTERM)
    client.stdin.write(b"\n")
    client.stdin.flush()
    client.wait(10)
    lc.check(status == 0, f"exit status {status}; stderr:\n{sd.stderr()}")
    lc.check(not server.errors, f"server: {server.errors[:5]}")
    lc.check(not late.errors, f"late ACKs: {late.errors[:5]}")

    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    bad = []
    seen = {}
    for r in lc.finals(recs):
        seen.setdefault((r["src_ip"], r["src_port"], r["dest_port"]), []).append(r)
    counts = {k: 0 for k in EXPECT}
    for c in made:
        counts[c["kind"]] += 1
        # The 4-tuple: a refused connection's port may be taken again at once by another.
        rs = seen.pop((*c["local"], Q if c["kind"] == "refused" else P), [])
        # An ACK after TIME_WAIT opens a midstream connection on the same ports: it ends by
        # the idle timeout, or at the stop.
        want = [EXPECT[c["kind"]]]
        if c["kind"] == "short" and late.sent.get(c["local"][1]) == AFTER:
            want.append("timeout|shutdown")
        if len(rs) != len(want):
            bad.append(f"{c['kind']} {c['local']}: {len(rs)} final records, expected {len(want)}")
        else:
            for r, how in zip(rs, want):
                if r["close"]["how"] not in how.split("|"):
                    bad.append(f"{c['kind']} {c['local']}: close.how {r['close']['how']}, "
                               f"expected {how}")
    for k, rs in seen.items():
        bad.append(f"{k}: {len(rs)} records of a connection the client never made")
    lc.check(local == {veth.b}, f"client addresses {local}")
    bad += check_late(recs, late.sent, {c["local"][1] for c in made if c["kind"] == "short"})

    # Idle expiry throughout, on time: a timeout record is written when the connection expires,
    # so the stats record before it (one every 0.5 s) dates its writing. Each idle connection's
    # last packet (end_ts) is its echo; it must be written 2 s later (the idle timeout), give or
    # take the 0.5 s between stats records and the periodic check; and the idle connections,
    # opened every 0.25 s until RUN - 4 s, expire in every 2-second slice from 2 s to RUN - 2 s.
    start = min(r["ts"] for r in lc.finals(recs))
    written, last_stats = [], None
    for r in recs:
        if r.get("type") == "stats":
            last_stats = r["ts"]
        elif r in lc.finals([r]) and r["close"]["how"] == "timeout":
            written.append((r["end_ts"] - start, (last_stats or start) - start))
    lc.log(f"idle (last packet, written by): {[(round(a, 2), round(b, 2)) for a, b in written]}")
    for end, at in written:
        if not end + 2 - 0.6 <= at <= end + 2 + 1.0:
            bad.append(f"an idle connection quiet since {end:.2f} s expired at {at:.2f} s")
    for lo in range(2, int(RUN) - 2, 2):
        if not any(lo <= at < lo + 2 for _, at in written):
            bad.append(f"no idle expiry between {lo} s and {lo + 2} s")

    # Memory flat after warm-up; counters only grow; nothing dropped.
    stats = lc.by_type(recs, "stats")
    live = [s for s in stats if s["ts"] >= start + WARM and s["ts"] <= start + RUN]
    mem = [s["memory_used_bytes"] for s in live]
    lc.log(f"memory_used over the run: {mem}")
    lc.log(f"connections_open: {[s['connections_open'] for s in live]}")
    if len(mem) < RUN / 0.5 / 2:
        bad.append(f"only {len(mem)} stats records during the run")
    elif max(mem) * 50 > mem[0] * 51:
        # 2 %, about 2 KB: room for a transient peak of open connections (480 bytes each). A
        # table of closed connections that never let go would add an entry (over 100 bytes) per
        # SHORT connection, 40 a second: 50 KB over the run.
        bad.append(f"memory_used grew after warm-up: {mem[0]} -> {max(mem)}")
    for a, b in zip(stats, stats[1:]):
        if b["packets"] < a["packets"] or b["connections_reported"] < a["connections_reported"]:
            bad.append(f"a counter went down: {a} -> {b}")
            break
    summary = recs[-1]
    if summary["analysed"] != summary["packets"] or summary["capture"]["dropped"]:
        bad.append(f"summary: {summary['analysed']} of {summary['packets']} analysed, "
                   f"capture {summary['capture']}")
    lc.log(f"{counts} connections over {veth.va}: {summary['packets']} packets, by_close "
           f"{summary['connections']['by_close']}")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad[:30]))


def check_late(recs, sent, shorts):
    """TIME_WAIT: the ACKs sent INSIDE it counted as late packets and nothing more; those sent
    AFTER it flagged packet_after_time_wait, each 1 to 2 s after its connection's end."""
    bad = []
    inside = [p for p, d in sent.items() if d == INSIDE]
    after = {p for p, d in sent.items() if d == AFTER}
    lc.log(f"late ACKs sent: {len(inside)} inside TIME_WAIT, {len(after)} after it")
    if len(inside) < 3 or len(after) < 3:
        bad.append(f"only {len(inside)} + {len(after)} late ACKs sent: one a second was meant")
    if not set(sent) <= shorts:
        bad.append(f"late ACKs for ports of no SHORT connection: {set(sent) - shorts}")
    summary = recs[-1]
    if summary["connections"]["late_packets"] != len(inside):
        bad.append(f"late_packets {summary['connections']['late_packets']}, expected "
                   f"{len(inside)} (the ACKs sent inside TIME_WAIT)")
    ends = {r["src_port"]: r["end_ts"] for r in lc.finals(recs) if r["close"]["how"] == "fin"}
    flagged = {}
    for r in lc.by_type(recs, "anomaly"):
        if r["name"] == "packet_during_time_wait":
            bad.append(f"packet_during_time_wait: {r}")
        elif r["name"] == "packet_after_time_wait":
            flagged[r["src_port"] if r["src_port"] in after else r["dest_port"]] = r["ts"]
    if set(flagged) != after:
        bad.append(f"packet_after_time_wait for ports {sorted(flagged)}, expected {sorted(after)}")
    for p, ts in flagged.items():
        if p in ends and not 1.0 < ts - ends[p] < 2.0:
            bad.append(f"port {p}: packet_after_time_wait {ts - ends[p]:.3f} s after the close")
    return bad


def main():
    return lc.main(NAME, __doc__, run, 50, tools=("ip",))


if __name__ == "__main__":
    sys.exit(main())
