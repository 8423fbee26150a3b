#!/usr/bin/env python3
"""live_sigint_records: a live capture on lo, stopped with SIGINT (issue 5, test 1).

shakedown -i lo --checksums keep -F json -o OUT --stats-interval 1 --interim 2
          --port-scan-threshold 3 'tcp port P or tcp port R or tcp port Q1 ... or tcp port Q5'
watches real connections made once it is capturing (a stats record is written):
  * completed ones to the traffic.py server on P: the client closes first, the server closes
    first, a client half-close, and a client abort with RST after the exchange (SO_LINGER 0);
  * refused ones to the closed port Q1, then one each to Q2..Q5: five distinct closed ports from
    one source, so with --port-scan-threshold 3 a port_scan anomaly must be written while
    shakedown still runs (OUT is read before SIGINT);
  * two left open on R: one from the start, so that after 2 s an interim record ("final": false)
    must appear for it before the stop, one opened just before the stop.
Then SIGINT. Checked: exit status 0, nothing on stderr but the banner; every connection exactly once as a final
record (completed: SF with close.how fin, RSTO/rst for the abort; refused: REJ/rst; open:
close.how shutdown, both endpoints ESTABLISHED); the interim record; anomaly records before the
summary; at least one stats record, each with capture.received >= packets and memory in use
(memory_used_bytes) below a tenth of the memory reserved; the summary with its
"capture" object and by_close.shutdown = 2; every line valid against the schema (--whole-run).

With --workers 2 (live_sigint_records_workers, issue 16) the same run goes through two capture
sockets in one PACKET_FANOUT group, each read by an analysis thread of its own: the kernel sends
each connection to one of them, so the checks above also say that SIGINT stops both, that each
open connection is reported once by the thread that had it, and that the port_scan count (five
failed targets, each connection hashed on its own) is kept across the threads.
"""

import argparse
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_sigint_records"

# What the traffic.py modes must look like in a final record.
EXPECT = {
    traffic.CLIENT_FIRST: ("SF", "fin", "orig"),
    traffic.SERVER_FIRST: ("SF", "fin", "resp"),
    traffic.CLIENT_HALF_CLOSE: ("SF", "fin", "orig"),
    traffic.CLIENT_RST: ("RSTO", "rst", "orig"),
}


class OpenConn:
    """A connection left open: client and accepted server socket, data exchanged both ways."""

    def __init__(self, test, listener):
        self.client = socket.create_connection((lc.HOST, lc.port(listener)), timeout=5)
        test.defer(self.client.close)
        listener.settimeout(5)
        self.server, _ = listener.accept()
        test.defer(self.server.close)
        self.client.sendall(b"hello")
        lc.check(self.server.recv(100) == b"hello", "open connection: request lost")
        self.server.sendall(b"world")
        lc.check(self.client.recv(100) == b"world", "open connection: reply lost")
        self.key = lc.tuple_of(self.client)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    lc.preflight(NAME)
    with lc.Test(NAME, deadline=50) as t:
        run(t, args.shakedown, args.workers)
    return t.status


