#!/usr/bin/env python3
"""make-seeds.py: regenerates the seed corpora under fuzz/corpus/ from captures.

The captures are the committed samples (samples/*.pcap, samples/*.pcapng) and the anomaly-rich
capture tests/schema/anomaly_capture.py writes (the samples are all clean exchanges). Seeds:

  fuzz_capture   each capture file as it is;
  fuzz_dissect   each distinct frame as [link selector, wire byte 0, frame bytes];
  fuzz_pipeline  each capture as one packet sequence: the 2-byte configuration, then per frame
                 the 7-byte chunk header (link selector, wire byte, flags with the time unit, time
                 delta, length) and the frame (format: fuzz_pipeline.c, fuzz/README.md); and two
                 TCP exchanges no sample has, simultaneous open and simultaneous close, made from
                 clean-ipv4.pcap's frames (their TCP checksums are not redone: the seeds turn
                 checksum verification off).

Seed files are named by the SHA-1 of their content, as libFuzzer names what it adds. Existing
seeds in the three directories are replaced.

Usage: fuzz/make-seeds.py [--out DIR] [CAPTURE...]   (DIR instead of fuzz/corpus, e.g. to seed a
local run from other captures without touching the committed corpus)
"""
import glob
import gzip
import hashlib
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGETS = ("fuzz_capture", "fuzz_dissect", "fuzz_pipeline")

# fuzz.h fuzz_link(): selector byte -> DLT. Keep in step.
LINKS = [0, 1, 12, 101, 108, 228, 229, 113, 276]
TIME_START_NS = 1704067200 * 10**9  # fuzz_pipeline.c TIME_START_NS
UNITS = [1000, 10**6, 10**9, 3600 * 10**9]  # flags bits 0-1
# max flows 8, checksums drop; host capacity 8, syn-flood and port-scan thresholds 2.
PIPELINE_CONFIG = bytes([0x07, 0x07 | 1 << 3 | 1 << 5])


def read_pcap(data):
    """(linktype, [(ts_ns, frame, wirelen)]) of a pcap file."""
    magic = data[:4]
    formats = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
               b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}
    endian, scale = formats[magic]
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    packets, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[at:at + 16])
        at += 16
        packets.append((sec * 10**9 + frac * scale, data[at:at + caplen], wirelen))
        at += caplen
    return linktype, packets


def read_pcapng(data):
    """(linktype of the first interface, [(ts_ns, frame, wirelen)]) of a pcapng file."""
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    ifaces, packets, at = [], [], 0
    while at + 12 <= len(data):
        btype, blen = struct.unpack(endian + "II", data[at:at + 8])
        body = data[at + 8:at + blen - 4]
        if btype == 1:  # interface description: link type, snaplen, options (if_tsresol = 9)
            linktype = struct.unpack(endian + "H", body[:2])[0]
            resol, opt = 10**-6, 8
            while opt + 4 <= len(body):
                code, olen = struct.unpack(endian + "HH", body[opt:opt + 4])
                if code == 0:
                    break
                if code == 9:
                    v = body[opt + 4]
                    resol = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
                opt += 4 + (olen + 3) // 4 * 4
            ifaces.append((linktype, resol))
        elif btype == 6:  # enhanced packet
            iface, hi, lo, caplen, wirelen = struct.unpack(endian + "IIIII", body[:20])
            ts_ns = round(((hi << 32) | lo) * ifaces[iface][1] * 10**9)
            packets.append((ts_ns, body[20:20 + caplen], wirelen))
        at += blen
    return ifaces[0][0], packets


def read_capture(path):
    with open(path, "rb") as f:
        data = f.read()
    return (read_pcapng if data[:4] == b"\x0a\x0d\x0d\x0a" else read_pcap)(data), data


