#!/usr/bin/env python3
"""live_status_line: what a user sees on a terminal while shakedown captures (issue 17, point 4).

shakedown -i lo --stats-interval 1 'tcp port Q' runs with standard output and standard error on
one pseudo-terminal (python3 pty), as in an interactive shell: records come out as the text
table, the status as a line rewritten in place. Q is a closed port (held bound, not listening),
so each connect() to it is a SYN and the kernel's RST: two packets and one REJ row.

Checked, from the bytes the terminal received:
  * the first line is the banner "listening on lo, link-type EN10MB (Ethernet), snapshot length
    256 bytes", written before any traffic (it is there while shakedown waits);
  * a status "shakedown: N packets, M connections open, D dropped" is drawn, each time after
    "\\r ESC [K" (back to the start of the line, erase it), and never followed by anything but
    another erase: it is erased before each row, before the summary and at the exit, so no
    status text is ever left mixed with other output;
  * it updates: after three refused connections and the next stats interval, a status with at
    least 6 packets (2 per connection) is drawn, later than one with fewer;
  * the rows of the three connections are on the terminal (REJ, port Q).
The same run with standard error a file (live_loopback_auto and the others) must have only the
banner there: no in-place line when standard error is not a terminal.

Then a second run stopped by SIGINT and SIGTERM at once (the second handled exits at once, status
128 + its number, without the orderly stop): the status on the terminal is erased all the same — the last bytes after the
last status are the erase sequence.
"""

import argparse
import os
import pty
import re
import subprocess
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_status_line"
ERASE = b"\r\x1b[K"
STATUS = re.compile(rb"shakedown: (\d+) packets, (\d+) connections open, (\d+) dropped")


class Terminal:
    """A pseudo-terminal whose every byte is collected by a thread (so a full buffer never
    blocks the writer)."""

    def __init__(self, test):
        self.master, self.slave = pty.openpty()
        self.data = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        test.defer(self.close)

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every slave descriptor is closed
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self):
        with self.lock:
            return self.data

    def close(self):
        for fd in (self.slave, self.master):
            try:
                os.close(fd)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    lc.preflight(NAME)
    with lc.Test(NAME, deadline=40) as t:
        run(t, args.shakedown)
        run_double_sigint(t, args.shakedown)
    return t.status


def statuses(data):
    """(packets, position) of every status drawn."""
    return [(int(m.group(1)), m.start()) for m in STATUS.finditer(data)]


def run(t, exe):
    _, (closed,) = lc.bind_ports(t, listening=0, closed=1)
    q = lc.port(closed)
    term = Terminal(t)
    p = subprocess.Popen([exe, "-i", "lo", "--stats-interval", "1", f"tcp port {q}"],
                         stdin=subprocess.DEVNULL, stdout=term.slave, stderr=term.slave,
                         start_new_session=True)
    os.close(term.slave)  # the child holds it now; the reader sees EIO once the child is gone
    term.slave = -1

    def stop():
        if p.poll() is None:
            p.kill()
            p.wait(5)

    t.defer(stop)
    # The terminal turns "\n" into "\r\n" (ONLCR).
    banner = lc.banner("lo").encode().replace(b"\n", b"\r\n")
    lc.poll(lambda: term.text().startswith(banner) and statuses(term.text()), 5,
            "the banner, then a first status", interval=0.05)
    first = statuses(term.text())[0]
    lc.log(f"banner and a first status ({first[0]} packets) seen")
    for _ in range(3):
        lc.refused(lc.HOST, q)

    lc.poll(lambda: any(n >= 6 and pos > first[1] for n, pos in statuses(term.text())), 5,
            "a status counting the 6 packets of the three refused connections")
    if p.poll() is None:
        p.send_signal(2)  # SIGINT: an orderly stop, with the summary
    status = p.wait(10)
    term.reader.join(5)
    data = term.text()
    lc.log(f"exit status {status}; {len(data)} bytes on the terminal, "
           f"{len(statuses(data))} statuses drawn")

    bad = []
    if status != 0:
        bad.append(f"exit status {status} after SIGINT, expected 0")
    if not data.startswith(banner):
        bad.append(f"the terminal does not start with the banner: {data[:200]!r}")
    drawn = statuses(data)
    counts = [n for n, _ in drawn]
    if len(set(counts)) < 2 or counts != sorted(counts):
        bad.append(f"the status did not update with the traffic: packets {counts}")
    for m in STATUS.finditer(data):
        before = data[max(0, m.start() - len(ERASE)):m.start()]
        after = data[m.end():m.end() + len(ERASE)]
        if before != ERASE:
            bad.append(f"a status not drawn over an erased line: ...{data[:m.end()][-80:]!r}")
        if after != ERASE:
            bad.append(f"a status followed by other output without being erased first: "
                       f"{data[m.start():m.end() + 80]!r}")
    rows = [line for line in data.split(b"\r\n") if b"REJ" in line and str(q).encode() in line]
    if len(rows) != 3:
        bad.append(f"{len(rows)} REJ rows for port {q} on the terminal, expected 3")
    if bad:
        lc.log(f"terminal output: {data!r}")
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad[:10]))


def run_double_sigint(t, exe):
    term = Terminal(t)
    p = subprocess.Popen([exe, "-i", "lo", "--stats-interval", "0.2", "tcp port 9"],
                         stdin=subprocess.DEVNULL, stdout=term.slave, stderr=term.slave,
                         start_new_session=True)
    os.close(term.slave)
    term.slave = -1
    t.defer(lambda: p.poll() is None and (p.kill(), p.wait(5)))
    lc.poll(lambda: statuses(term.text()), 5, "a first status", interval=0.05)
    # Two stop signals at once: SIGINT and SIGTERM (two SIGINTs pending at once would merge into
    # one). Both are pending before either is handled; the second handled exits at once.
    os.kill(p.pid, 2)
    os.kill(p.pid, 15)
    status = p.wait(10)
    term.reader.join(5)
    data = term.text()
    last = list(STATUS.finditer(data))[-1]
    tail = data[last.end():]
    lc.log(f"SIGINT and SIGTERM: exit status {status}; after the last status: {tail[:40]!r}")
    if status not in (130, 143):
        raise lc.Failure(f"exit status {status} after SIGINT and SIGTERM at once, expected 128 + "
                         f"the signal handled second (130 or 143)")
    if not tail.startswith(ERASE):
        raise lc.Failure(f"the status was left on the terminal: {data[-160:]!r}")


if __name__ == "__main__":
    sys.exit(main())
