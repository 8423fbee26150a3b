#!/usr/bin/env python3
"""anomaly_capture.py OUT.pcap: writes a small capture that makes shakedown report anomalies.

The committed samples are clean exchanges: they produce no anomaly record at all. This capture
exercises every shape of the anomaly output that docs/schema.md describes, so the schema tests
validate them too. Run shakedown on it with --syn-flood-threshold 2 --port-scan-threshold 2.

  A  IPv4, one connection with 12 (anomaly, direction) pairs: retransmission, zero_window,
     invalid_flags, segment_not_captured, out_of_order, ack_unseen_segment in both directions,
     more than the 8 a connection record lists (anomalies_unlisted); FIN close, then a late ACK
     (packet_during_time_wait, an anomaly of an already written connection).
  B  a SYN answered by a SYN/ACK that is never acknowledged (synack_unanswered, half_open).
  C  four unanswered SYNs to one host (syn_flood, syn_unanswered, one_sided).
  D  three SYNs from one host refused with RST (REJ) on three ports (port_scan).
  E  IPv6 on VLAN 100: reset by the originator, which then sends data (data_after_rst), then a
     new SYN on the same ports (port_reuse) that stays unanswered.
  F  data and a FIN the responder never acknowledges (data_unacked, fin_unacked).
  U  UDP flows (no anomalies), the last one 10 s after the start, so that the input's end does
     not hide the unanswered SYNs (--answer-grace, 1 s).

Every checksum is correct, so the default --checksums drop keeps every packet.
"""
import struct
import sys

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
BASE = 1704067200  # 2024-01-01T00:00:00Z, as in samples/


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(text):
    return bytes(int(part) for part in text.split("."))


def ip6(text):
    head, _, tail = text.partition("::")
    words = [int(w, 16) for w in head.split(":") if w]
    rest = [int(w, 16) for w in tail.split(":") if w]
    return struct.pack("!8H", *(words + [0] * (8 - len(words) - len(rest)) + rest))


def ipv4(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                         src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload, 0x0800


def ipv6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, src, dst) + payload, 0x86DD


def transport_checksum(src, dst, proto, segment):
    if len(src) == 4:
        pseudo = struct.pack("!4s4sBBH", src, dst, 0, proto, len(segment))
    else:
        pseudo = struct.pack("!16s16sIxxxB", src, dst, len(segment), proto)
    return checksum(pseudo + segment)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=65535):
    options = b"\x02\x04\x05\xb4\x01\x01\x04\x02" if flags & SYN else b""  # MSS 1460, SACK ok
    offset = (20 + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          offset << 4, flags, window, 0, 0) + options + payload
    csum = transport_checksum(src, dst, 6, segment)
    return segment[:16] + struct.pack("!H", csum) + segment[18:]


def udp(src, dst, sport, dport, payload):
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = transport_checksum(src, dst, 17, datagram) or 0xFFFF
    return datagram[:6] + struct.pack("!H", csum) + datagram[8:]


