#!/usr/bin/env python3
"""compare-tcptrace.py [TRACE ...]: shakedown's per-connection metrics (docs/metrics.md) next to
tcptrace's (`tcptrace -l -r -n`) and tshark's conversations (`tshark -q -z conv,tcp`), one table
per TCP connection, each row marked '*' where the two differ. A report, not a test: it always
exits 0; docs/metrics.md explains every difference it shows on the shared traces.

With no TRACE it reads every capture under ../shared/traces/zeek next to the repository.
SHAKEDOWN (environment) is the binary to run, build/shakedown by default; it runs with
--checksums keep, as tcptrace and tshark keep packets with bad checksums too.

Connections are paired by their two address:port ends. Where one tool has more connections on
the same ends than the other (shakedown ends a connection at its idle timeout, or at a RST and
a new SYN), the extra ones are listed alone.
"""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, tcptrace key, shakedown getter of (endpoint, its peer)): compared per direction, the
# direction being the sender's. tcptrace counts a duplicate ACK for the sender of the data it
# acknowledges; shakedown for the endpoint that sent the ACK: its peer's count goes in the row.
ROWS = [
    ("packets", "total packets", lambda e, peer: e["pkts"]),
    ("unique bytes", "unique bytes sent", lambda e, peer: e.get("payload_bytes")),
    ("missed bytes", "missed data", lambda e, peer: e.get("missed_bytes")),
    ("retransmitted pkts", "rexmt data pkts", lambda e, peer: e.get("retransmits")),
    ("hardware dups", "hardware dups", lambda e, peer: m(e, "duplicate_segments")),
    ("max segment", "max segm size", lambda e, peer: m(e, "max_segment")),
    ("window min", "min win adv", lambda e, peer: m(e, "window", "min")),
    ("window max", "max win adv", lambda e, peer: m(e, "window", "max")),
    ("throughput B/s", "throughput", lambda e, peer: m(e, "throughput_bytes_per_s")),
    ("duplicate acks", "duplicate acks", lambda e, peer: m(peer, "duplicate_acks")),
    ("RTT samples", "RTT samples", lambda e, peer: m(e, "rtt", "samples")),
    ("RTT min ms", "RTT min", lambda e, peer: ms(m(e, "rtt", "min_us"))),
    ("RTT avg ms", "RTT avg", lambda e, peer: ms(m(e, "rtt", "avg_us"))),
    ("RTT max ms", "RTT max", lambda e, peer: ms(m(e, "rtt", "max_us"))),
]


def m(e, *path):
    """A member of the endpoint's metrics, or None."""
    v = e.get("metrics")
    for k in path:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def ms(us):
    return None if us is None else round(us / 1000, 1)


def split_end(text):
    """'addr:port' (IPv6 addresses have colons of their own) -> (addr, port), the address in
    its canonical text (tcptrace writes IPv6 addresses with every zero)."""
    addr, port = text.rsplit(":", 1)
    return str(ipaddress.ip_address(addr)), int(port)


def tcptrace(path):
    """Each connection: {'a': (addr, port), 'b': ..., 'elapsed': s, 'ab': {key: text}, 'ba'}."""
    out = subprocess.run(["tcptrace", "-l", "-r", "-n", path], capture_output=True, text=True)
    conns, cur = [], None
    for line in out.stdout.splitlines():
        if re.match(r"TCP connection \d+:", line):
            cur = {"ab": {}, "ba": {}}
            conns.append(cur)
        elif cur is None:
            continue
        elif re.match(r"\thost \w+:", line):
            cur["b" if "a" in cur else "a"] = split_end(line.split()[-1])
        elif line.startswith("\telapsed time:"):
            h, mi, s = line.split()[-1].split(":")
            cur["elapsed"] = int(h) * 3600 + int(mi) * 60 + float(s)
        else:  # "     name:   value [unit]     name:   value [unit]"
            two = re.match(r"\s+([^:]+):\s+(\S+)(?: \S+)?\s+([^:]+):\s+(\S+)", line)
            if two:
                cur["ab"][two.group(1).strip()] = two.group(2)
                cur["ba"][two.group(3).strip()] = two.group(4)
    return conns


def tshark(path):
    """Each conversation: (end a, end b) -> (frames b->a, frames a->b, bytes text b->a, a->b,
    duration)."""
    if not shutil.which("tshark"):
        return {}
    out = subprocess.run(["tshark", "-q", "-z", "conv,tcp", "-r", path], capture_output=True,
                         text=True)
    convs = {}
    row = re.compile(r"(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \S+)\s+(\d+) (\d+ \S+)\s+\d+ \d+ \S+\s+"
                     r"\S+\s+(\S+)")
    for line in out.stdout.splitlines():
        r = row.match(line)
        if r:
            a, b = split_end(r.group(1)), split_end(r.group(2))
            convs.setdefault(frozenset((a, b)), []).append(
                (a, int(r.group(3)), int(r.group(5)), r.group(4), r.group(6), float(r.group(7))))
    return convs


