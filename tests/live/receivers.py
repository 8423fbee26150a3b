"""receivers: what the transport tests (live_syslog.py, live_redis.py) share — not a test itself.

  * capture(): a pcap of many clean connections (pcapgen.py) followed by a few that raise
    anomalies of every severity (low: packet_during_time_wait, info: retransmission, medium:
    syn_unanswered, high: data_after_rst), as a list of frames so a test can feed it in parts;
    capture_file() writes it to a file;
  * reference(): the records of `shakedown -F json` for it, the summary's run_seconds and
    input name blanked (what differs from run to run);
  * Receiver: a real server process (redis-server, rsyslogd) on a loopback port of its own,
    started in the foreground, waited for until it accepts connections, stopped at cleanup
    whatever happens (SIGTERM, then SIGKILL);
  * Feeder: shakedown reading a capture from a pipe (-r -), so a test decides when each part
    of it arrives; outage(): through it, a receiver that goes away mid-run and comes back;
    stream(): the capture fed at a steady pace; killed_mid_stream(): through it, a receiver
    killed (SIGKILL) while records are on their way, and started again.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import pcapgen  # noqa: E402

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def _connection(i):
    """pcapgen's connection i as its 8 frames (client 10.x.y.z:40000+i to 192.0.2.1:80)."""
    client = bytes([10, i >> 16 & 255, i >> 8 & 255, i & 255])
    server = bytes([192, 0, 2, 1])
    sp, dp = 40000 + i % 20000, 80
    req, resp = b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nhello"
    c, s = 1000, 5000
    F, S, A, P = pcapgen.FIN, pcapgen.SYN, pcapgen.ACK, pcapgen.PSH
    return [
        (client, server, sp, dp, c, 0, S, b""),
        (server, client, dp, sp, s, c + 1, S | A, b""),
        (client, server, sp, dp, c + 1, s + 1, A, b""),
        (client, server, sp, dp, c + 1, s + 1, P | A, req),
        (server, client, dp, sp, s + 1, c + 1 + len(req), P | A, resp),
        (client, server, sp, dp, c + 1 + len(req), s + 1 + len(resp), F | A, b""),
        (server, client, dp, sp, s + 1 + len(resp), c + 2 + len(req), F | A, b""),
        (client, server, sp, dp, c + 2 + len(req), s + 2 + len(resp), A, b""),
    ]


def _anomalous():
    """Frames raising one anomaly of each severity (analyzer/anomaly.c's catalog); their
    records come in this order."""
    cl, sv = bytes([10, 99, 0, 1]), bytes([192, 0, 2, 1])
    S, A, P, R = pcapgen.SYN, pcapgen.ACK, pcapgen.PSH, 0x04
    data = b"x" * 10
    # zero_window (low): the server's window is 0 in its ACK of the request (window 0 marked
    # by a ninth item, which capture() turns into the window field).
    c = _connection(65000)
    out = c[:4] + [c[4][:7] + (b"", 0)] + c[4:]
    # retransmission (info): the same 10 bytes twice.
    out += [(cl, sv, 30001, 80, 100, 0, S, b""), (sv, cl, 80, 30001, 900, 101, S | A, b""),
            (cl, sv, 30001, 80, 101, 901, A, b""), (cl, sv, 30001, 80, 101, 901, P | A, data),
            (cl, sv, 30001, 80, 101, 901, P | A, data), (sv, cl, 80, 30001, 901, 111, A, b"")]
    # data_after_rst (high): the client resets, then sends data.
    out += [(cl, sv, 30002, 80, 100, 0, S, b""), (sv, cl, 80, 30002, 900, 101, S | A, b""),
            (cl, sv, 30002, 80, 101, 901, A, b""), (cl, sv, 30002, 80, 101, 901, R | A, b""),
            (cl, sv, 30002, 80, 101, 901, P | A, data)]
    # syn_unanswered (medium): a SYN nobody answers, long before the end (answer grace: 1 s).
    out += [(cl, sv, 30003, 81, 100, 0, S, b"")]
    return out


def _frame(*p):
    """pcapgen's frame; a ninth item in p is the TCP window to write instead of 65535."""
    if len(p) == 8:
        return pcapgen._frame(*p)
    data = bytearray(pcapgen._frame(*p[:8]))
    data[14 + 20 + 14:14 + 20 + 16] = struct.pack("!H", p[8])
    data[14 + 20 + 16:14 + 20 + 18] = b"\0\0"  # the checksum again, over the new window
    src, dst, seg = bytes(data[26:30]), bytes(data[30:34]), bytes(data[34:])
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(seg))
    data[50:52] = struct.pack("!H", pcapgen._checksum(pseudo + seg))
    return bytes(data)


