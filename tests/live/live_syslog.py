#!/usr/bin/env python3
"""live_syslog: -o syslog+tcp://, syslog:// and syslog:///PATH against a real rsyslogd (issue 14).

An rsyslogd of its own in the foreground (-n -f CONF -i PIDFILE, its work directory, config and
output in the test's directory, nothing system-wide): imtcp and imudp on a private loopback
port, imuxsock on a private socket, each writing what it received to a file of its own as
"pri|app-name|msgid|procid|facility|severity|msg" (its RFC 5424 parser's view). The capture:
300 clean connections plus anomalies of every severity (receivers.py).
  * a strict octet-counting reader first (a Python listener): the TCP stream is exactly
    "LEN SP MSG" frames, LEN the byte count of MSG, each MSG an RFC 5424 message with
    APP-NAME shakedown, MSGID the record's type and PRI = facility * 8 + severity;
  * TCP and UDP to rsyslogd, --syslog-facility local3 and the default local5: every record
    arrives exactly once, in order, as the line -F json writes; rsyslogd parsed APP-NAME,
    MSGID, PROCID (shakedown's pid), facility and severity (anomalies: info 6, low 5, medium 4,
    high 3; other records 6) as shakedown meant;
  * the local socket (RFC 3164 form): the same records, tag shakedown, facility and severity;
  * rsyslogd killed (SIGTERM) and restarted between two parts of a capture fed through a pipe:
    shakedown waits for it, every record arrives exactly once, exit 0;
  * rsyslogd killed (SIGKILL) while records are on their way and started again a second later:
    no record twice, the order kept; what is missing is one run around the kill, no fewer
    than the summary counts dropped (syslog has no acknowledgement of its own: what rsyslogd's
    host had acknowledged but rsyslogd had not stored dies with it, uncounted), but for what a
    delayed ACK leaves unacknowledged though rsyslogd had read it (at most two segments);
  * rsyslogd hung (SIGSTOP) 0.4 s, then killed: the same, no fewer missing than counted;
  * -F zeek over TCP: one conn.log row a message, without the TSV header or #close;
  * a receiver that is not there at start: exit status 2, one line naming it (over UDP:
    live_syslog_udp.py).
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402

NAME = "live_syslog"
CONNECTIONS = 300
KILLED = 3000  # the capture fed while rsyslogd is killed
# a TCP message's octet count and RFC 5424 header, at most: "LEN <PRI>1 TIMESTAMP HOST shakedown
# PID MSGID - " is under 100 bytes but for the host name
FRAMING = 100 + len(socket.gethostname())
SEVERITY = {"info": 6, "low": 5, "medium": 4, "high": 3}
RFC5424 = re.compile(rb"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (\S+) "
                     rb"(\d+) (\S+) - (.*)$", re.S)

CONF = """
global(workDirectory="{d}" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
template(name="fields" type="string"
         string="%pri%|%app-name%|%msgid%|%procid%|%syslogfacility%|%syslogseverity%|%msg%\\n")
ruleset(name="tcp") {{ action(type="omfile" file="{d}/tcp.log" template="fields") }}
ruleset(name="udp") {{ action(type="omfile" file="{d}/udp.log" template="fields") }}
ruleset(name="local") {{ action(type="omfile" file="{d}/local.log" template="fields") }}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="tcp")
input(type="imudp" address="127.0.0.1" port="{port}" ruleset="udp" rcvbufSize="8m")
input(type="imuxsock" Socket="{d}/log" ruleset="local")
"""


def expected_fields(record, facility):
    """(msgid, severity) shakedown must give a record (a JSON line, bytes)."""
    kind = re.search(rb'^\{"type":"([a-z]+)"', record).group(1).decode()
    sev = 6
    if kind == "anomaly":
        sev = SEVERITY[re.search(rb'"severity":"([a-z]+)"', record).group(1).decode()]
    return kind, facility * 8 + sev


def lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def check_parsed(tag, path, want, facility, pid=None, local=False):
    """rsyslogd's view of each message: the header fields, and the records in order."""
    got = lines(path)
    msgs = []
    for n, line in enumerate(got):
        pri, app, msgid, procid, fac, sev, msg = line.split(b"|", 6)
        if local and msg.startswith(b" "):  # rsyslog keeps the space after an RFC 3164 tag
            msg = msg[1:]
        kind, want_pri = expected_fields(msg, facility)
        lc.check(int(pri) == want_pri and int(fac) == facility and int(sev) == want_pri % 8,
                 f"{tag}: message {n}: PRI {pri} facility {fac} severity {sev}, expected PRI "
                 f"{want_pri} for a {kind} record")
        lc.check(app == b"shakedown", f"{tag}: message {n}: APP-NAME {app!r}")
        if not local:
            lc.check(msgid.decode() == kind, f"{tag}: message {n}: MSGID {msgid!r} for {kind}")
        if pid is not None:
            lc.check(procid == str(pid).encode(), f"{tag}: message {n}: PROCID {procid!r}, "
                                                  f"shakedown's pid is {pid}")
        msgs.append(msg)
    rc.compare(tag, msgs, want)
    sevs = sorted({int(x.split(b"|")[5]) for x in got})
    lc.check(sevs == [3, 4, 5, 6], f"{tag}: severities seen {sevs}, expected 3, 4, 5 and 6")