def run(t, exe, workers):
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    (holder,), closed = lc.bind_ports(t, listening=1, closed=5)
    R = lc.port(holder)
    Q = [lc.port(s) for s in closed]
    out = t.path("out.json")
    bpf = " or ".join(f"tcp port {p}" for p in [P, R] + Q)
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-F", "json", "-o", out,
                               "--stats-interval", "1", "--interim", "2",
                               "--port-scan-threshold", "3", "--workers", str(workers), bpf])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    lc.log(f"capturing: server {P}, open-connection port {R}, closed ports {Q}")

    long_lived = OpenConn(t, holder)
    lc.log(f"left open: {long_lived.key}")

    # Completed and refused connections (sequential: each is done when _client returns).
    server.start()
    t.defer(server.stop)
    plan = []
    modes = [traffic.CLIENT_FIRST] * 3 + [traffic.SERVER_FIRST] * 3 + \
            [traffic.CLIENT_HALF_CLOSE, traffic.CLIENT_RST]
    for i, m in enumerate(modes):
        c = traffic.Conn(i, m, 100 + 10 * i, 200 + 20 * i)
        traffic._client(c, P, Q[0])
        plan.append(c)
    refused = [(lc.refused(lc.HOST, Q[0]), Q[0]) for _ in range(2)]
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    lc.check(server.handled == len(modes), f"server handled {server.handled} of {len(modes)}")

    # Four more closed ports: five distinct refused targets from 127.0.0.1, threshold 3.
    scan = [(lc.refused(lc.HOST, q), q) for q in Q[1:]]
    refused += scan
    scan_rec = lc.poll(lambda: [r for r in lc.by_type(lc.read_lines(out), "anomaly")
                                if r["name"] == "port_scan"], 5,
                       "a port_scan anomaly record while shakedown runs", alive=sd)
    lc.check(sd.running(), "shakedown exited before the port_scan check")
    lc.log(f"port_scan written while running: {scan_rec[0]['detail']}")

    expected = {}  # 4-tuple -> (conn_state, close.how, initiator, label)
    for c in plan:
        expected[(tuple(c.local), tuple(c.remote))] = EXPECT[c.mode] + (c.mode_name,)
    for local, q in refused:
        expected[(tuple(local), (lc.HOST, q))] = ("REJ", "rst", "resp", "refused")

    def all_closed_reported():
        got = {lc.key_of(r) for r in lc.finals(lc.read_lines(out))}
        return set(expected) <= got

    lc.poll(all_closed_reported, 10, "the final records of every closed connection", alive=sd)

    # The long-lived one: an interim record once it is 2 s old (capture time follows the clock).
    def interim_of_long_lived():
        return [r for r in lc.read_lines(out) if r.get("type") == "connection"
                and r.get("final") is False and lc.key_of(r) == long_lived.key]

    lc.poll(interim_of_long_lived, 8, f"an interim record of {long_lived.key}", alive=sd)

    short_lived = OpenConn(t, holder)
    lc.log(f"left open: {short_lived.key}")
    opened = {long_lived.key, short_lived.key}
    # Stop only once shakedown has read the second one's packets: a stats record counting
    # both as open (a packet still in the kernel's buffer at the stop is not analysed).
    seen_stats = len(lc.by_type(lc.read_lines(out), "stats"))
    lc.poll(lambda: [s for s in lc.by_type(lc.read_lines(out), "stats")[seen_stats:]
                     if s["connections_open"] >= 2], 5,
            "a stats record with both open connections", alive=sd)

    lines_before_stop = len(lc.read_lines(out))
    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"shakedown exited with status {status} after SIGINT, expected 0; "
                          f"stderr:\n{err}")
    lc.check_banner_only(err, "lo")

    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    bad = []
    summary = recs[-1]
    if summary.get("type") != "summary":
        bad.append("the last record is not the summary")

    # Every connection exactly once as final, nothing else on our ports.
    finals = {}
    for r in lc.finals(recs):
        finals.setdefault(lc.key_of(r), []).append(r)
    for k, rs in finals.items():
        if len(rs) != 1:
            bad.append(f"{k}: {len(rs)} final records")
        if k not in expected and k not in opened:
            bad.append(f"{k}: a final record of a connection the test never made")
    for k, (state, how, initiator, label) in expected.items():
        rs = finals.get(k)
        if not rs:
            bad.append(f"{k} ({label}): no final record")
            continue
        r = rs[0]
        got = (r["conn_state"], r["close"].get("how"), r["close"].get("initiator"))
        if got != (state, how, initiator):
            bad.append(f"{k} ({label}): conn_state/close.how/initiator {got}, expected "
                       f"{(state, how, initiator)}")
    for k in opened:
        rs = finals.get(k)
        if not rs:
            bad.append(f"{k} (left open): no final record")
            continue
        r = rs[0]
        got = (r["close"].get("how"), r["orig"]["state"], r["resp"]["state"])
        if got != ("shutdown", "ESTABLISHED", "ESTABLISHED"):
            bad.append(f"{k} (left open): close.how/orig.state/resp.state {got}, expected "
                       f"('shutdown', 'ESTABLISHED', 'ESTABLISHED')")
        if recs.index(r) < lines_before_stop:
            bad.append(f"{k} (left open): reported before the stop")

    # Interim records: the long-lived connection's came before the stop and before its final.
    for i, r in enumerate(recs):
        if r.get("type") == "connection" and r.get("final") is False:
            if "close" in r:
                bad.append(f"interim record {lc.key_of(r)} has a close object")
            if lc.key_of(r) in finals and i > recs.index(finals[lc.key_of(r)][0]):
                bad.append(f"interim record {lc.key_of(r)} after its final record")
    if not any(lc.key_of(r) == long_lived.key for r in recs[:lines_before_stop]
               if r.get("type") == "connection" and r.get("final") is False):
        bad.append("no interim record of the long-lived connection before the stop")

    # Anomaly records: before the summary, port_scan among them.
    anomalies = [i for i, r in enumerate(recs) if r.get("type") == "anomaly"]
    if anomalies and max(anomalies) > len(recs) - 2:
        bad.append("an anomaly record after the summary")
    if not any(recs[i]["name"] == "port_scan" for i in anomalies):
        bad.append("no port_scan record in the output")

    # Stats and capture counters.
    stats = lc.by_type(recs, "stats")
    if not stats:
        bad.append("no stats record")
    for s in stats:
        cap = s.get("capture")
        if cap is None:
            bad.append(f"stats record at {s['ts']} without a capture object")
        elif cap["received"] < s["packets"]:
            bad.append(f"stats record at {s['ts']}: capture.received {cap['received']} < "
                       f"packets {s['packets']}")
        # Memory (issue 18.8): the default --max-flows 262144 reserves its pools at the start
        # (docs/schema.md: 1048 bytes per flow, plus the hash indexes and host counters: more
        # than 262144 × 1048 bytes, and under 2 KiB per flow); in use are the two hash indexes
        # (about 2 MB) and one entry per connection handed out — a dozen connections here, so
        # far below a tenth of it. Both are reported, named apart.
        reserved, used = s.get("memory_reserved_bytes"), s.get("memory_used_bytes")
        # Each worker has a flow table of --max-flows (262144) entries of 1048 bytes.
        if (reserved is None or not workers * 262144 * 1048 < reserved < workers * 262144 * 2048
                or used is None
                or not 0 < used < reserved // 10):
            bad.append(f"stats record at {s['ts']}: memory_reserved_bytes {reserved}, "
                       f"memory_used_bytes {used}: want the pools of 262144 flows reserved "
                       f"and in use below a tenth")

    if "capture" not in summary:
        bad.append("the summary has no capture object")
    elif summary["capture"]["received"] < summary["packets"]:
        bad.append(f"summary capture.received {summary['capture']['received']} < packets "
                   f"{summary['packets']}")
    by_close = summary.get("connections", {}).get("by_close", {})
    if by_close.get("shutdown") != 2:
        bad.append(f"summary by_close.shutdown is {by_close.get('shutdown')}, expected 2")
    if summary.get("connections", {}).get("total") != len(expected) + 2:
        bad.append(f"summary connections.total {summary.get('connections', {}).get('total')}, "
                   f"expected {len(expected) + 2}")

    lc.log(f"{len(recs)} records: {len(finals)} connections, {len(stats)} stats, "
           f"{len(anomalies)} anomalies; by_close {by_close}")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