def capture(connections):
    """(frames, timestamps): every frame of the test capture, 1 ms apart, then 3 s of a last
    clean connection so the unanswered SYN is judged."""
    frames = [pcapgen._frame(*p) for i in range(connections) for p in _connection(i)]
    frames += [_frame(*p) for p in _anomalous()]
    tail = [pcapgen._frame(*p) for p in _connection(connections)]
    times = [1000 * (n + 1) for n in range(len(frames))]
    times += [times[-1] + 3000000 + 1000 * n for n in range(len(tail))]
    return frames + tail, times


def capture_file(test, connections, name="capture.pcap"):
    """capture(connections) written as a pcap in the test's directory: (frames, timestamps,
    its path)."""
    frames, times = capture(connections)
    path = test.path(name)
    with open(path, "wb") as f:
        f.write(pcap_bytes(frames, times))
    return frames, times, path


def pcap_bytes(frames, times, header=True):
    out = [PCAP_HEADER] if header else []
    for data, t in zip(frames, times):
        out.append(struct.pack("<IIII", pcapgen.BASE + t // 1000000, t % 1000000, len(data),
                               len(data)) + data)
    return b"".join(out)


RUN_SECONDS = re.compile(rb'"run_seconds":[0-9.e+-]+')
INPUT_FILE = re.compile(rb'"file":"[^"]*"')
OUTPUT_TARGET = re.compile(rb'"target":"[^"]*"')


def normalise(line):
    """A record line (bytes, no newline) with the summary's run_seconds, input file name and
    output targets blanked (a capture read from a pipe is "-"; the reference writes to "-"): the
    outputs' counts (written, dropped, failed) must still agree."""
    line = RUN_SECONDS.sub(b'"run_seconds":0', line)
    return OUTPUT_TARGET.sub(b'"target":""', INPUT_FILE.sub(b'"file":""', line))


