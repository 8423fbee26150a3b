#!/usr/bin/env python3
"""live_output_outage: a network receiver that goes away during a live capture never stops the
capture, and every record is accounted for, per output (issue 14).

  shakedown -i lo --checksums keep -F json -o OUT -o redis://127.0.0.1:PORT/KEY 'tcp port P'

with a real redis-server that persists every command before answering it (appendonly,
appendfsync always), so what it acknowledged survives its stop. Real connections on lo (a
client sends 10 bytes and closes, the server reads to the end and closes: each connection ends
with FIN, FIN, last ACK, so its record is written as it closes) in three rounds of ROUND:
  1. Redis up: the round's records reach both outputs (waited for in Redis);
  2. Redis stopped (SIGTERM, while shakedown has nothing in flight: no --stats-interval, the
     connections of round 1 all written), then a round while it is down: the capture goes on
     (OUT gets the round's records; stderr says the receiver was lost);
  3. Redis started again (it reloads what it had): connections one by one until shakedown
     has reached it again (those made while the backoff lasts are dropped), then a round;
  4. connections made one after another from a thread of their own while Redis is killed
     (SIGKILL, records on their way: it keeps what it executed, answered or not) and started
     again a second later; the connections go on until shakedown has reached it again.
Then SIGINT. Required:
  * OUT holds a final record of every connection of all four rounds, the summary last, no
    kernel drops (capture.dropped 0) and nothing dropped or failed for OUT: the outage cost the
    capture nothing;
  * the summary's outputs: OUT written = its records before the summary; for Redis, written +
    dropped + failed = the same count (every record handed to it), dropped > 0 (round 2);
  * Redis holds exactly its written records plus the summary, each once, in OUT's order (OUT is
    the reference: every record goes to every output), the records of round 2 are among the
    dropped ones: so each record of round 4, cut off by the kill or not, is in Redis once or
    counted dropped, never both (transport_redis.c asks the restarted server which of the
    records it had no answer for it has);
  * exit status 3 (records were lost), stderr says the receiver was lost and connected again.
"""

import json
import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402
from live_redis import redis_cmd  # noqa: E402

NAME = "live_output_outage"
ROUND = 40
KEY = "sd-outage"


def main():
    return lc.main(NAME, __doc__, run, 60, tools=("redis-server",))


def serve(listener):
    """Accepts connections, reads each to its end and closes it."""
    def one(conn):
        with conn:
            while conn.recv(4096):
                pass

    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def connect_round(port, n=ROUND):
    """n connections to the server; their client ports."""
    ports = []
    for _ in range(n):
        with socket.create_connection((lc.HOST, port), timeout=5) as s:
            ports.append(s.getsockname()[1])
            s.sendall(b"0123456789")
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            while s.recv(4096):
                pass
    return ports


def finals_in(out, ports):
    """How many of these client ports have a final connection record in OUT."""
    done = {r["src_port"] for r in lc.finals(lc.read_lines(out))}
    return len(done & set(ports))


def killed_mid_stream(sd, server, port, redis_len):
    """Round 4: connections one after another from a thread while Redis is killed and, a second
    later, started again, until records reach it again (a record delivered on a new connection
    comes after what the last one left in doubt was settled); their client ports."""
    ports, done = [], threading.Event()

    def stream():
        while not done.is_set():
            ports.extend(connect_round(port, 5))

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    time.sleep(0.5)
    server.kill()
    time.sleep(1)
    server.start()
    lc.poll(lambda: redis_len() >= 0, 10, "Redis to answer after the restart", alive=sd)
    reloaded = redis_len()
    lc.poll(lambda: redis_len() > reloaded, 10, "records in Redis again after the kill",
            alive=sd)
    done.set()
    thread.join(10)
    lc.log(f"round 4: {len(ports)} connections, Redis killed and started again meanwhile")
    return ports