def shakedown(binary, path):
    out = subprocess.run([binary, "-F", "json", "--checksums", "keep", "-r", path],
                         capture_output=True, text=True)
    recs = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    return [r for r in recs if r["type"] == "connection" and r["proto"] == "tcp"]


def ends(rec):
    return (rec["src_ip"], rec["src_port"]), (rec["dest_ip"], rec["dest_port"])


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def differs(label, ours, theirs):
    """Whether the two differ beyond what printing explains: tcptrace writes milliseconds with
    one decimal, leaves out "hardware dups" when there are none, says NA for what it cannot
    tell, and prints RTT figures of 0.0 where it has no sample."""
    if theirs is None and label == "hardware dups":
        theirs = "0"
    if theirs == "NA":
        return False
    if ours is None:
        return theirs not in (None, "0", "0.0")
    a, b = number(ours), number(theirs)
    if label.endswith(" ms") and isinstance(b, float):
        return abs(a - b) > 0.15
    return a != b


def show(label, ours, theirs):
    mark = "*" if differs(label, ours, theirs) else " "
    return f"{mark} {label:<20} {str(theirs):>14} {str(ours):>14}"


def compare_pair(tt, rec):
    a_is_orig = ends(rec)[0] == tt["a"]
    sides = (("ab", rec["orig" if a_is_orig else "resp"]), ("ba", rec["resp" if a_is_orig else
                                                                       "orig"]))
    print(f"  tcptrace {tt['a'][0]}:{tt['a'][1]} <-> {tt['b'][0]}:{tt['b'][1]}, "
          f"{tt.get('elapsed', 0):.6f} s;  shakedown {rec['uid']}, {rec['duration']:.6f} s, "
          f"{rec['conn_state']}, orig = tcptrace's {'a' if a_is_orig else 'b'}")
    print(f"    {'':<20} {'tcptrace a->b':>14} {'shakedown':>14}   "
          f"{'':<20} {'tcptrace b->a':>14} {'shakedown':>14}")
    for label, key, get in ROWS:
        cells = [show(label, get(ep, peer), tt[d].get(key)) for (d, ep), (_, peer) in
                 zip(sides, sides[::-1])]
        print("    " + "   ".join(cells))


def compare_tshark(conv, recs):
    """tshark's conversations on these ends against shakedown's connections, in order: frames
    per direction and duration (marked '*' where they differ), and the bytes, which are frame
    lengths in tshark (link header included) and IP lengths in shakedown."""
    for i, (a, f_ba, f_ab, b_ba, b_ab, dur) in enumerate(conv):
        rec = recs[i] if i < len(recs) else None
        if rec is None:
            print(f"  tshark only: {a[0]}:{a[1]}, {f_ab} + {f_ba} frames, {dur:.4f} s")
            continue
        o, r = (rec["orig"], rec["resp"]) if ends(rec)[0] == a else (rec["resp"], rec["orig"])
        same = (f_ab, f_ba) == (o["pkts"], r["pkts"]) and abs(dur - rec["duration"]) < 0.00006
        print(f"  {' ' if same else '*'} tshark {a[0]}:{a[1]} {f_ab} + {f_ba} frames, "
              f"{dur:.4f} s, bytes {b_ab} + {b_ba};  shakedown {o['pkts']} + {r['pkts']} "
              f"packets, {rec['duration']:.4f} s, IP bytes {o['bytes']} + {r['bytes']}")
    for rec in recs[len(conv):]:
        print(f"  shakedown only (tshark): {rec['uid']}")


def compare(binary, path):
    print(f"== {os.path.basename(path)}")
    tts, recs, convs = tcptrace(path), shakedown(binary, path), tshark(path)
    by_ends = {}
    for rec in sorted(recs, key=lambda x: x["ts"]):
        by_ends.setdefault(frozenset(ends(rec)), []).append(rec)
    for tt in tts:
        key = frozenset((tt["a"], tt["b"]))
        mine = by_ends.get(key, [])
        if mine:
            compare_pair(tt, mine.pop(0))
        else:
            print(f"  tcptrace only: {tt['a']} <-> {tt['b']}")
    for rest in by_ends.values():
        for rec in rest:
            print(f"  shakedown only: {rec['uid']} {ends(rec)}, {rec['duration']:.6f} s, "
                  f"{rec['conn_state']}")
    for key, conv in convs.items():
        compare_tshark(sorted(conv, key=lambda c: c[5]),
                       sorted((r for r in recs if frozenset(ends(r)) == key),
                              key=lambda r: r["ts"]))


def main():
    binary = os.environ.get("SHAKEDOWN", os.path.join(REPO, "build", "shakedown"))
    if not os.access(binary, os.X_OK) or not shutil.which("tcptrace"):
        print(f"compare-tcptrace: needs tcptrace and a built shakedown ({binary})",
              file=sys.stderr)
        return 0
    paths = sys.argv[1:]
    if not paths:
        d = os.path.join(REPO, "..", "shared", "traces", "zeek")
        paths = sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []
    for p in paths:
        compare(binary, p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
