#!/usr/bin/env python3
"""live_eve_fever: -F eve read by a real consumer of Suricata's EVE JSON, DCSO's FEVER (issue 14:
every format round-trips through its real reader).

FEVER (Debian package fever) is an event router that sits where Suricata writes its EVE output:
it reads EVE lines from a Unix socket (Suricata's `filetype: unix_stream`), parses each with its
own EVE parser (event_type, src_ip, src_port, dest_ip, dest_port, timestamp, proto,
flow.{bytes,pkts}_{toserver,toclient}, ...; a line it cannot parse is dropped with a warning),
forwards each event by its event_type to output sockets, and turns each flow event into a
binary flow record (its flow extraction: timestamp parsed with Suricata's timestamp layout, both
addresses, both ports, packets and bytes each way, TCP/UDP) that it publishes to AMQP. The test
runs it with everything on loopback and in a directory of its own: a RabbitMQ broker
(rabbitmq-server, with an epmd of its own) on ports of its own, FEVER's input, output and
management sockets in the test's directory.

shakedown -F eve writes three captures: samples/multi.pcap (UDP, ICMP, three TCP connections over
IPv4, one over IPv6; samples/README.md lays it out frame by frame), samples/vlan.pcap (the
standard exchange under two VLAN tags: a `vlan` array in the record) and a capture with an
anomaly of each severity (receivers.py). Their lines go to FEVER's input socket in one stream, as
Suricata sends them. Checked:
  * every record was parsed and accepted: an output taking all event types gets every line, in
    order, byte for byte;
  * event_type as FEVER reads it: outputs for `flow`, `anomaly` and `stats` each get exactly the
    lines of that type, and as many as the captures make (12 flows, 4 anomalies, 3 summaries);
  * the fields FEVER extracts from each flow event, from its flow records read off the broker
    (amqp-consume): one for each of the 12 flow events (a timestamp that Go's time.Parse cannot
    read with Suricata's layout, or an address it cannot parse, leaves the flow out), and for the
    7 flows of multi.pcap and vlan.pcap the timestamp (the flow's first frame), addresses, ports,
    protocol and packets and bytes each way equal what the captures imply (worked out below
    from their frames, not from shakedown's output);
  * FEVER logged no warning or error.
No root needed: no packet is captured.
"""

import glob
import gzip
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402

NAME = "live_eve_fever"
# The broker itself, not /usr/sbin/rabbitmq-server (a wrapper that switches to the rabbitmq user
# and logs under /var/log): both come with Debian's rabbitmq-server package.
RABBITMQ = "/usr/lib/rabbitmq/bin/rabbitmq-server"
TOOLS = ("fever", "rabbitmq-server", "epmd", "amqp-consume", "amqp-publish")
EXCHANGE = "amq.fanout"  # exists in every broker: nothing to declare before FEVER publishes
TYPES = ("flow", "anomaly", "stats")
# The warning FEVER logs at every start: its AMQP submitter makes its first connection by
# raising a fake connection failure with this reason (util/submitter_amqp.go).
INITIAL_CONNECT = "RabbitMQ connection failed: Initial connect"

# ---- what the captures imply ------------------------------------------------------------------

SAMPLES = os.path.join(lc.SOURCE, "samples")
START_NS = 1704067200 * 10**9  # 2024-01-01T00:00:00Z: each sample's first frame
STEP_NS = 10 * 10**6  # a sample's frames are 10 ms apart (samples/README.md)


def frame_ns(n):
    """The time of a sample's frame n (1-based)."""
    return START_NS + (n - 1) * STEP_NS


def tcp_standard(ip_header, request, response):
    """(pkts, bytes) to server and to client of one connection in the samples' standard shape
    (samples/README.md; tests/gen/samples.c, conn_step): the client sends SYN, ACK, its data,
    the ACK of the server's data and two of the four close segments (6 packets), the server
    SYN/ACK, the ACK of the request, its data and the other two (5), whichever side closes.
    Every SYN carries 20 option bytes (40-byte TCP header), every other segment 12 (32)."""
    syn, other = ip_header + 40, ip_header + 32
    return (6, 5, syn + 5 * other + request, syn + 4 * other + response)


NEITHER = "neither TCP nor UDP"
V4, V6 = 20, 40  # IP header bytes: IPv4 without options, IPv6 without extension headers
UDP_DNS = (1, 1, V4 + 8 + 40, V4 + 8 + 80)  # a 40-byte DNS query, an 80-byte answer
ICMP_PING = (1, 1, V4 + 8 + 56, V4 + 8 + 56)  # echo request and reply, 56 data bytes each

