"""pcapgen: writes pcaps (Ethernet, microsecond timestamps) for the live tests (not a test itself).

write(): many complete TCP connections, for the output tests of issue 5 that need a capture with
many records. Connection i: 10.(i >> 16 & 255).(i >> 8 & 255).(i & 255) port 40000 + i % 20000
to 192.0.2.1 port 80; three-way handshake, a request and a response, FIN from the client, FIN
from the server, last ACK: 8 frames, every checksum correct, 1 ms apart. shakedown reports each
as SF.

bad_checksums(): data segments of one source whose TCP checksum is wrong — neither right nor the
pseudo-header partial sum an offloading host leaves (issue 13: what --checksums auto judges per
source).

syn_flood(): SYNs from sources of their own to one host, nothing answered (issue 13: syn_flood).
"""

import struct

FIN, SYN, ACK, PSH = 0x01, 0x02, 0x10, 0x08
BASE = 1704067200  # 2024-01-01T00:00:00Z


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    opts = b"\x02\x04\x05\xb4" if flags & SYN else b""
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (20 + len(opts)) // 4 << 4, flags, 65535, 0, 0) + opts + payload
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", _checksum(pseudo + seg)) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + seg


def _header(f):
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def _record(f, t_us, data):
    f.write(struct.pack("<IIII", BASE + t_us // 1000000, t_us % 1000000, len(data), len(data)))
    f.write(data)


def _partial_sum(src, dst, seglen):
    """The folded sum of the TCP pseudo-header alone: what an offloading host leaves."""
    total = sum(struct.unpack("!6H", src + dst + struct.pack("!BBH", 0, 6, seglen)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _corrupt(frame, src, dst):
    """frame (_frame's, checksums right) with a TCP checksum that is wrong and not the partial
    sum either: the right one plus one."""
    at = 14 + 20 + 16
    right = struct.unpack("!H", frame[at:at + 2])[0]
    bad = (right + 1) & 0xFFFF
    partial = _partial_sum(src, dst, len(frame) - 34)
    assert bad not in (partial, ~partial & 0xFFFF, 0)
    return frame[:at] + struct.pack("!H", bad) + frame[at + 2:]


def bad_checksums(path, src, dst, flows, per_flow, step_us=1000):
    """flows × per_flow frames, step_us apart: flow k is src:41000+k to dst:9, per_flow data
    segments of 10 bytes in sequence, each with a wrong TCP checksum (_corrupt); IPv4 header
    checksums right. src, dst: dotted quads. Returns the number of frames."""
    s, d = bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split("."))
    frames = 0
    with open(path, "wb") as f:
        _header(f)
        for k in range(flows):
            for j in range(per_flow):
                data = _frame(s, d, 41000 + k, 9, 1000 + 10 * j, 5000, PSH | ACK, b"x" * 10)
                frames += 1
                _record(f, frames * step_us, _corrupt(data, s, d))
    return frames


def syn_flood(path, n, dst, port=80, step_us=1000):
    """n SYNs step_us apart, SYN i from 10.(100 + i // 62500).(i // 250 % 250 + 1).(i % 250 + 1)
    port 40000 to dst:port (a dotted quad), every checksum right, nothing answered."""
    d = bytes(int(x) for x in dst.split("."))
    with open(path, "wb") as f:
        _header(f)
        for i in range(n):
            src = bytes([10, 100 + i // 62500, i // 250 % 250 + 1, i % 250 + 1])
            _record(f, (i + 1) * step_us, _frame(src, d, 40000, port, 1000 + i, 0, SYN))
    return n


def write(path, connections):
    """Writes the capture; returns the number of frames."""
    frames = 0
    server = bytes([192, 0, 2, 1])
    with open(path, "wb") as f:
        _header(f)
        t = 0
        for i in range(connections):
            client = bytes([10, i >> 16 & 255, i >> 8 & 255, i & 255])
            sp, dp = 40000 + i % 20000, 80
            req, resp = b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nhello"
            c, s = 1000, 5000
            pkts = [
                (client, server, sp, dp, c, 0, SYN, b""),
                (server, client, dp, sp, s, c + 1, SYN | ACK, b""),
                (client, server, sp, dp, c + 1, s + 1, ACK, b""),
                (client, server, sp, dp, c + 1, s + 1, PSH | ACK, req),
                (server, client, dp, sp, s + 1, c + 1 + len(req), PSH | ACK, resp),
                (client, server, sp, dp, c + 1 + len(req), s + 1 + len(resp), FIN | ACK, b""),
                (server, client, dp, sp, s + 1 + len(resp), c + 2 + len(req), FIN | ACK, b""),
                (client, server, sp, dp, c + 2 + len(req), s + 2 + len(resp), ACK, b""),
            ]
            for p in pkts:
                t += 1000  # 1 ms apart
                _record(f, t, _frame(*p))
                frames += 1
    return frames
