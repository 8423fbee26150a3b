"""pcapgen: writes a pcap (Ethernet, microsecond timestamps) of many complete TCP connections,
for the output tests of issue 5 that need a capture with many records (not a test itself).

Connection i: 10.(i >> 16 & 255).(i >> 8 & 255).(i & 255) port 40000 + i % 20000 to 192.0.2.1
port 80; three-way handshake, a request and a response, FIN from the client, FIN from the
server, last ACK: 8 frames, every checksum correct, 1 ms apart. shakedown reports each as SF.
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


def write(path, connections):
    """Writes the capture; returns the number of frames."""
    frames = 0
    server = bytes([192, 0, 2, 1])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
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
                data = _frame(*p)
                t += 1000  # 1 ms apart
                f.write(struct.pack("<IIII", BASE + t // 1000000, t % 1000000, len(data),
                                    len(data)))
                f.write(data)
                frames += 1
    return frames
