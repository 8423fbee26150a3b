#!/usr/bin/env python3
"""live_text_summary: the text summary of a live capture on lo names what libpcap's "received"
count is (issue 17, point 8: "capture 72 received" next to "read 36" on loopback made people ask).

shakedown -i lo -F text -o OUT --stats-interval 1 'tcp port Q', Q a closed port (held bound, not
listening): once it captures (its first stats line is in OUT), three connect() calls to Q, each a
SYN and the kernel's RST: 6 packets. Then SIGINT: exit status 0. Checked in OUT's summary:
  * "Packets      6 read": every packet of the three attempts, each once (libpcap drops the
    outgoing copy of a loopback packet);
  * the Capture line says how many libpcap received, with the explanation that on loopback each
    packet is counted twice: 12 = 2 x 6 (the kernel hands the capture socket each loopback packet
    as sent and as received, and counts both), none dropped.
A summary line too long for the output's width continues on lines indented to the label column
(13 blanks): those are joined back before matching.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_text_summary"
LABEL = " " * 13


def main():
    return lc.main(NAME, __doc__, run, 25)


def summary_lines(text):
    """The summary's lines (after the blank line), each continuation joined to its line."""
    lines = []
    for line in text.split("\n\n", 1)[-1].splitlines():
        if line.startswith(LABEL) and lines and not line[13:].startswith(" "):
            lines[-1] += " " + line[13:]
        else:
            lines.append(line)
    return lines


def run(t, exe):
    _, (closed,) = lc.bind_ports(t, listening=0, closed=1)
    q = lc.port(closed)
    out = t.path("out.txt")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "-F", "text", "-o", out, "--stats-interval", "1",
                               f"tcp port {q}"])

    def text():
        try:
            with open(out, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    lc.poll(lambda: " stats: " in text(), 10, "the first stats line", alive=sd)
    for _ in range(3):
        lc.refused(lc.HOST, q)
    lc.poll(lambda: text().count(f":{q}") >= 3, 10, "the three REJ rows", alive=sd)
    status = sd.stop()
    lc.check(status == 0, f"shakedown exited with status {status}; stderr:\n{sd.stderr()}")
    lines = summary_lines(text())
    packets = [ln for ln in lines if ln.startswith("Packets ")]
    capture = [ln for ln in lines if ln.startswith("Capture ")]
    lc.check(len(packets) == 1 and re.match(r"Packets +6 read ", packets[0]),
             f"expected 'Packets 6 read': {packets}\n{text()}")
    want = ("Capture      12 received (libpcap's count: on loopback each packet twice), "
            "0 dropped by the kernel, 0 by the interface")
    lc.check(capture == [want], f"expected {want!r}, got {capture}\n{text()}")
    lc.log(capture[0])


if __name__ == "__main__":
    sys.exit(main())