# Each flow of multi.pcap and vlan.pcap: (src, sport, dest, dport) -> (protocol, first frame's
# time, (pkts to server, pkts to client, bytes to server, bytes to client)). ICMP has no ports:
# EVE gives icmp_type/icmp_code instead, so FEVER's src_port and dest_port are 0; and FEVER's
# flow records mark only TCP and UDP, so ICMP is neither.
EXPECTED = {
    # multi.pcap: frames 1-2 the DNS exchange, 3-4 the ping, 5-37 three TCP connections
    # interleaved (the first frames of 50001, 50002, 50003 are 5, 6, 7), 38-48 one over IPv6.
    ("192.0.2.10", 53000, "198.51.100.53", 53): ("UDP", frame_ns(1), UDP_DNS),
    ("192.0.2.10", 0, "198.51.100.20", 0): (NEITHER, frame_ns(3), ICMP_PING),
    ("192.0.2.10", 50001, "198.51.100.20", 443): ("TCP", frame_ns(5), tcp_standard(V4, 100, 400)),
    ("192.0.2.10", 50002, "198.51.100.20", 443): ("TCP", frame_ns(6), tcp_standard(V4, 150, 800)),
    ("192.0.2.10", 50003, "198.51.100.20", 443): ("TCP", frame_ns(7),
                                                  tcp_standard(V4, 200, 1200)),
    ("2001:db8::10", 50004, "2001:db8::20", 443): ("TCP", frame_ns(38),
                                                   tcp_standard(V6, 120, 1000)),
    # vlan.pcap: the standard exchange (120 / 1000 bytes); the tags are link layer, not IP bytes.
    ("192.0.2.10", 49152, "198.51.100.20", 80): ("TCP", frame_ns(1), tcp_standard(V4, 120, 1000)),
}
# The anomalies capture (receivers.capture(0)): five TCP connections (zero_window's, the
# retransmission's, data_after_rst's, syn_unanswered's SYN, the clean last one) and one anomaly
# each of zero_window, retransmission, data_after_rst and syn_unanswered. Each run ends with its
# summary, a stats event.
COUNTS = {"flow": len(EXPECTED) + 5, "anomaly": 4, "stats": 3}

# ---- FEVER's flow records ------------------------------------------------------------------


def flow_records(data):
    """FEVER's binary flow records (types/flow_event.go, FlowEvent.Marshal), one after another:
    a format byte (bit 0 set, bit 1 for IPv6), the timestamp in ns, the source address (4 or 16
    bytes), source port, destination address and port, packets to server and to client, bytes to
    server and to client, flags (1 TCP, 2 UDP); numbers little-endian. The addresses are in
    network order: FEVER's reverseIP() meant to reverse them, but it swaps each pair of bytes
    twice. Returns a list of dicts."""
    out, at = [], 0
    while at < len(data):
        fmt = data[at]
        lc.check(fmt & 1, f"flow record at byte {at}: format byte {fmt:#x} has bit 0 clear")
        n = 16 if fmt & 2 else 4
        layout = f"<BQ{n}sH{n}sHIIIIH"
        size = struct.calcsize(layout)
        lc.check(at + size <= len(data), f"flow record at byte {at} is cut short")
        f = struct.unpack_from(layout, data, at)
        family = socket.AF_INET6 if n == 16 else socket.AF_INET
        out.append({"timestamp": f[1], "src": socket.inet_ntop(family, f[2]),
                    "sport": f[3], "dest": socket.inet_ntop(family, f[4]), "dport": f[5],
                    "counts": f[6:10], "proto": {1: "TCP", 2: "UDP"}.get(f[10], NEITHER)})
        at += size
    return out


# ---- the parts ------------------------------------------------------------------------------


def distinct_ports(k):
    ports = []
    while len(ports) < k:
        p = rc.free_port()
        if p not in ports:
            ports.append(p)
    return ports


def start_broker(t):
    """epmd and rabbitmq-server on loopback ports of their own, every file in the test's
    directory (nothing of the system's broker: its config, env file, data or logs). Returns the
    AMQP URL."""
    amqp, dist, epmd = distinct_ports(3)
    base = t.path("rabbitmq")
    os.makedirs(base)
    conf = os.path.join(base, "rabbitmq.conf")
    with open(conf, "w") as f:
        f.write(f"listeners.tcp.default = {lc.HOST}:{amqp}\nloopback_users = none\n")
    with open(os.path.join(base, "enabled_plugins"), "w") as f:
        f.write("[].\n")
    open(os.path.join(base, "env.conf"), "w").close()
    rc.Receiver(t, "epmd", [lc.which("epmd"), "-port", str(epmd), "-address", lc.HOST],
                epmd).start()
    env = {"HOME": base, "RABBITMQ_CONF_ENV_FILE": os.path.join(base, "env.conf"),
           "RABBITMQ_CONFIG_FILE": conf, "RABBITMQ_ADVANCED_CONFIG_FILE": conf + ".advanced",
           "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
           "RABBITMQ_NODENAME": f"shakedown{os.getpid()}@localhost",
           "RABBITMQ_NODE_IP_ADDRESS": lc.HOST, "RABBITMQ_NODE_PORT": str(amqp),
           "RABBITMQ_DIST_PORT": str(dist), "ERL_EPMD_PORT": str(epmd),
           "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
           "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"),
           "RABBITMQ_LOG_BASE": os.path.join(base, "log"), "RABBITMQ_LOGS": "-"}
    argv = ["env", "-i", f"PATH={os.environ.get('PATH', '/usr/bin:/bin')}"]
    argv += [f"{k}={v}" for k, v in env.items()] + [RABBITMQ]
    rc.Receiver(t, "rabbitmq", argv, amqp).start(timeout=40)
    return f"amqp://guest:guest@{lc.HOST}:{amqp}"  # no path: the default virtual host, /