def reference(exe, path):
    """The lines `shakedown -r path -F json` writes, normalised, without their newlines."""
    r = subprocess.run([exe, "-r", path, "-F", "json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, check=False)
    lc.check(r.returncode == 0, f"reference run: status {r.returncode}: {r.stderr!r}")
    return [normalise(x) for x in r.stdout.split(b"\n")[:-1]]


def compare(tag, got, want):
    """Same records, same order, each once; Failure naming the first difference."""
    got = [normalise(x) for x in got]
    if got == want:
        lc.log(f"{tag}: {len(got)} records, identical to -F json")
        return
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            raise lc.Failure(f"{tag}: record {i} differs:\n  got  {g[:300]!r}\n  want {w[:300]!r}")
    raise lc.Failure(f"{tag}: {len(got)} records, expected {len(want)} "
                     f"(first extra: {(got[len(want):] or want[len(got):])[0][:200]!r})")


def free_port():
    """A loopback TCP and UDP port nobody uses now, outside the ephemeral range."""
    for p in lc._candidates():
        t, u = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind((lc.HOST, p))
            u.bind((lc.HOST, p))
            return p
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise lc.Failure("no free port in 20000-40000")


def closed_port(test):
    """A port held bound but not listening: connections to it are refused."""
    _, closed = lc.bind_ports(test, listening=0, closed=1)
    return lc.port(closed[0])


def accepts(port, timeout=0.2):
    try:
        with socket.create_connection((lc.HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


class Receiver:
    """A server process in the foreground, its output to a log file in the test's directory."""

    def __init__(self, test, name, argv, port):
        self.test, self.name, self.argv, self.port = test, name, argv, port
        self.proc = None
        self.starts = 0
        test.defer(self.stop)

    def start(self, timeout=10):
        self.starts += 1
        log = open(self.test.path(f"{self.name}-{self.starts}.log"), "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        lc.poll(lambda: self.proc.poll() is not None or accepts(self.port), timeout,
                f"{self.name} to accept connections on port {self.port}")
        lc.check(self.proc.poll() is None, f"{self.name} exited with status "
                                           f"{self.proc.returncode}: {self.log()}")

    def log(self):
        with open(self.test.path(f"{self.name}-{self.starts}.log"), "rb") as f:
            return f.read().decode(errors="replace")[-2000:]

    def kill(self):
        """SIGKILL: the server dies at once, in the middle of whatever it was doing (a crash, the
        OOM killer); what it had not persisted is gone."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)

    def freeze(self):
        """SIGSTOP: the server stops reading (hung); its host still receives and acknowledges
        what fits in the socket's receive buffer."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def stop(self, timeout=10):
        """SIGTERM (the server finishes what it has received), then SIGKILL."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class Feeder:
    """shakedown -r - with the capture written to its standard input in parts."""

    def __init__(self, test, exe, args):
        self.errpath = test.path("feeder.err")
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([exe, "-r", "-"] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     start_new_session=True)
        test.defer(self.kill)
        self.proc.stdin.write(PCAP_HEADER)

    def feed(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def finish(self, timeout=20):
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise lc.Failure(f"shakedown did not finish within {timeout} s of the capture's "
                             f"end; stderr:\n{self.stderr()}") from None

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if not self.err.closed:
            self.err.close()


def stream(feeder, frames, times, per_chunk=8, pause=0.004):
    """Feeds frames to feeder from a thread of its own, per_chunk frames (one connection of the
    capture) every `pause` seconds, so that records keep coming; returns the thread (started).
    A write that blocks (shakedown waiting for its receiver) holds the stream up, nothing else."""
    def run():
        for i in range(0, len(frames), per_chunk):
            feeder.feed(pcap_bytes(frames[i:i + per_chunk], times[i:i + per_chunk],
                                   header=False))
            time.sleep(pause)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def outage(test, exe, target, frames, times, half, gone, back):
    """`shakedown -F json -o TARGET` reading the capture from a pipe through a receiver's outage:
    the first `half` frames, then gone() (it waits for their records, then stops the receiver),
    the rest while the receiver is away (shakedown must wait for it, not exit), back() (the
    receiver is started again), the end of the input. Requires exit status 0 and stderr saying
    the receiver was lost ("waiting for it") and is back ("connected again"); returns stderr."""
    sd = Feeder(test, exe, ["-F", "json", "-o", target])
    sd.feed(pcap_bytes(frames[:half], times[:half], header=False))
    gone()
    sd.feed(pcap_bytes(frames[half:], times[half:], header=False))
    time.sleep(0.5)  # shakedown finds the receiver gone and tries again with backoff meanwhile
    lc.check(sd.proc.poll() is None, f"{target}: shakedown exited while the receiver was "
                                     f"away: {sd.stderr()}")
    back()
    status, err = _finished(sd, target, "away and back")
    lc.check(status == 0, f"{target} away and back: exit status {status}")
    return err


def killed_mid_stream(test, exe, target, frames, times, quarter_in, receiver, frozen=0.0):
    """`shakedown -F json -o TARGET` reading the capture from a pipe, fed at a steady pace (2000
    frames every 50 ms: many records on their way at any moment); once quarter_in() says a
    quarter of the records have arrived, the receiver is killed (SIGKILL) while the feeding
    goes on — if `frozen`, after hanging (SIGSTOP) that many seconds first — and started again
    a second later. Requires stderr saying the receiver was lost and is back; returns (exit
    status, stderr)."""
    sd = Feeder(test, exe, ["-F", "json", "-o", target])
    feeding = stream(sd, frames, times, per_chunk=2000, pause=0.05)
    wait_until(test, quarter_in, 10, f"{target}: a quarter of the records")
    if frozen:
        receiver.freeze()
        lc.check(feeding.is_alive(), f"{target}: the capture was all fed before the hang")
        time.sleep(frozen)
        receiver.kill()
    else:
        receiver.kill()
        lc.check(feeding.is_alive(), f"{target}: the capture was all fed before the kill")
    time.sleep(1)
    receiver.start()
    feeding.join(20)
    return _finished(sd, target, "killed mid-stream")


def _finished(sd, target, tag):
    """The end of the input: shakedown's exit status and stderr, which must say the receiver was
    lost and is back."""
    status = sd.finish()
    err = sd.stderr()
    lc.log(f"{target} {tag}: status {status}, stderr: {err.strip()}")
    lc.check("waiting for it" in err and "connected again" in err,
             f"{target}: stderr does not say the receiver was lost and is back: {err!r}")
    return status, err


def file_and_receiver(summary):
    """The summary's two outputs, a file and then a receiver, checked: the file lost nothing,
    and the receiver's written + dropped + failed is every record the file got (each record was
    handed to both). Returns (file's, receiver's)."""
    lc.check(summary.get("type") == "summary", f"the last line is not the summary: {summary}")
    outputs = summary["outputs"]
    lc.check(len(outputs) == 2, f"two outputs expected: {outputs}")
    to_file, to_receiver = outputs
    lc.check(to_file["dropped"] == 0 and to_file["failed"] == 0,
             f"the file output lost records: {to_file}")
    handed = to_receiver["written"] + to_receiver["dropped"] + to_receiver["failed"]
    lc.check(handed == to_file["written"], f"the receiver's output accounts for {handed} "
                                           f"records, the file output wrote {to_file['written']}: "
                                           f"{outputs}")
    return to_file, to_receiver


def wait_until(test, pred, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise lc.Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