def run_shakedown(exe, cap, target, *extra, fmt="json"):
    """shakedown -r CAP -F FMT -o TARGET; its pid (the PROCID of its messages)."""
    p = subprocess.Popen([exe, "-r", cap, "-F", fmt, "-o", target] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=20)
    lc.check(p.returncode == 0 and not err and not out,
             f"-o {target}: status {p.returncode}, stderr {err!r}")
    return p.pid


def octet_counted(t, exe, cap, fmt="json"):
    """The messages of `shakedown -r CAP -F FMT -o syslog+tcp://` to a listener that takes the
    TCP stream apart by RFC 6587 §3.4.1, byte exact; with shakedown's pid."""
    srv = socket.socket()
    srv.bind((lc.HOST, 0))
    srv.listen(1)
    t.defer(srv.close)
    data = []

    def take():
        conn, _ = srv.accept()
        with conn:
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    return
                data.append(chunk)

    th = threading.Thread(target=take, daemon=True)
    th.start()
    pid = run_shakedown(exe, cap, f"syslog+tcp://{lc.HOST}:{srv.getsockname()[1]}", fmt=fmt)
    th.join(10)
    stream, msgs = b"".join(data), []
    while stream:
        m = re.match(rb"([1-9][0-9]*) ", stream)
        lc.check(m, f"octet counting: no MSG-LEN SP at {stream[:40]!r}")
        n = int(m.group(1))
        msg, stream = stream[m.end():m.end() + n], stream[m.end() + n:]
        lc.check(len(msg) == n, f"octet counting: a frame of {n} bytes has {len(msg)}")
        msgs.append(msg)
    return msgs, pid


def strict_octet_counting(t, exe, cap, want):
    """Each message an RFC 5424 message with shakedown's header, the records -F json writes."""
    frames, pid = octet_counted(t, exe, cap)
    msgs = []
    for msg in frames:
        h = RFC5424.match(msg)
        lc.check(h, f"not an RFC 5424 message: {msg[:120]!r}")
        pri, _, host, app, procid, msgid, body = h.groups()
        kind, want_pri = expected_fields(body, 21)
        lc.check((int(pri), app, int(procid), msgid.decode()) ==
                 (want_pri, b"shakedown", pid, kind),
                 f"header of a {kind} record: {msg[:100]!r} (pid {pid})")
        lc.check(not body.endswith(b"\n"), "the record's newline was not stripped")
        msgs.append(body)
    rc.compare("strict octet-counting reader", msgs, want)


