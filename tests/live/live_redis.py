#!/usr/bin/env python3
"""live_redis: -o redis://HOST:PORT/KEY against a real redis-server (issue 14).

A redis-server of its own on a loopback port (no persistence, its files in the test's
directory), and a capture of 300 clean connections plus anomalies of every severity
(receivers.py). Each record must arrive exactly once, in order, byte for byte the line
`-F json` writes (without its newline):
  * mode=list (the default) and mode=rpush: LRANGE KEY 0 -1; mode=lpush (Suricata's list): the
    same read right to left, the order an RPOP reader takes them in;
  * mode=xadd: XRANGE KEY - + (field "record"), each XADD with MAXLEN ~ 100000 unless told (a
    MONITOR client sees the commands); with maxlen=10 the stream is trimmed (~: whole nodes, so
    it keeps at least 10 and fewer than all) and ends with the last records; maxlen=0: XADD
    without MAXLEN, every record kept;
  * mode=stream: as mode=xadd (Suricata's name);
  * mode=publish, then mode=channel (Suricata's name): a subscriber on KEY receives every record
    of both runs;
  * the server killed and restarted mid-run: shakedown reads the capture from a pipe; after the
    first half its records are all in the list (batches are flushed when the writer goes idle),
    the server is stopped (SIGTERM) and the list saved, the second half is fed while it is
    down, it is started again: shakedown waits and reconnects (stderr says so), exits 0, and
    the saved list plus the new one are the reference, none lost (no records_lost), none twice;
  * the server killed (SIGKILL) while records are on their way, started again a second later:
    with appendonly/appendfsync always it keeps what it executed, and shakedown sends again
    only what it does not have: the list (mode=list, and mode=lpush, its records in doubt at
    the list's left end) and the stream (mode=xadd) hold every record exactly once, in order;
  * a server that is not there at start: exit status 2 and one line naming the target;
  * -F zeek: each entry is one conn.log row, the TSV header and #close left out (they describe a
    file: a message stands alone), the rows those of -F zeek to a file;
  * live (-i lo, as root), beside a file output: a record is in Redis within a second though no
    record comes after it (a batch goes when the writer is idle, or 10 ms after its first
    record); SIGINT with OPEN connections held open makes their final records come in one
    burst, which goes in pipelined batches: Redis reads them in far fewer reads than records
    (INFO stats total_reads_processed; one round trip per record before); the list is the file
    output's lines, in order.
  * AUTH: a second redis-server with requirepass and an ACL user of its own: the records arrive
    with the password in the URL (redis://:PASSWORD@..., percent-encoded), as ?password=, and
    as an ACL user (redis://USER:PASSWORD@...); a wrong password, or none, is exit status 2 at
    start with one line naming the target, the password itself never shown.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_redis"
CONNECTIONS = 300
OPEN = 300  # live: connections held open until SIGINT
KILLED = 3000  # the capture fed while the server is killed


class Resp:
    """A minimal Redis client (RESP2) for checking what arrived."""

    def __init__(self, port):
        self.sock = socket.create_connection((lc.HOST, port), timeout=5)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise lc.Failure("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest
        if kind == b"-":
            raise lc.Failure(f"redis error: {rest!r}")
        if kind == b"$":
            return None if int(rest) < 0 else self._bulk(int(rest))
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise lc.Failure(f"unexpected redis reply {line!r}")

    def send(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(f"${len(a)}\r\n".encode() + a + b"\r\n")
        self.sock.sendall(b"".join(out))

    def call(self, *args):
        self.send(*args)
        return self.reply()


def redis_cmd(port, *args, password=None):
    r = Resp(port)
    try:
        if password is not None:
            r.call("AUTH", password)
        return r.call(*args)
    finally:
        r.close()


def main():
    return lc.main(NAME, __doc__, run, 40, root=False, tools=("redis-server",))


def run(t, exe):
    frames, times, cap = rc.capture_file(t, CONNECTIONS)
    want = rc.reference(exe, cap)
    port = rc.free_port()
    server = rc.Receiver(t, "redis", [lc.which("redis-server"), "--port", str(port), "--bind",
                                      lc.HOST, "--save", "", "--appendonly", "no", "--dir",
                                      t.tmp, "--daemonize", "no"], port)
    server.start()
    url = f"redis://{lc.HOST}:{port}"

    def shakedown(target):
        r = subprocess.run([exe, "-r", cap, "-F", "json", "-o", target], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, check=False)
        lc.check(r.returncode == 0 and not r.stderr,
                 f"-o {target}: status {r.returncode}, stderr {r.stderr!r}")

    shakedown(f"{url}/sd-list")
    rc.compare("mode=list", redis_cmd(port, "LRANGE", "sd-list", 0, -1), want)
    # Suricata's names: rpush is list; lpush pushes at the left, so a reader popping from the
    # right (RPOP, as FEVER does) takes them in the order written: the list read right to left
    shakedown(f"{url}/sd-rpush?mode=rpush")
    rc.compare("mode=rpush", redis_cmd(port, "LRANGE", "sd-rpush", 0, -1), want)
    shakedown(f"{url}/sd-lpush?mode=lpush")
    rc.compare("mode=lpush (RPOP order)", redis_cmd(port, "LRANGE", "sd-lpush", 0, -1)[::-1],
               want)

    xadds = monitored(port, lambda: shakedown(f"{url}/sd-stream?mode=xadd"))
    lc.check(len(xadds) == len(want) and
             all(x.startswith(b'"XADD" "sd-stream" "MAXLEN" "~" "100000" "*" "record" ')
                 for x in xadds), f"xadd: not every XADD has MAXLEN ~ 100000: {xadds[:1]!r}")
    entries = redis_cmd(port, "XRANGE", "sd-stream", "-", "+")
    lc.check(all(e[1][0] == b"record" for e in entries), "xadd: a field is not named record")
    rc.compare("mode=xadd", [e[1][1] for e in entries], want)

    shakedown(f"{url}/sd-suricata-stream?mode=stream")  # Suricata's name for xadd
    entries = redis_cmd(port, "XRANGE", "sd-suricata-stream", "-", "+")
    rc.compare("mode=stream", [e[1][1] for e in entries], want)

    xadds = monitored(port, lambda: shakedown(f"{url}/sd-unbounded?mode=xadd&maxlen=0"))
    lc.check(len(xadds) == len(want) and
             all(x.startswith(b'"XADD" "sd-unbounded" "*" "record" ') for x in xadds),
             f"xadd maxlen=0: an XADD with MAXLEN: {xadds[:1]!r}")
    entries = redis_cmd(port, "XRANGE", "sd-unbounded", "-", "+")
    rc.compare("mode=xadd&maxlen=0", [e[1][1] for e in entries], want)

    shakedown(f"{url}/sd-capped?mode=xadd&maxlen=10")
    kept = [e[1][1] for e in redis_cmd(port, "XRANGE", "sd-capped", "-", "+")]
    lc.check(10 <= len(kept) < len(want), f"xadd maxlen=10: {len(kept)} entries kept of "
                                          f"{len(want)}")
    rc.compare("mode=xadd&maxlen=10 (the last ones)", kept, want[-len(kept):])

    sub = Resp(port)
    t.defer(sub.close)
    sub.call("SUBSCRIBE", "sd-channel")
    shakedown(f"{url}/sd-channel?mode=publish")
    shakedown(f"{url}/sd-channel?mode=channel")  # Suricata's name for publish: the same again
    both = want + want
    got = []
    while len(got) < len(both):
        msg = sub.reply()
        lc.check(msg[0] == b"message", f"publish: unexpected {msg!r}")
        got.append(msg[2])
    rc.compare("mode=publish, then mode=channel", got, both)

    zeek_rows(exe, cap, url, port, t)
    restart(t, exe, server, port, frames, times, want)
    killed_mid_stream(t, exe)

    closed = rc.closed_port(t)
    start = time.monotonic()
    r = subprocess.run([exe, "-r", cap, "-o", f"redis://{lc.HOST}:{closed}/k"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    err = r.stderr.decode(errors="replace").splitlines()
    lc.log(f"unreachable: status {r.returncode}, {time.monotonic() - start:.2f} s, {err}")
    lc.check(r.returncode == 2, f"unreachable server: status {r.returncode}, expected 2")
    lc.check(len(err) == 1 and f"redis://{lc.HOST}:{closed}/k" in err[0] and
             "Connection refused" in err[0], f"unreachable server: stderr {err}")
    lc.check(not r.stdout, "unreachable server: records on stdout")

    auth(t, exe, cap, want)
    if lc.live_part(NAME):
        live(t, exe, port)


MONITORED = re.compile(rb"^\+[0-9.]+ \[[0-9]+ [^]]*\] (.*)$")


def monitored(port, action):
    """The XADD commands the server ran while action() ran, as MONITOR shows them (quoted
    arguments after the time stamp and client)."""
    mon = Resp(port)
    mon.call("MONITOR")
    action()
    redis_cmd(port, "PING")  # the last command MONITOR shows
    out = []
    while True:
        line = mon._line()
        m = MONITORED.match(line)
        lc.check(m, f"MONITOR: unexpected {line[:100]!r}")
        if m.group(1) == b'"PING"':
            break
        if m.group(1).startswith(b'"XADD"'):
            out.append(m.group(1))
    mon.close()
    return out


def zeek_rows(exe, cap, url, port, t):
    """-F zeek: every entry a conn.log row; the rows are -F zeek's to a file, without its '#'
    lines (the header, #close)."""
    path = t.path("conn.log")
    r = subprocess.run([exe, "-r", cap, "-F", "zeek", "-o", path, "-F", "zeek", "-o",
                        f"{url}/sd-zeek"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20, check=False)
    lc.check(r.returncode == 0 and not r.stderr, f"-F zeek: status {r.returncode}, {r.stderr!r}")
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    rows = [x for x in lines if not x.startswith(b"#")]
    lc.check(len(lines) - len(rows) == 9, f"-F zeek to a file: {len(lines) - len(rows)} '#' "
                                          f"lines, expected the 8 of the header and #close")
    got = redis_cmd(port, "LRANGE", "sd-zeek", 0, -1)
    lc.check(got == rows and len(rows) > CONNECTIONS,
             f"-F zeek: {len(got)} entries, the file has {len(rows)} rows; first entry "
             f"{got[:1]!r}")
    lc.log(f"-F zeek: {len(got)} entries, each a conn.log row")


def live(t, exe, port):
    """Live: records pipelined in batches, none held back when no record follows."""
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    lst = socket.socket()  # never accepts: the kernel completes the handshakes in its backlog
    lst.bind((lc.HOST, 0))
    lst.listen(OPEN + 16)
    t.defer(lst.close)
    out = t.path("live.json")
    key = "sd-live"
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-F", "json", "-o", out, "-o",
                               f"redis://{lc.HOST}:{port}/{key}",
                               f"tcp port {P} or tcp port {lc.port(lst)}"])
    lc.poll(lambda: lc.banner("lo") in sd.stderr(), 10, "the banner", alive=sd)
    server.start()
    t.defer(server.stop)
    for i in range(20):
        traffic._client(traffic.Conn(i, traffic.CLIENT_FIRST, 100, 100), P, 1)
    lc.poll(lambda: len(lc.finals(lc.read_lines(out))) >= 20, 10, "20 final records in the file",
            alive=sd)
    start = time.monotonic()
    lc.poll(lambda: redis_cmd(port, "LLEN", key) >= 20, 1, "the 20 records in Redis within a "
            "second, no record after them", alive=sd)
    lc.log(f"live: 20 records in Redis {time.monotonic() - start:.3f} s after the file had them")
    server.stop()
    held = [socket.create_connection(lst.getsockname(), timeout=5) for _ in range(OPEN)]
    t.defer(lambda: [c.close() for c in held])
    time.sleep(0.5)  # the handshakes captured
    reads = reads_processed(port)
    status = sd.stop(timeout=15, sig=signal.SIGINT)
    reads = reads_processed(port) - reads
    for c in held:
        c.close()
    with open(out, "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    got = redis_cmd(port, "LRANGE", key, 0, -1)
    lc.log(f"live: status {status}, {len(got)} records in Redis, {reads} reads for the last "
           f"{OPEN} and more")
    lc.check(status == 0, f"live: exit status {status}: {sd.stderr()}")
    lc.check(len(lc.finals([json.loads(x) for x in lines])) >= 20 + OPEN,
             f"live: fewer than {20 + OPEN} final records in the file")
    rc.compare("live, the file output's records", got, [rc.normalise(x) for x in lines])
    lc.check(reads < OPEN // 4, f"live: Redis needed {reads} reads for {OPEN} records written "
                                f"at once: not pipelined")


def reads_processed(port):
    """INFO stats' total_reads_processed: the read events the server has handled."""
    info = redis_cmd(port, "INFO", "stats")
    return int(re.search(rb"total_reads_processed:([0-9]+)", info).group(1))


PASSWORD = "s3cr@t:x"  # '@' and ':' must be percent-encoded in the URL's user part


def auth(t, exe, cap, want):
    """A server that wants a password: right ones deliver every record, wrong ones are refused."""
    port = rc.free_port()
    server = rc.Receiver(t, "redis-auth", [lc.which("redis-server"), "--port", str(port), "--bind",
                                           lc.HOST, "--save", "", "--appendonly", "no", "--dir",
                                           t.tmp, "--daemonize", "no", "--requirepass", PASSWORD,
                                           "--user", "shipper", "on", ">pw-2", "~*", "&*",
                                           "+@all"], port)
    server.start()
    base = f"{lc.HOST}:{port}"
    encoded = PASSWORD.replace("@", "%40").replace(":", "%3A")
    for key, url in (("sd-auth-url", f"redis://:{encoded}@{base}/sd-auth-url"),
                     ("sd-auth-param", f"redis://{base}/sd-auth-param?password={encoded}"),
                     ("sd-auth-user", f"redis://shipper:pw-2@{base}/sd-auth-user")):
        r = subprocess.run([exe, "-r", cap, "-F", "json", "-o", url], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, check=False)
        lc.check(r.returncode == 0 and not r.stderr,
                 f"{key}: status {r.returncode}, stderr {r.stderr!r}")
        rc.compare(f"AUTH {key}", redis_cmd(port, "LRANGE", key, 0, -1, password=PASSWORD), want)
    for url, says in ((f"redis://:wrong-pw@{base}/k", "WRONGPASS"),
                      (f"redis://{base}/k?password=wrong-pw", "WRONGPASS"),
                      (f"redis://{base}/k", "NOAUTH")):
        r = subprocess.run([exe, "-r", cap, "-o", url], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, check=False)
        err = r.stderr.decode(errors="replace").splitlines()
        lc.log(f"{url}: status {r.returncode}, {err}")
        lc.check(r.returncode == 2, f"{url}: status {r.returncode}, expected 2")
        shown = url.replace("wrong-pw", "***")
        lc.check(len(err) == 1 and shown in err[0] and says in err[0] and
                 "wrong-pw" not in err[0], f"{url}: stderr {err}")
        lc.check(not r.stdout, f"{url}: records on stdout")
    lc.check(redis_cmd(port, "EXISTS", "k", password=PASSWORD) == 0,
             "a refused login wrote records")


def killed_mid_stream(t, exe):
    """kill -9 while records are on their way, in list and in xadd mode: a server that persists
    each command before it answers (appendonly, appendfsync always) is killed once a quarter of
    the records are in, while a capture of KILLED connections is still being fed at a steady
    pace (a few hundred connections every 50 ms: batches of many records in flight), and started
    again a second later (it reloads what it persisted). shakedown waits for it; of the records
    it had no answer for, those the server had already executed are found at the end of the key
    and not sent again, the rest are (transport_redis.c): every record exactly once, in order.
    (Before that check, a dozen records — what the server executed from its last read — arrived
    twice in most runs.)"""
    frames, times, cap = rc.capture_file(t, KILLED, "killed.pcap")
    want = rc.reference(exe, cap)
    port = rc.free_port()
    aof = t.path("aof")
    os.makedirs(aof)
    server = rc.Receiver(t, "redis-aof", [lc.which("redis-server"), "--port", str(port),
                                          "--bind", lc.HOST, "--save", "", "--appendonly", "yes",
                                          "--appendfsync", "always", "--dir", aof,
                                          "--daemonize", "no"], port)
    server.start()
    for key, query, length, entries in (
            ("sd-killed", "", "LLEN", lambda: redis_cmd(port, "LRANGE", "sd-killed", 0, -1)),
            ("sd-killed-lpush", "?mode=lpush", "LLEN",
             lambda: redis_cmd(port, "LRANGE", "sd-killed-lpush", 0, -1)[::-1]),
            ("sd-killed-stream", "?mode=xadd", "XLEN",
             lambda: [e[1][1] for e in redis_cmd(port, "XRANGE", "sd-killed-stream", "-", "+")])):
        status, _ = rc.killed_mid_stream(
            t, exe, f"redis://{lc.HOST}:{port}/{key}{query}", frames, times,
            lambda: redis_cmd(port, length, key) >= len(want) // 4, server)
        lc.check(status == 0, f"{key} killed mid-stream: exit status {status}")
        rc.compare(f"{key}: killed (SIGKILL) mid-stream and restarted", entries(), want)


def restart(t, exe, server, port, frames, times, want):
    """Kill the server between two parts of the capture; nothing lost, nothing twice."""
    before = []

    def gone():
        # Each of the first 150 connections closed (FIN, FIN, last ACK): its record was written.
        rc.wait_until(t, lambda: redis_cmd(port, "LLEN", "sd-restart") >= CONNECTIONS // 2, 10,
                      "the first half's records in Redis")
        time.sleep(0.2)
        before.extend(redis_cmd(port, "LRANGE", "sd-restart", 0, -1))
        lc.check(len(before) == CONNECTIONS // 2, f"{len(before)} records after the first "
                                                  f"half, expected {CONNECTIONS // 2}")
        server.stop()

    rc.outage(t, exe, f"redis://{lc.HOST}:{port}/sd-restart", frames, times,
              CONNECTIONS // 2 * 8, gone, server.start)
    after = redis_cmd(port, "LRANGE", "sd-restart", 0, -1)
    rc.compare("killed and restarted", before + after, want)
    lc.check(b"records_lost" not in after[-1], "restart: the summary counts lost records")


if __name__ == "__main__":
    sys.exit(main())