class Consumer:
    """amqp-consume on a queue of its own bound to EXCHANGE: each message body to a file of its
    own (written aside, then renamed) in a directory of the test's."""

    def __init__(self, t, url):
        self.url, self.dir, self.log = url, t.path("amqp"), t.path("amqp-consume.log")
        os.makedirs(self.dir)
        keep = f'f=$(mktemp "{self.dir}/part.XXXXXX") && cat > "$f" && mv "$f" "$f.msg"'
        log = open(self.log, "wb")
        # A routing key, though a fanout exchange ignores it: without one amqp-consume 0.11
        # crashes on the first message (SIGSEGV; rabbitmq-c issue 549), and with an empty one it
        # does not bind its queue.
        argv = [lc.which("amqp-consume"), "-u", url, "-e", EXCHANGE, "-r", "fever", "-A", "--",
                "sh", "-c", keep]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        t.defer(self.stop)

    def bodies(self):
        out = []
        for path in glob.glob(os.path.join(self.dir, "*.msg")):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_bound(self):
        """Publishes a probe until one comes back: the queue is bound."""
        def probed():
            subprocess.run([lc.which("amqp-publish"), "-u", self.url, "-e", EXCHANGE, "-r",
                            "fever", "-b", "probe"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, check=False)
            lc.check(self.proc.poll() is None, f"amqp-consume exited with status "
                                               f"{self.proc.returncode}: {read(self.log)}")
            return b"probe" in self.bodies()

        lc.poll(probed, 15, "amqp-consume to receive a probe", interval=0.2)

    def flows(self):
        """Every flow record of every message: the extractor's batches, one a second (gzip ones
        unpacked: FEVER 1.3.5 compresses them only with --flowreport-nocompress)."""
        out = []
        for body in self.bodies():
            if body != b"probe":
                out += flow_records(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        return out

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class Output:
    """A Unix socket FEVER forwards events to: what it writes is kept, line by line."""

    def __init__(self, t, name):
        self.path = t.path(f"out-{name}.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(1)
        t.defer(self.sock.close)
        self.data, self.connected = b"", False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        conn, _ = self.sock.accept()
        self.connected = True
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            self.data += chunk

    def lines(self):
        return self.data.split(b"\n")[:-1]


def start_fever(t, url, outputs):
    """fever run with its input and output sockets in the test's directory, each output taking
    the event types of its name ("all": every type), flow extraction published to EXCHANGE every
    second, its management service on a loopback port of its own. Returns the input socket's
    path once it accepts connections and FEVER has connected to every output."""
    mgmt = rc.free_port()
    cfg = {"input": {"socket": t.path("in.sock"), "buffer-drop": False},
           "multi-forward": {name: {"socket": out.path, "all": name == "all",
                                    "buffer-length": 10000,
                                    "types": [] if name == "all" else [name]}
                             for name, out in outputs.items()},
           "flowextract": {"enable": True, "submission-url": url,
                           "submission-exchange": EXCHANGE},
           "flushtime": "1s", "mgmt": {"network": "tcp", "host": f"{lc.HOST}:{mgmt}"},
           "logging": {"file": t.path("fever.log"), "json": True}}
    path = t.path("fever.yaml")
    with open(path, "w") as f:
        json.dump(cfg, f)  # JSON is YAML
    fever = rc.Receiver(t, "fever", ["env", f"HOME={t.tmp}", lc.which("fever"), "run",
                                     "--config", path], mgmt)
    fever.start()

    def ready():
        lc.check(fever.proc.poll() is None, f"fever exited with status {fever.proc.returncode}: "
                                            f"{fever.log()}{read(t.path('fever.log'))}")
        return all(o.connected for o in outputs.values()) and accepts_unix(t.path("in.sock"))

    lc.poll(ready, 20, "fever to listen on its input and connect to its outputs")
    return t.path("in.sock")


def accepts_unix(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")[-3000:]
    except FileNotFoundError:
        return ""


def eve(exe, path):
    """The lines of `shakedown -r PATH -F eve`."""
    r = subprocess.run([exe, "-r", path, "-F", "eve"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, check=False)
    lc.check(r.returncode == 0 and not r.stderr, f"-r {path} -F eve: status {r.returncode}, "
                                                 f"stderr {r.stderr!r}")
    return r.stdout.split(b"\n")[:-1]


def same_lines(name, got, want):
    """An output got exactly the lines wanted, in order, byte for byte."""
    if got == want:
        lc.log(f"output {name}: the {len(want)} records, unchanged, and nothing else")
        return
    for i, (g, w) in enumerate(zip(got, want)):
        lc.check(g == w, f"output {name}: line {i} differs:\n  got  {g[:300]!r}\n"
                         f"  sent {w[:300]!r}")
    raise lc.Failure(f"output {name}: {len(got)} lines, {len(want)} expected")


# ---- the test -------------------------------------------------------------------------------


def run(t, exe):
    _, _, anomalies = rc.capture_file(t, 0, "anomalies.pcap")
    sent = []
    for cap in (os.path.join(SAMPLES, "multi.pcap"), os.path.join(SAMPLES, "vlan.pcap"),
                anomalies):
        sent += eve(exe, cap)
    lc.check(len(sent) == sum(COUNTS.values()), f"shakedown wrote {len(sent)} records, the "
                                                f"captures make {COUNTS}")
    url = start_broker(t)
    consumer = Consumer(t, url)
    consumer.wait_bound()
    outputs = {name: Output(t, name) for name in ("all",) + TYPES}
    feed(start_fever(t, url, outputs), sent)
    settle(outputs, consumer)
    check_forwarded(outputs, sent)
    check_flow_records(consumer.flows())
    check_log(t.path("fever.log"))


def feed(insock, lines):
    """The records to FEVER's input socket, in one stream, as Suricata's unix_stream output."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(insock)
    s.sendall(b"".join(line + b"\n" for line in lines))
    s.close()


def settle(outputs, consumer):
    """Waits until everything expected is there (at most 20 s: the checks then say what is
    missing), then for one flush more, so that anything extra would be there too."""
    end = time.monotonic() + 20
    while time.monotonic() < end and not (
            len(outputs["all"].lines()) >= sum(COUNTS.values()) and
            all(len(outputs[k].lines()) >= COUNTS[k] for k in TYPES) and
            len(consumer.flows()) >= COUNTS["flow"]):
        time.sleep(0.1)
    time.sleep(1.5)


def check_forwarded(outputs, sent):
    """Every record parsed and forwarded unchanged; by event_type, each where it belongs."""
    same_lines("all", outputs["all"].lines(), sent)
    for kind in TYPES:
        want = [x for x in sent if json.loads(x)["event_type"] == kind]
        lc.check(len(want) == COUNTS[kind], f"{len(want)} {kind} records sent, the captures "
                                            f"make {COUNTS[kind]}")
        same_lines(kind, outputs[kind].lines(), want)


def check_flow_records(flows):
    """One flow record per flow event; those of EXPECTED with the values it has."""
    lc.check(len(flows) == COUNTS["flow"], f"fever made {len(flows)} flow records of the "
                                           f"{COUNTS['flow']} flow events (it leaves out a flow "
                                           f"whose timestamp or addresses it cannot parse): "
                                           f"{flows}")
    by_key = {(f["src"], f["sport"], f["dest"], f["dport"]): f for f in flows}
    for key, (proto, ts, counts) in EXPECTED.items():
        f = by_key.get(key)
        lc.check(f is not None, f"no flow record for {key}: {sorted(by_key)}")
        want = {"proto": proto, "timestamp": ts, "counts": counts}
        have = {k: f[k] for k in want}
        lc.check(have == want, f"{key}: fever read {have}, the capture implies {want}")
    lc.log(f"flow records: {len(flows)}, the {len(EXPECTED)} of multi.pcap and vlan.pcap as "
           f"their frames imply")


def check_log(path):
    """FEVER warned of nothing (a record it could not parse is a warning) but its start."""
    with open(path, "rb") as f:
        log = [json.loads(x) for x in f.read().splitlines()]
    bad = [x for x in log if x.get("level") in ("warning", "error", "fatal", "panic") and
           x.get("msg") != INITIAL_CONNECT]
    lc.check(not bad, "fever logged:\n" + "\n".join(json.dumps(x) for x in bad))


def main():
    return lc.main(NAME, __doc__, run, 60, root=False, tools=TOOLS)


if __name__ == "__main__":
    sys.exit(main())