def zeek_rows(t, exe, cap):
    """-F zeek: each message one conn.log row (MSGID connection), the rows -F zeek writes to a
    file, without its '#' lines: the header and #close describe a file, a message stands
    alone."""
    path = t.path("conn.log")
    run_shakedown(exe, cap, path, fmt="zeek")
    with open(path, "rb") as f:
        rows = [x for x in f.read().split(b"\n")[:-1] if not x.startswith(b"#")]
    frames, _ = octet_counted(t, exe, cap, fmt="zeek")
    heads = [RFC5424.match(m) for m in frames]
    lc.check(all(h and h.group(6) == b"connection" for h in heads),
             f"-F zeek: a message that is not a connection's: {frames[:1]!r}")
    got = [h.group(7) for h in heads]
    lc.check(got == rows and len(rows) > CONNECTIONS,
             f"-F zeek: {len(got)} messages, the file has {len(rows)} rows; first message "
             f"{got[:1]!r}")
    lc.log(f"-F zeek: {len(got)} messages, each a conn.log row")


def main():
    return lc.main(NAME, __doc__, run, 50, root=False, tools=("rsyslogd",))


def run(t, exe):
    frames, times, cap = rc.capture_file(t, CONNECTIONS)
    want = rc.reference(exe, cap)
    strict_octet_counting(t, exe, cap, want)
    zeek_rows(t, exe, cap)

    port = rc.free_port()
    d = t.tmp
    with open(t.path("rsyslog.conf"), "w") as f:
        f.write(CONF.format(d=d, port=port))
    daemon = rc.Receiver(t, "rsyslogd", [lc.which("rsyslogd"), "-n", "-f", t.path("rsyslog.conf"),
                                         "-i", t.path("rsyslogd.pid")], port)
    daemon.start()

    def settled(path, n):
        rc.wait_until(t, lambda: len(lines(path)) >= n, 10, f"{n} messages in {path}")
        time.sleep(0.2)  # and no more after them

    pid = run_shakedown(exe, cap, f"syslog+tcp://{lc.HOST}:{port}", "--syslog-facility",
                        "local3")
    settled(t.path("tcp.log"), len(want))
    check_parsed("TCP, local3", t.path("tcp.log"), want, 19, pid)

    pid = run_shakedown(exe, cap, f"syslog://{lc.HOST}:{port}")
    settled(t.path("udp.log"), len(want))
    check_parsed("UDP, local5 (the default)", t.path("udp.log"), want, 21, pid)

    run_shakedown(exe, cap, f"syslog://{t.path('log')}", "--syslog-facility", "daemon")
    settled(t.path("local.log"), len(want))
    check_parsed("local socket, daemon", t.path("local.log"), want, 3, local=True)

    restart(t, exe, daemon, port, frames, times, want, settled)
    killed_mid_stream(t, exe, daemon, port)
    killed_mid_stream(t, exe, daemon, port, frozen=0.4)

    closed = rc.closed_port(t)
    r = subprocess.run([exe, "-r", cap, "-o", f"syslog+tcp://{lc.HOST}:{closed}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    err = r.stderr.decode(errors="replace").splitlines()
    lc.log(f"unreachable: status {r.returncode}, {err}")
    lc.check(r.returncode == 2 and len(err) == 1 and
             f"syslog+tcp://{lc.HOST}:{closed}" in err[0] and "Connection refused" in err[0],
             f"unreachable receiver: status {r.returncode}, stderr {err}")


def restart(t, exe, daemon, port, frames, times, want, settled):
    """rsyslogd stopped between two parts of the capture and started again: none lost."""
    log = t.path("tcp.log")  # rsyslogd appends to it (omfile keeps it open: no renaming)
    base = len(lines(log))

    def gone():
        settled(log, base + CONNECTIONS // 2)
        daemon.stop()

    rc.outage(t, exe, f"syslog+tcp://{lc.HOST}:{port}", frames, times, CONNECTIONS // 2 * 8,
              gone, daemon.start)
    settled(log, base + len(want))
    got = [x.split(b"|", 6)[6] for x in lines(log)[base:]]
    rc.compare("rsyslogd killed and restarted", got, want)


def killed_mid_stream(t, exe, daemon, port, frozen=0.0):
    """rsyslogd killed (SIGKILL) while records are on their way, started again a second later;
    if `frozen`, it hangs (SIGSTOP) that many seconds first, so that records pile up unread in
    its host's buffer and unsent in shakedown's. Syslog has no acknowledgement of its own
    (docs/shakedown.1): what TCP had not acknowledged when shakedown gave the connection up is
    counted dropped; what rsyslogd's host had acknowledged but rsyslogd had not yet written out
    dies with it, uncounted. Required: no record twice, the order kept, the missing records one
    run (those around the kill), every record after them there; exit status 3 if records were
    counted lost, else 0; as many missing as counted dropped at least — killed while reading,
    but for what a delayed ACK left unacknowledged; hung first, exactly (its host's delayed
    ACKs have all gone out while it hung; how many are counted depends on how far the kernel
    had grown rsyslogd's receive buffer)."""
    tag = f"hung {frozen} s, then killed" if frozen else "killed mid-stream"
    log = t.path("tcp.log")
    base = len(lines(log))
    frames, times, cap = rc.capture_file(t, KILLED, "killed.pcap")
    want = rc.reference(exe, cap)
    status, err = rc.killed_mid_stream(t, exe, f"syslog+tcp://{lc.HOST}:{port}", frames, times,
                                       lambda: len(lines(log)) - base >= len(want) // 4, daemon,
                                       frozen)
    rc.wait_until(t, lambda: b'"type":"summary"' in (lines(log)[-1:] or [b""])[0], 10,
                  "the summary in rsyslogd's file")
    got = [rc.normalise(x.split(b"|", 6)[6]) for x in lines(log)[base:]]
    summary = json.loads(got[-1])
    dropped = summary["outputs"][0]["dropped"]
    got, want = got[:-1], want[:-1]  # the summaries differ in their counts
    head = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), len(got))
    tail = len(got) - head  # records after the missing run
    missing = len(want) - len(got)
    lc.log(f"{tag}: {len(got)} of {len(want)} records in rsyslogd's file, "
           f"{missing} missing after record {head}, {dropped} counted dropped")
    lc.check(len(set(got)) == len(got), f"{tag}: a record arrived twice")
    lc.check(missing >= 0 and got[head:] == want[len(want) - tail:],
             f"{tag}: the records after the kill are not the rest of the capture "
             "in order (missing ones not one run, or out of order)")
    # Counted dropped: the records whose bytes rsyslogd's host had not acknowledged when the
    # connection broke. Missing: those plus the ones its host acknowledged but rsyslogd had not
    # stored. One case counts a stored record: rsyslogd read it while its host delayed the ACK
    # (Linux acknowledges at once only when more than one full segment is unacknowledged), and
    # the reset its host sends when killed acknowledges nothing to the sender (RFC 793 processes
    # RST before ACK). Such records are stored right before the missing run and fit, with their
    # syslog framing, in two loopback segments (MTU 65536) — seen once in CI: 45 counted, 44
    # missing. Anything beyond that is a miscount. Hung first, the delayed-ACK timer (200 ms at
    # most) has acknowledged all rsyslogd read before the hang: no slack.
    over = dropped - missing
    stored = sum(len(x) + FRAMING for x in want[max(head - over, 0):head]) if over > 0 else 0
    lc.check(over <= 0 or (not frozen and over <= head and stored <= 2 * 65536),
             f"{tag}: {dropped} counted dropped but only {missing} missing: "
             f"{over} dropped records ({stored} bytes) arrived")
    lc.check(status == (3 if dropped else 0), f"{tag}: exit status {status}: {err}")


if __name__ == "__main__":
    sys.exit(main())