def run(t, exe):
    (listener,), _ = lc.bind_ports(t, listening=1)
    P = lc.port(listener)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    rport = rc.free_port()
    server = rc.Receiver(t, "redis", [lc.which("redis-server"), "--port", str(rport), "--bind",
                                      lc.HOST, "--save", "", "--appendonly", "yes",
                                      "--appendfsync", "always", "--dir", t.tmp,
                                      "--daemonize", "no"], rport)
    server.start()
    out = t.path("out.json")
    # -B 65536: round 4's burst must not be dropped by the kernel while the suite's other tests
    # take the CPU (every connection must be seen closing).
    sd = lc.Shakedown(t, exe, ["-i", "lo", "--checksums", "keep", "-B", "65536", "-F", "json",
                               "-o", out, "-o", f"redis://{lc.HOST}:{rport}/{KEY}", f"tcp port {P}"])

    def redis_len():
        """LLEN of the key; -1 while Redis is away or still loading its file after a restart."""
        try:
            return redis_cmd(rport, "LLEN", KEY)
        except OSError:
            return -1
        except lc.Failure as e:
            if "LOADING" in str(e):
                return -1
            raise

    # Round 1: both outputs get every record.
    lc.poll(lambda: os.path.exists(out), 10, "shakedown to open OUT", alive=sd)
    time.sleep(0.5)  # the capture is open once the output is; give it a moment to start
    r1 = connect_round(P)
    lc.poll(lambda: finals_in(out, r1) == ROUND, 10, "round 1 in OUT", alive=sd)
    lc.poll(lambda: redis_len() >= len(lc.read_lines(out)), 10, "round 1 in Redis", alive=sd)
    lc.log(f"round 1: {ROUND} connections, {redis_len()} records in Redis")

    # Round 2: Redis down, the capture goes on.
    server.stop()
    r2 = connect_round(P)
    lc.poll(lambda: finals_in(out, r2) == ROUND, 10, "round 2 in OUT while Redis is down",
            alive=sd)
    lc.poll(lambda: "records are dropped" in sd.stderr(), 5, "stderr to say Redis was lost",
            alive=sd)
    # its records by uid: round 4's many connections may use the same client ports again
    r2_uids = {r["uid"] for r in lc.finals(lc.read_lines(out)) if r["src_port"] in set(r2)}

    # Round 3: Redis back (it reloads what it acknowledged). shakedown tries it again when a
    # record comes and the backoff (at most 1 s) has passed: one connection every 0.1 s until
    # it has, then a round.
    server.start()
    r3 = []
    deadline = time.monotonic() + 10
    while "connected again" not in sd.stderr():
        lc.check(time.monotonic() < deadline and sd.running(),
                 f"shakedown did not reach Redis again: {sd.stderr()}")
        r3 += connect_round(P, 1)
        time.sleep(0.1)
    r3 += connect_round(P)
    lc.poll(lambda: finals_in(out, r3) == len(r3), 10, "round 3 in OUT", alive=sd)
    r4 = killed_mid_stream(sd, server, P, redis_len)
    lc.poll(lambda: finals_in(out, r4) == len(set(r4)), 10, "round 4 in OUT", alive=sd)
    status = sd.stop()
    err = sd.stderr()
    lc.log(f"status {status}; stderr:\n{err.rstrip()}")

    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    summary = recs[-1]
    lc.check(summary["type"] == "summary", "OUT does not end with the summary")
    for rnd, ports in (("1", r1), ("2", r2), ("3", r3), ("4", r4)):
        lc.check(finals_in(out, ports) == len(set(ports)),
                 f"round {rnd}: connections missing in OUT")
    lc.check(summary.get("capture", {}).get("dropped") == 0,
             f"kernel drops: {summary.get('capture')}")
    fo, ro = summary["outputs"]
    lc.log(f"outputs: {json.dumps(summary['outputs'])}")
    before_summary = len(recs) - 1
    lc.check(fo["target"] == out and fo["written"] == before_summary and fo["dropped"] == 0
             and fo["failed"] == 0, f"OUT's accounting: {fo} ({before_summary} records)")
    lc.check(ro["target"].startswith("redis://") and
             ro["written"] + ro["dropped"] + ro["failed"] == before_summary,
             f"Redis: written + dropped + failed != {before_summary} records handed to it: {ro}")
    lc.check(ro["dropped"] >= ROUND, f"Redis: {ro['dropped']} dropped, but the {ROUND} "
                                     f"connections of round 2 came while it was down")
    lc.check(summary.get("records_lost") == ro["dropped"] + ro["failed"],
             f"records_lost {summary.get('records_lost')} is not the outputs' losses")

    got = [json.loads(x) for x in redis_cmd(rport, "LRANGE", KEY, 0, -1)]
    lc.check(len(got) == ro["written"] + 1,
             f"Redis holds {len(got)} records, shakedown counted {ro['written']} written + "
             f"the summary")
    # Each record in Redis is OUT's record (same order, each once); the summary's outputs
    # differ only in time, so records are compared without it.
    want = [rc.normalise(json.dumps(r, separators=(",", ":")).encode()) for r in recs[:-1]]
    have = [rc.normalise(json.dumps(r, separators=(",", ":")).encode()) for r in got[:-1]]
    pos = 0
    for h in have:
        while pos < len(want) and want[pos] != h:
            pos += 1
        lc.check(pos < len(want), f"a record in Redis is not in OUT's order: {h[:200]!r}")
        pos += 1
    in_redis = {r["uid"] for r in got if r.get("type") == "connection"}
    lc.check(not in_redis & r2_uids, f"round 2's connections reached Redis while it was down: "
                                     f"{sorted(in_redis & r2_uids)}")
    lc.check(status == 3, f"exit status {status}, expected 3 (records were lost)")
    lc.check("connected again" in err, "stderr does not say Redis was reached again")


if __name__ == "__main__":
    sys.exit(main())