class Capture:
    def __init__(self):
        self.frames = []

    def add(self, t, src, dst, proto, segment, vlan=None):
        packet, ethertype = (ipv4 if len(src) == 4 else ipv6)(src, dst, proto, segment)
        link = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
        if vlan is not None:
            link += struct.pack("!HH", 0x8100, vlan)
        self.frames.append((t, link + struct.pack("!H", ethertype) + packet))

    def tcp(self, t, a, b, seq, ack, flags, payload=b"", window=65535, vlan=None):
        """A segment from endpoint a = (address, port) to endpoint b."""
        self.add(t, a[0], b[0], 6, tcp(a[0], b[0], a[1], b[1], seq, ack, flags, payload, window),
                 vlan)

    def udp(self, t, a, b, payload):
        self.add(t, a[0], b[0], 17, udp(a[0], b[0], a[1], b[1], payload))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, frame in sorted(self.frames, key=lambda item: item[0]):
                usec = round(t * 1e6)
                f.write(struct.pack("<IIII", BASE + usec // 1000000, usec % 1000000, len(frame),
                                    len(frame)))
                f.write(frame)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: anomaly_capture.py OUT.pcap")
    cap = Capture()
    data = b"0123456789"

    # A: many anomalies in one connection (c: client, s: server; sequence numbers from ISNs).
    c, s = (ip4("192.0.2.1"), 40000), (ip4("198.51.100.1"), 80)
    ci, si = 1000, 5000
    cap.tcp(0.000, c, s, ci, 0, SYN)
    cap.tcp(0.001, s, c, si, ci + 1, SYN | ACK)
    cap.tcp(0.002, c, s, ci + 1, si + 1, ACK)
    cap.tcp(0.010, c, s, ci + 1, si + 1, ACK | PSH, data)
    cap.tcp(0.011, s, c, si + 1, ci + 11, ACK)
    cap.tcp(0.012, c, s, ci + 1, si + 1, ACK | PSH, data)           # retransmission (orig)
    cap.tcp(0.013, s, c, si + 1, ci + 11, ACK | PSH, data)
    cap.tcp(0.014, s, c, si + 1, ci + 11, ACK | PSH, data)          # retransmission (resp)
    cap.tcp(0.015, c, s, ci + 11, si + 11, ACK, window=0)           # zero_window (orig)
    cap.tcp(0.016, s, c, si + 11, ci + 11, ACK, window=0)           # zero_window (resp)
    cap.tcp(0.017, c, s, ci + 11, si + 11, ACK)
    cap.tcp(0.018, s, c, si + 11, ci + 11, ACK)
    cap.tcp(0.019, c, s, ci + 11, 0, URG | PSH)                     # invalid_flags (orig)
    cap.tcp(0.020, s, c, si + 11, 0, URG | PSH)                     # invalid_flags (resp)
    cap.tcp(0.021, c, s, ci + 31, si + 11, ACK | PSH, data)         # segment_not_captured (orig)
    cap.tcp(0.022, c, s, ci + 11, si + 11, ACK | PSH, data)         # out_of_order (orig): 8 pairs
    cap.tcp(0.023, s, c, si + 11, ci + 41, ACK)                     # ack_unseen_segment (resp)
    cap.tcp(0.024, s, c, si + 31, ci + 41, ACK | PSH, data)         # segment_not_captured (resp)
    cap.tcp(0.025, c, s, ci + 41, si + 41, ACK)                     # ack_unseen_segment (orig)
    cap.tcp(0.026, s, c, si + 61, ci + 41, ACK | PSH, data)         # segment_not_captured (resp)
    cap.tcp(0.027, c, s, ci + 41, si + 71, ACK)                     # ack_unseen_segment (orig)
    cap.tcp(0.028, s, c, si + 51, ci + 41, ACK | PSH, data)         # out_of_order (resp)
    cap.tcp(0.030, c, s, ci + 41, si + 71, FIN | ACK)
    cap.tcp(0.031, s, c, si + 71, ci + 42, FIN | ACK)
    cap.tcp(0.032, c, s, ci + 42, si + 72, ACK)                     # closed by fin
    cap.tcp(0.040, c, s, ci + 42, si + 72, ACK)                     # packet_during_time_wait

    # B: the SYN/ACK is never acknowledged.
    c, s = (ip4("192.0.2.2"), 40001), (ip4("198.51.100.1"), 22)
    cap.tcp(0.100, c, s, 7000, 0, SYN)
    cap.tcp(0.101, s, c, 9000, 7001, SYN | ACK)

    # C: four unanswered SYNs to one host.
    s = (ip4("198.51.100.9"), 443)
    for i in range(4):
        cap.tcp(0.200 + i / 100, (ip4(f"203.0.113.{i + 1}"), 50000), s, 11000 * (i + 1), 0, SYN)

    # D: one host's SYNs refused on three ports.
    c = (ip4("203.0.113.50"), 51000)
    for i, port in enumerate((21, 23, 25)):
        s = (ip4("198.51.100.20"), port)
        cap.tcp(0.300 + i / 100, c, s, 20000 + i, 0, SYN)
        cap.tcp(0.301 + i / 100, s, c, 0, 20001 + i, RST | ACK)

    # E: IPv6 on VLAN 100: data after the originator's RST, then port reuse.
    c, s = (ip6("2001:db8::1"), 40002), (ip6("2001:db8::2"), 80)
    cap.tcp(0.500, c, s, 30000, 0, SYN, vlan=100)
    cap.tcp(0.501, s, c, 40000, 30001, SYN | ACK, vlan=100)
    cap.tcp(0.502, c, s, 30001, 40001, ACK, vlan=100)
    cap.tcp(0.503, c, s, 30001, 40001, ACK | PSH, data[:5], vlan=100)
    cap.tcp(0.504, s, c, 40001, 30006, ACK, vlan=100)
    cap.tcp(0.505, c, s, 30006, 0, RST, vlan=100)                     # closed by rst
    cap.tcp(0.600, c, s, 30001, 40001, ACK | PSH, data[:5], vlan=100)  # data_after_rst
    cap.tcp(0.700, c, s, 31000, 0, SYN, vlan=100)                     # port_reuse

    # F: data and FIN never acknowledged.
    c, s = (ip4("192.0.2.4"), 40003), (ip4("198.51.100.1"), 8080)
    cap.tcp(1.000, c, s, 50000, 0, SYN)
    cap.tcp(1.001, s, c, 60000, 50001, SYN | ACK)
    cap.tcp(1.002, c, s, 50001, 60001, ACK)
    cap.tcp(1.010, c, s, 50001, 60001, ACK | PSH, data)
    cap.tcp(1.020, c, s, 50011, 60001, FIN | ACK)

    # U: UDP, the last packet of the capture.
    cap.udp(2.000, (ip4("192.0.2.3"), 5353), (ip4("198.51.100.53"), 53), b"query")
    cap.udp(2.001, (ip4("198.51.100.53"), 53), (ip4("192.0.2.3"), 5353), b"answer")
    cap.udp(10.000, (ip4("192.0.2.3"), 5354), (ip4("198.51.100.53"), 53), b"query")

    cap.write(sys.argv[1])


if __name__ == "__main__":
    main()
