#!/usr/bin/env python3
"""live_syslog_stalled: a TCP syslog receiver that accepts and then never reads cannot keep a
live run from ending (issue 14: live, "shakedown never stops capturing because a receiver is
down"; and a stop signal ends the run).

A listener on 127.0.0.1 with a 2 KiB receive buffer accepts shakedown's connection and reads
nothing; its window closes, the sending socket's buffer fills, and send() on it would wait for
good. shakedown captures real connections on lo into two outputs:

  shakedown -i lo --checksums keep -F json -o OUT.json -o syslog+tcp://127.0.0.1:S 'tcp port P'

CONNECTIONS connections of 100 bytes each way (a ~1 KiB record each: more than the two sockets'
buffers hold, which grow to a few MiB on loopback) are made; OUT.json, the file output, gets
every final record meanwhile (the outputs have a writer each: one stalled receiver holds up no
other). Then SIGINT. Required:
  * shakedown exits within STOP_WITHIN seconds of the SIGINT: live, a TCP syslog send that makes
    no progress for a second gives up (output/transport_syslog.c), the receiver is said to be
    lost on stderr, and shakedown connects again — this receiver accepts, and the new
    connection's buffers take the next records, until they too are full;
  * OUT.json holds a final record of every connection made, the summary last, nothing lost;
  * the syslog output's written + dropped + failed equals OUT.json's written (every record was
    handed to both and is accounted for);
  * the syslog output's written is exactly what the receiver got: once shakedown has exited,
    the test reads every connection it accepted to its end and counts the whole octet-counted
    frames (but the summary's own, which its counts cannot include). Every connection given
    up on ends in a reset: the messages its socket still held unacknowledged (SIOCOUTQ) are
    counted dropped, not written, and the kernel must not deliver them later. What the
    receiver's kernel had acknowledged is in its buffer and is read here, as is what the last
    connection (closed normally at the end) still held: the kernel delivers it once the
    receiver reads. The send buffers were full when shakedown gave up, so records were
    dropped: exit status 3.
Before the send timeout, the run hung in send() until a second SIGINT; before the SIOCOUTQ
accounting, a given-up connection was closed, not reset, and the records its buffer held were
counted written though, with a receiver that never reads, they are lost.
"""

import os
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_syslog_stalled"
CONNECTIONS = 5000
STOP_WITHIN = 25.0


def main():
    return lc.main(NAME, __doc__, run, 100)


def stalled_receiver(t):
    """A listener whose accepted connections are kept open and never read. Returns its port and
    the list of accepted sockets (filled as they come)."""
    (listener,), _ = lc.bind_ports(t)
    port = listener.getsockname()[1]
    listener.close()  # bound again below, with the small buffer set before listen()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # accepted sockets inherit it
    s.bind((lc.HOST, port))
    s.listen(8)
    t.defer(s.close)
    held = []

    def accept():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            held.append(c)  # never read, closed at cleanup

    threading.Thread(target=accept, daemon=True).start()
    t.defer(lambda: [c.close() for c in held])
    return s.getsockname()[1], held


def whole_frames(sock):
    """Reads sock to its end (EOF, or the reset of a connection given up on: what its kernel had
    acknowledged is read first) and returns the MSGIDs of the whole "LEN SP MSG" frames it
    carried (RFC 5424: the sixth field), and whether it ended in a reset."""
    sock.settimeout(5)
    data, reset = [], False
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            reset = True
            break
        if not chunk:
            break
        data.append(chunk)
    stream, msgids = b"".join(data), []
    while True:
        m = re.match(rb"([1-9][0-9]*) ", stream)
        if not m or len(stream) < m.end() + int(m.group(1)):
            lc.check(len(stream) < 16 or m, f"not an octet-counted frame: {stream[:40]!r}")
            return msgids, reset
        msgids.append(stream[m.end():m.end() + int(m.group(1))].split(b" ", 6)[5])
        stream = stream[m.end() + int(m.group(1)):]


def run(t, exe):
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    S, held = stalled_receiver(t)
    out = t.path("out.json")
    # -B 65536: 64 MiB of kernel buffer, so that the burst's 50,000 packets are not dropped while
    # the suite's other tests (ASan, a 5M-packet exhaustion run) take the CPU: every connection
    # must be seen closing for its final record.
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-B", "65536", "-F", "json",
                               "-o", out, "-o", f"syslog+tcp://127.0.0.1:{S}", f"tcp port {P}"])
    lc.poll(lambda: lc.banner("lo") in sd.stderr(), 10, "the banner", alive=sd)
    server.start()
    t.defer(server.stop)
    made = set()
    for i in range(CONNECTIONS):
        c = traffic.Conn(i, traffic.CLIENT_FIRST, 100, 100)
        traffic._client(c, P, 1)
        made.add((tuple(c.local), tuple(c.remote)))
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    # 10 s here when idle; under the suite's load (the ASan build, three other tests on two
    # cores) the 50,000 packets take longer to be read and analysed: the bound is for a hang.
    lc.poll(lambda: len(lc.finals(lc.read_lines(out))) >= CONNECTIONS, 45,
            f"the file output's {CONNECTIONS} final records", alive=sd)
    t0 = time.monotonic()
    status = sd.stop(timeout=STOP_WITHIN, sig=signal.SIGINT)
    took = time.monotonic() - t0
    err = sd.stderr()
    recs = lc.strict_lines(out)
    summary = recs[-1]
    lc.log(f"exit status {status} {took:.1f} s after SIGINT; outputs {summary.get('outputs')}; "
           f"stderr {err.splitlines()}")
    lc.check(status in (0, 3), f"exit status {status}; stderr:\n{err}")
    lc.check("Resource temporarily unavailable" in err,
             f"stderr does not say the stalled receiver was given up on:\n{err}")
    keys = {lc.key_of(r) for r in lc.finals(recs)}
    lc.check(made <= keys, f"{len(made - keys)} connections made have no final record in the "
             f"file output")
    _, to_syslog = rc.file_and_receiver(summary)
    lc.check(status == 3 and to_syslog["dropped"] > 0,
             f"exit status {status} with {to_syslog}: the records a given-up connection held "
             f"were not counted dropped")
    time.sleep(0.3)  # the last connections accepted
    ends = [whole_frames(c) for c in list(held)]
    msgids = [x for got, _ in ends for x in got]
    received = sum(1 for x in msgids if x != b"summary")
    resets = [reset for _, reset in ends]
    lc.log(f"{len(held)} connections accepted, {len(msgids)} whole messages received, "
           f"{len(msgids) - received} of them the summary; reset: {resets}")
    lc.check(len(resets) >= 2 and all(resets[:-1]) and not resets[-1],
             f"every connection given up on must be reset (what it held is dropped, the kernel "
             f"must not deliver it later), the last one closed: {resets}")
    lc.check(received == to_syslog["written"],
             f"the receiver got {received} messages, the syslog output counts {to_syslog}")


if __name__ == "__main__":
    sys.exit(main())