def wire_byte(caplen, wirelen):
    """fuzz_wirelen()'s encoding of wirelen, as close as it can say."""
    if wirelen <= caplen:
        return 0 if wirelen == caplen else 0x80 | min(caplen - wirelen, 0x7F)
    return min((wirelen - caplen + 15) // 16, 0x7F)


def time_step(delta_ns):
    """(flags unit, int16 delta) closest to delta_ns, exact where a unit divides it."""
    for unit, size in enumerate(UNITS):
        if delta_ns % size == 0 and -32768 <= delta_ns // size <= 32767:
            return unit, delta_ns // size
    for unit, size in enumerate(UNITS):
        if -32768 <= round(delta_ns / size) <= 32767:
            return unit, round(delta_ns / size)
    return 3, 32767 if delta_ns > 0 else -32768


def pipeline_seed(linktype, packets):
    out, now = bytearray(PIPELINE_CONFIG), TIME_START_NS
    sel = LINKS.index(linktype)
    for ts_ns, frame, wirelen in packets:
        unit, delta = time_step(ts_ns - now)
        now += delta * UNITS[unit]
        frame = frame[:0xFFFF]
        out += struct.pack("<BBBhH", sel, wire_byte(len(frame), wirelen), unit, delta, len(frame))
        out += frame
    return bytes(out)


def tcp_frame(template, flags, seq, ack):
    """template (Ethernet + IPv4 without options + TCP) with new flags, seq and ack."""
    f = bytearray(template)
    f[38:46] = struct.pack("!II", seq, ack)
    f[47] = flags
    return bytes(f)


def scenario_seeds(path):
    """Pipeline seeds for simultaneous open and simultaneous close, from a standard exchange."""
    (linktype, packets), _ = read_capture(path)
    client, server = packets[2][1], packets[4][1]  # a pure ACK each way, no payload
    c, s = 1000000, 2000000  # samples.h ISNs
    FIN, SYN, ACK = 0x01, 0x02, 0x10
    simultaneous_open = [
        tcp_frame(client, SYN, c, 0), tcp_frame(server, SYN, s, 0),
        tcp_frame(client, SYN | ACK, c, s + 1), tcp_frame(server, SYN | ACK, s, c + 1),
        tcp_frame(client, ACK, c + 1, s + 1), tcp_frame(client, FIN | ACK, c + 1, s + 1),
        tcp_frame(server, ACK, s + 1, c + 2), tcp_frame(server, FIN | ACK, s + 1, c + 2),
        tcp_frame(client, ACK, c + 2, s + 2)]
    c_end, s_end = c + 121, s + 1001  # after the exchange's data
    simultaneous_close = [f for _, f, _ in packets[:7]] + [
        tcp_frame(client, FIN | ACK, c_end, s_end), tcp_frame(server, FIN | ACK, s_end, c_end),
        tcp_frame(client, ACK, c_end + 1, s_end + 1), tcp_frame(server, ACK, s_end + 1, c_end + 1)]
    start = packets[0][0]
    for frames in (simultaneous_open, simultaneous_close):
        seq = [(start + i * 10**7, f, len(f)) for i, f in enumerate(frames)]
        seed = pipeline_seed(linktype, seq)
        yield bytes([seed[0] | 2 << 4]) + seed[1:]  # checksums off


def read_capture_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_seed(out, target, content):
    name = hashlib.sha1(content).hexdigest()
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(content)


def main():
    captures = sys.argv[1:]
    out = os.path.join(HERE, "corpus")
    if captures[:1] == ["--out"] and len(captures) >= 2:
        out, captures = captures[1], captures[2:]
    tmp = tempfile.TemporaryDirectory()
    if not captures:
        captures = sorted(glob.glob(os.path.join(ROOT, "samples", "*.pcap")) +
                          glob.glob(os.path.join(ROOT, "samples", "*.pcapng")))
        anomalies = os.path.join(tmp.name, "anomalies.pcap")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "schema", "anomaly_capture.py"),
                        anomalies], check=True)
        captures.append(anomalies)
        scenarios = list(scenario_seeds(os.path.join(ROOT, "samples", "clean-ipv4.pcap")))
    else:
        scenarios = []
    for target in TARGETS:
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            os.remove(os.path.join(d, name))
    frames = set()
    for path in captures:
        (linktype, packets), raw = read_capture(path)
        write_seed(out, "fuzz_capture", raw)
        write_seed(out, "fuzz_pipeline", pipeline_seed(linktype, packets))
        for _, frame, wirelen in packets:
            frames.add(bytes([LINKS.index(linktype), wire_byte(len(frame), wirelen)]) + frame)
    # Compressed captures (capture/compressed.c): the same bytes as gzip, xz and zstd streams.
    clean = read_capture_bytes(os.path.join(ROOT, "samples", "clean-ipv4.pcap"))
    write_seed(out, "fuzz_capture", gzip.compress(clean, mtime=0))
    write_seed(out, "fuzz_capture", lzma.compress(clean))
    if shutil.which("zstd"):
        write_seed(out, "fuzz_capture", subprocess.run(["zstd", "-q", "-c"], input=clean,
                                                       capture_output=True, check=True).stdout)
    for seed in sorted(frames):
        write_seed(out, "fuzz_dissect", seed)
    for seed in scenarios:
        write_seed(out, "fuzz_pipeline", seed)
    for target in TARGETS:
        d = os.path.join(out, target)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, n)) for n in files)
        print(f"make-seeds: {target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
