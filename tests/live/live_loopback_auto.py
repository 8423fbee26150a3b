#!/usr/bin/env python3
"""live_loopback_auto: `shakedown -i lo` with the default --checksums (auto) on real loopback
traffic (issue 13: the first thing every user tries).

Linux hands a capture on lo every TCP segment the host sends with its checksum left to the
(absent) card: the field holds the pseudo-header's partial sum. shakedown -i lo -F json -o OUT
--stats-interval 1 'tcp port P or tcp port Q' (no --checksums option: the default) watches, once
it is capturing (a stats record is written):
  * completed connections to the traffic.py server on P, three closed by the client first and
    three by the server first;
  * two connections refused by the closed port Q (the kernel's RST carries a full checksum).
Checked, while shakedown still runs: every one of them has its final record as soon as it has
ended — SF with close.how fin for the completed ones, REJ with close.how rst for the refused
ones — with the client (the side that called connect) as the originator. Then SIGINT: exit
status 0, nothing on stderr but the banner; the summary drops nothing for a checksum
(checksum_dropped 0, no TCP checksum bad, no source switched) and counts the host's segments as
offloaded (so this test does exercise offload: without auto they would all be dropped); every
line valid (--whole-run).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_loopback_auto"


def main():
    return lc.main(NAME, __doc__, run, 40)


def run(t, exe):
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    _, (closed,) = lc.bind_ports(t, listening=0, closed=1)
    Q = lc.port(closed)
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "-F", "json", "-o", out, "--stats-interval", "1",
                               f"tcp port {P} or tcp port {Q}"])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    lc.log(f"capturing: server {P}, closed port {Q}")

    server.start()
    t.defer(server.stop)
    expected = {}  # 4-tuple, client first -> (conn_state, close.how, label)
    modes = [traffic.CLIENT_FIRST] * 3 + [traffic.SERVER_FIRST] * 3
    for i, m in enumerate(modes):
        c = traffic.Conn(i, m, 100 + 10 * i, 2000 + 20 * i)
        traffic._client(c, P, Q)
        expected[(tuple(c.local), tuple(c.remote))] = ("SF", "fin", c.mode_name)
    for _ in range(2):
        expected[(tuple(lc.refused(lc.HOST, Q)), (lc.HOST, Q))] = ("REJ", "rst", "refused")
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")

    # As each ends: the final records arrive while shakedown runs, not at the stop. Keyed by
    # originator first, so a record with the server as originator is not found here.
    def all_reported():
        got = {lc.key_of(r) for r in lc.finals(lc.read_lines(out))}
        return set(expected) <= got

    lc.poll(all_reported, 10, "the final records of every connection, client as originator",
            alive=sd)

    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"shakedown exited with status {status} after SIGINT; stderr:\n{err}")
    lc.check_banner_only(err, "lo")
    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)

    bad = []
    finals = {}
    for r in lc.finals(recs):
        finals.setdefault(lc.key_of(r), []).append(r)
    for k, (state, how, label) in expected.items():
        rs = finals.get(k, [])
        if len(rs) != 1:
            bad.append(f"{k} ({label}): {len(rs)} final records with the client as originator")
            continue
        got = (rs[0]["conn_state"], rs[0]["close"].get("how"))
        if got != (state, how):
            bad.append(f"{k} ({label}): conn_state/close.how {got}, expected {(state, how)}")
    for k in finals:
        if k not in expected:
            bad.append(f"{k}: a record the test did not expect (server as originator?)")

    summary = recs[-1]
    tcp = summary.get("checksums", {}).get("tcp", {})
    if summary.get("checksum_dropped") != 0:
        bad.append(f"checksum_dropped {summary.get('checksum_dropped')}, expected 0")
    if tcp.get("bad") != 0:
        bad.append(f"checksums.tcp.bad {tcp.get('bad')}, expected 0")
    # Every segment but the kernel's own RSTs (and TIME_WAIT ACKs) is sent offloaded: at least
    # the client's SYN, ACK, request and FIN of each of the six completed connections.
    if tcp.get("offloaded", 0) < 4 * 6:
        bad.append(f"checksums.tcp.offloaded {tcp.get('offloaded')}: expected the host's "
                   f"segments offloaded (at least 24)")
    if summary.get("checksum_offload_sources") != []:
        bad.append(f"checksum_offload_sources {summary.get('checksum_offload_sources')}")
    lc.log(f"summary checksums: {summary.get('checksums')}")
    if bad:
        raise lc.Failure("\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
