#!/usr/bin/env python3
"""live_idle_expiry: idle timeouts fire on the wall clock in a live capture (issue 5, test 2).

shakedown -i lo --checksums keep -F json -o OUT --idle-timeout 1 --handshake-timeout 1
          --stats-interval 0.25 'tcp port P'
One real connection exchanges a little data, then stays idle: no packet at all on port P
(the sockets stay open, without keepalive, until after shakedown has stopped). No later packet
can advance shakedown's capture time, so only the wall clock can expire it: its final record
(close.how "timeout") must be in OUT within 3 s of its last packet, while shakedown still runs.
After SIGINT (exit status 0), it is still reported exactly once (not again as "shutdown"), and
every line is valid.
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402

NAME = "live_idle_expiry"
LIMIT = 3.0  # seconds from the last packet to the timeout record (1 s timeout + slack)


def main():
    return lc.main(NAME, __doc__, run, 30)


def run(t, exe):
    (listener,), _ = lc.bind_ports(t, listening=1)
    P = lc.port(listener)
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-F", "json", "-o", out,
                               "--idle-timeout", "1", "--handshake-timeout", "1",
                               "--stats-interval", "0.25", f"tcp port {P}"])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)

    client = socket.create_connection((lc.HOST, P), timeout=5)
    t.defer(client.close)
    listener.settimeout(5)
    srv, _ = listener.accept()
    t.defer(srv.close)
    client.sendall(b"ping")
    lc.check(srv.recv(10) == b"ping", "request lost")
    srv.sendall(b"pong")
    lc.check(client.recv(10) == b"pong", "reply lost")
    # The last packet is the client's ACK of "pong", sent as recv() returns (or a delayed ACK
    # up to ~40 ms later on Linux): the clock starts here, give or take that.
    last_packet = time.monotonic()
    key = lc.tuple_of(client)
    lc.log(f"connection {key} idle from now")

    def timed_out():
        return [r for r in lc.finals(lc.read_lines(out)) if lc.key_of(r) == key]

    rec = lc.poll(timed_out, LIMIT + 2, f"the final record of {key}", alive=sd)[0]
    after = time.monotonic() - last_packet
    lc.check(sd.running(), "shakedown exited before the timeout record was checked")
    lc.log(f"final record {after:.2f} s after the last packet: close.how "
           f"{rec['close'].get('how')}, conn_state {rec['conn_state']}")
    lc.check(rec["close"].get("how") == "timeout",
             f"close.how is {rec['close'].get('how')!r}, expected 'timeout'")
    lc.check(after <= LIMIT, f"the timeout record came {after:.2f} s after the last packet "
                             f"(--idle-timeout 1; at most {LIMIT} s expected)")
    lc.check(rec["orig"]["payload_bytes"] == 4 and rec["resp"]["payload_bytes"] == 4,
             f"payload bytes {rec['orig']['payload_bytes']}/{rec['resp']['payload_bytes']}, "
             f"expected 4/4")

    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"exit status {status} after SIGINT, expected 0; stderr:\n{err}")
    lc.check_banner_only(err, "lo")
    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    mine = [r for r in lc.finals(recs) if lc.key_of(r) == key]
    lc.check(len(mine) == 1, f"{len(mine)} final records of {key}, expected 1: "
                             f"{[r['close'].get('how') for r in mine]}")
    total = recs[-1]["connections"]["total"]
    lc.check(total == 1, f"summary connections.total {total}, expected 1")
    by_close = recs[-1]["connections"]["by_close"]
    lc.check(by_close.get("timeout") == 1 and not by_close.get("shutdown"),
             f"summary by_close {by_close}, expected timeout 1 and no shutdown")


if __name__ == "__main__":
    sys.exit(main())
