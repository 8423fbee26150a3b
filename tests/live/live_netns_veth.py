#!/usr/bin/env python3
"""live_netns_veth: a live capture on a non-loopback interface (issue 5, test 8).

A network namespace and a veth pair (iproute2): VA in this namespace with 10.213.X.1/30, VB in
the new namespace with 10.213.X.2/30. The traffic.py server listens on 10.213.X.1:P, port Q
there is closed; the clients run inside the namespace (ip netns exec ... python3), so every
packet crosses the veth pair and is captured on VA with its Ethernet header:
  shakedown -i VA --checksums keep -F json -o OUT --stats-interval 0.25 'tcp port P or tcp port Q'
Checked after SIGTERM (the same orderly stop as SIGINT; exit status 0): every connection
exactly once with the state its mode gives (SF/fin either side first, RSTO/rst, REJ/rst), no
retransmits or missed bytes, link type EN10MB, every packet read analysed, the capture object,
and every line valid. The namespace and the veth pair are deleted at the end, also on failure,
and that they are gone is checked.
"""

import json
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_netns_veth"

EXPECT = {
    "client_first": ("SF", "fin", "orig", "TIME_WAIT", "CLOSED"),
    "server_first": ("SF", "fin", "resp", "CLOSED", "TIME_WAIT"),
    "client_half_close": ("SF", "fin", "orig", "TIME_WAIT", "CLOSED"),
    "client_rst": ("RSTO", "rst", "orig", "CLOSED", "CLOSED"),
    "refused": ("REJ", "rst", "resp", "CLOSED", "CLOSED"),
}

CLIENT = r'''
import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import traffic
traffic.HOST = sys.argv[2]
port, closed = int(sys.argv[3]), int(sys.argv[4])
modes = [traffic.CLIENT_FIRST] * 3 + [traffic.SERVER_FIRST] * 3 + [traffic.CLIENT_HALF_CLOSE,
         traffic.CLIENT_RST, traffic.REFUSED, traffic.REFUSED]
done = []
for i, m in enumerate(modes):
    c = traffic.Conn(i, m, 200 + 50 * i, 300 + 70 * i)
    traffic._client(c, port, closed)
    done.append({"mode": c.mode_name, "local": list(c.local), "remote": list(c.remote),
                 "req": c.req_len, "resp": c.resp_len})
print(json.dumps(done))
'''


def main():
    return lc.main(NAME, __doc__, run, 40, tools=("ip",))


def run(t, exe):
    veth = lc.Veth(t)
    traffic.HOST = veth.a  # the server and the closed port on VA's address
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    _, closed = lc.bind_ports(t, listening=0, closed=1, host=veth.a)
    Q = lc.port(closed[0])
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", veth.va, "--checksums", "keep", "-F", "json", "-o", out,
                               "--stats-interval", "0.25", f"tcp port {P} or tcp port {Q}"])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    server.start()
    t.defer(server.stop)
    r = subprocess.run([lc.which("ip"), "netns", "exec", veth.ns, sys.executable, "-c", CLIENT,
                        HERE, veth.a, str(P), str(Q)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, check=False)
    if r.returncode != 0:
        raise lc.Failure(f"clients in {veth.ns} failed:\n{r.stderr.decode(errors='replace')}")
    made = json.loads(r.stdout)
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    expected = {((c["local"][0], c["local"][1]), (c["remote"][0], c["remote"][1])): c
                for c in made}
    lc.poll(lambda: set(expected) <= {lc.key_of(x) for x in lc.finals(lc.read_lines(out))}, 10,
            f"the records of all {len(made)} connections", alive=sd)
    status = sd.stop(sig=signal.SIGTERM)  # SIGTERM: the same orderly stop as SIGINT
    err = sd.stderr()
    lc.check(status == 0, f"exit status {status} after SIGTERM; stderr:\n{err}")
    lc.check_banner_only(err, veth.va)

    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    bad = []
    seen = {}
    for x in lc.finals(recs):
        seen.setdefault(lc.key_of(x), []).append(x)
    for k, c in expected.items():
        rs = seen.get(k, [])
        if len(rs) != 1:
            bad.append(f"{k} ({c['mode']}): {len(rs)} final records")
            continue
        x = rs[0]
        got = (x["conn_state"], x["close"].get("how"), x["close"].get("initiator"),
               x["orig"]["state"], x["resp"]["state"])
        if got != EXPECT[c["mode"]]:
            bad.append(f"{k} ({c['mode']}): conn_state/how/initiator/orig/resp state {got}, "
                       f"expected {EXPECT[c['mode']]}")
        if c["mode"] != "refused":
            pay = (x["orig"]["payload_bytes"], x["resp"]["payload_bytes"])
            if pay != (c["req"], c["resp"]):
                bad.append(f"{k} ({c['mode']}): payload {pay}, expected {(c['req'], c['resp'])}")
        for side in ("orig", "resp"):
            for f in ("retransmits", "missed_bytes"):
                if x[side][f]:
                    bad.append(f"{k}: {side}.{f} {x[side][f]}")
    for k in seen.keys() - expected.keys():
        bad.append(f"{k}: a record of a connection the test never made")
    summary = recs[-1]
    link = summary["inputs"][0].get("link_type")
    if link != "EN10MB":
        bad.append(f"link_type {link}, expected EN10MB")
    if summary["analysed"] != summary["packets"] or summary["packets"] == 0:
        bad.append(f"summary: {summary['analysed']} of {summary['packets']} packets analysed")
    if "capture" not in summary or summary["capture"]["received"] < summary["packets"]:
        bad.append(f"summary capture {summary.get('capture')} for {summary['packets']} packets")
    lc.log(f"{len(made)} connections over {veth.va}: {summary['packets']} packets, by_close "
           f"{summary['connections']['by_close']}, capture {summary.get('capture')}")

    veth.teardown()
    left = veth.gone()
    if left:
        bad.append(f"left behind after teardown: {left}")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
