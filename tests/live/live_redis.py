#!/usr/bin/env python3
"""live_redis: -o redis://HOST:PORT/KEY against a real redis-server (issue 14).

A redis-server of its own on a loopback port (no persistence, its files in the test's
directory), and a capture of 300 clean connections plus anomalies of every severity
(receivers.py). Each record must arrive exactly once, in order, byte for byte the line
`-F json` writes (without its newline):
  * mode=list (the default): LRANGE KEY 0 -1;
  * mode=xadd: XRANGE KEY - + (field "record"); with maxlen=10 the stream is trimmed (~: whole
    nodes, so it keeps at least 10 and fewer than all) and ends with the last records;
  * mode=publish: a subscriber on KEY receives every record;
  * the server killed and restarted mid-run: shakedown reads the capture from a pipe; after the
    first half its records are all in the list (batches are flushed when the writer goes idle),
    the server is stopped (SIGTERM) and the list saved, the second half is fed while it is
    down, it is started again: shakedown waits and reconnects (stderr says so), exits 0, and
    the saved list plus the new one are the reference, none lost (no records_lost), none twice;
  * a server that is not there at start: exit status 2 and one line naming the target;
  * AUTH: a second redis-server with requirepass and an ACL user of its own: the records arrive
    with the password in the URL (redis://:PASSWORD@..., percent-encoded), as ?password=, and
    as an ACL user (redis://USER:PASSWORD@...); a wrong password, or none, is exit status 2 at
    start with one line naming the target, the password itself never shown.
"""

import argparse
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402

NAME = "live_redis"
CONNECTIONS = 300


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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    lc.preflight(NAME, root=False, tools=("redis-server",))
    with lc.Test(NAME, deadline=40) as t:
        run(t, args.shakedown)
    return t.status


def run(t, exe):
    frames, times = rc.capture(CONNECTIONS)
    cap = t.path("capture.pcap")
    with open(cap, "wb") as f:
        f.write(rc.pcap_bytes(frames, times))
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

    shakedown(f"{url}/sd-stream?mode=xadd")
    entries = redis_cmd(port, "XRANGE", "sd-stream", "-", "+")
    lc.check(all(e[1][0] == b"record" for e in entries), "xadd: a field is not named record")
    rc.compare("mode=xadd", [e[1][1] for e in entries], want)

    shakedown(f"{url}/sd-capped?mode=xadd&maxlen=10")
    kept = [e[1][1] for e in redis_cmd(port, "XRANGE", "sd-capped", "-", "+")]
    lc.check(10 <= len(kept) < len(want), f"xadd maxlen=10: {len(kept)} entries kept of "
                                          f"{len(want)}")
    rc.compare("mode=xadd&maxlen=10 (the last ones)", kept, want[-len(kept):])

    sub = Resp(port)
    t.defer(sub.close)
    sub.call("SUBSCRIBE", "sd-channel")
    shakedown(f"{url}/sd-channel?mode=publish")
    got = []
    while len(got) < len(want):
        msg = sub.reply()
        lc.check(msg[0] == b"message", f"publish: unexpected {msg!r}")
        got.append(msg[2])
    rc.compare("mode=publish", got, want)

    restart(t, exe, server, port, frames, times, want)

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


def restart(t, exe, server, port, frames, times, want):
    """Kill the server between two parts of the capture; nothing lost, nothing twice."""
    half = CONNECTIONS // 2 * 8  # frames of the first 150 connections
    sd = rc.Feeder(t, exe, ["-F", "json", "-o", f"redis://{lc.HOST}:{port}/sd-restart"])
    sd.feed(rc.pcap_bytes(frames[:half], times[:half], header=False))
    # Each of those connections closed (FIN, FIN, last ACK), so its record was written.
    rc.wait_until(t, lambda: redis_cmd(port, "LLEN", "sd-restart") >= CONNECTIONS // 2, 10,
                  "the first half's records in Redis")
    time.sleep(0.2)
    before = redis_cmd(port, "LRANGE", "sd-restart", 0, -1)
    lc.check(len(before) == CONNECTIONS // 2, f"{len(before)} records after the first half, "
                                              f"expected {CONNECTIONS // 2}")
    server.stop()
    sd.feed(rc.pcap_bytes(frames[half:], times[half:], header=False))
    time.sleep(0.5)  # shakedown finds the server gone and retries with backoff meanwhile
    lc.check(sd.proc.poll() is None, f"shakedown exited while the server was down: "
                                     f"{sd.stderr()}")
    server.start()
    status = sd.finish()
    err = sd.stderr()
    lc.log(f"restart: status {status}, stderr: {err.strip()}")
    lc.check(status == 0, f"restart: exit status {status}")
    lc.check("waiting for it" in err and "connected again" in err,
             f"restart: stderr does not say the server was lost and found again: {err!r}")
    after = redis_cmd(port, "LRANGE", "sd-restart", 0, -1)
    rc.compare("killed and restarted", before + after, want)
    lc.check(b"records_lost" not in after[-1], "restart: the summary counts lost records")


if __name__ == "__main__":
    sys.exit(main())
