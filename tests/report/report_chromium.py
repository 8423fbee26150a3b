"""report_chromium: opens shakedown's HTML report (--report, issue 15) in real headless Chromium,
as a person would, and fails on any console error, uncaught exception or network request; checks
that the numbers on the page equal the JSON summary of the same run; filters and sorts the table;
clicks a connection and finds its ladder with the states worked out below; saves screenshots.

With --pcap (a given capture, e.g. a shared trace) or --many N (N connections written by
bench/gen_workload) the page-versus-summary checks apply, and every TCP connection of a small
capture must have its ladder with all its segments.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: file
descriptors 3 and 4, one JSON message per NUL), so nothing but the Debian package chromium is
needed. Without chromium the test FAILS saying so, unless SHAKEDOWN_SKIP_BROWSER=1 (exit 77).

The capture (written here, Ethernet, µs timestamps) holds, 0.5 s apart:
  A 10.1.0.1:40001 -> 192.0.2.1:80  SYN, SYN/ACK, ACK, 100 bytes, ACK, 300 bytes back, ACK,
    client FIN, ACK, server FIN, ACK (a 4-way close: SF, fin);
  B 10.1.0.2:40002 -> 192.0.2.1:80  handshake, 50 bytes, then the server's RST (RSTR, rst);
  C 10.1.0.3:40003 -> 192.0.2.1:80  handshake, 100 bytes sent twice 300 ms apart (a
    retransmission), ACK, 4-way close;
  D 10.1.0.4:40004 -> 192.0.2.1:443 a lone SYN, never answered (S0 at the end of the capture,
    2 s later: syn_unanswered);
  E 10.1.0.5:40005 -> 192.0.2.1:80  a lone SYN at the very end (within the answer grace).
"""

import argparse
import base64
import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "live"))
import pcapgen  # noqa: E402  (the checksummed TCP frame builder the live tests use)

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SERVER = bytes([192, 0, 2, 1])


def conn_frames(t0, client, sport, dport, script):
    """Frames (time, bytes) of one connection from a script of (delay s, side, flags, len[,
    "again"]): seq and ack follow what each side sent; "again" resends the side's previous
    segment's bytes (same seq) instead of new ones."""
    nxt = {0: 1000, 1: 5000}
    last = {0: None, 1: None}
    out, t = [], t0
    for delay, side, flags, n, *again in script:
        t += delay
        src, dst = (client, SERVER) if side == 0 else (SERVER, client)
        sp, dp = (sport, dport) if side == 0 else (dport, sport)
        if again:
            seq, n = last[side]
        else:
            seq = nxt[side]
            last[side] = (seq, n)
            nxt[side] = seq + n + (1 if flags & (SYN | FIN) else 0)
        ack = nxt[1 - side] if flags & ACK else 0
        out.append((t, pcapgen._frame(src, dst, sp, dp, seq, ack, flags, b"x" * n)))
    return out


def handshake():
    return [(0, 0, SYN, 0), (0.01, 1, SYN | ACK, 0), (0.01, 0, ACK, 0)]


def close4():
    return [(0.01, 0, FIN | ACK, 0), (0.01, 1, ACK, 0), (0.01, 1, FIN | ACK, 0), (0.01, 0, ACK, 0)]


def write_capture(path):
    base = 1704067200.0
    frames = []
    frames += conn_frames(base, bytes([10, 1, 0, 1]), 40001, 80, handshake() + [
        (0.01, 0, PSH | ACK, 100), (0.01, 1, ACK, 0), (0.01, 1, PSH | ACK, 300), (0.01, 0, ACK, 0)]
        + close4())
    frames += conn_frames(base + 0.5, bytes([10, 1, 0, 2]), 40002, 80, handshake() + [
        (0.01, 0, PSH | ACK, 50), (0.01, 1, RST | ACK, 0)])
    frames += conn_frames(base + 1.0, bytes([10, 1, 0, 3]), 40003, 80, handshake() + [
        (0.01, 0, PSH | ACK, 100), (0.3, 0, PSH | ACK, 100, "again"), (0.01, 1, ACK, 0)] + close4())
    frames += conn_frames(base + 1.5, bytes([10, 1, 0, 4]), 40004, 443, [(0, 0, SYN, 0)])
    frames += conn_frames(base + 3.5, bytes([10, 1, 0, 5]), 40005, 80, [(0, 0, SYN, 0)])
    frames.sort(key=lambda f: f[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, data in frames:
            sec, usec = int(t), int(round((t - int(t)) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)


def high_fd(fd):
    """fd moved to 10 or above, so that dup2 onto 3 and 4 in the child cannot clobber it."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """Headless Chromium over the DevTools pipe."""

    def __init__(self, chromium, profile):
        to_child_r, self.to_child = (high_fd(fd) for fd in os.pipe())
        self.from_child, from_child_w = (high_fd(fd) for fd in os.pipe())

        def fds():  # in the child: its ends as descriptors 3 and 4 (dup2: inheritable)
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--disable-extensions", "--disable-background-networking",
             "--disable-sync", "--disable-component-update", "--user-data-dir=" + profile,
             "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=20):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
        raise TimeoutError(method)

    def read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self.from_child, 65536)
            if not chunk:
                raise RuntimeError("chromium went away")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        m = json.loads(raw)
        if "method" in m:
            self.events.append(m)
        return m

    def wait_event(self, method, timeout=20):
        deadline = time.time() + timeout
        while True:
            for e in self.events:
                if e["method"] == method:
                    return e
            self.read(deadline)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(domain + ".enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1300, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path, full=True):
        params = {"format": "png", "captureBeyondViewport": full}
        if full:
            h = self.eval("document.documentElement.scrollHeight")
            params["clip"] = {"x": 0, "y": 0, "width": 1300, "height": h, "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Checks:
    def __init__(self):
        self.failed = []

    def eq(self, what, got, want):
        if got != want:
            self.failed.append(f"{what}: page shows {got!r}, want {want!r}")

    def true(self, what, cond):
        if not cond:
            self.failed.append(what)


def problems(events, page_url):
    """Console errors, uncaught exceptions and network requests other than the page itself."""
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            out.append(f"console {p['type']}: {[a.get('value') for a in p.get('args', [])]}")
        elif m == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails'].get('text')} "
                       f"{p['exceptionDetails'].get('exception', {}).get('description')}")
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            out.append(f"log {p['entry']['level']}: {p['entry']['text']}")
        elif m == "Network.requestWillBeSent" and p["request"]["url"] != page_url:
            out.append(f"network request: {p['request']['url']}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shakedown", required=True)
    ap.add_argument("--screenshots", help="directory for report.png and report-detail.png")
    ap.add_argument("--pcap", help="report this capture instead of the generated one (only the "
                    "page-versus-summary and detail checks apply); exit 77 (skipped) if it is "
                    "not there")
    ap.add_argument("--workers", help="run shakedown with --workers N")
    ap.add_argument("--many", type=int, help="report a capture of this many connections written "
                    "by --gen-workload (bench/gen_workload.c) instead: the page must still work")
    ap.add_argument("--gen-workload", help="the gen_workload binary, for --many")
    args = ap.parse_args()
    if args.pcap and not os.path.exists(args.pcap):
        print(f"report_chromium: {args.pcap} not found (the shared traces: ../shared/traces)")
        return 77
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("report_chromium: chromium not found (Debian package: chromium; scripts/setup.sh);"
              " set SHAKEDOWN_SKIP_BROWSER=1 to skip")
        return 77 if os.environ.get("SHAKEDOWN_SKIP_BROWSER") == "1" else 1
    tmp = tempfile.mkdtemp(prefix="shakedown-report-")
    try:
        return run(args, chromium, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, chromium, tmp):
    pcap = args.pcap or os.path.join(tmp, "report.pcap")
    if args.many:  # 1000 open at a time, one 1-byte exchange each: 11 packets a connection
        subprocess.run([args.gen_workload, pcap, "--conns", str(args.many), "--open", "1000",
                        "--exchanges", "1", "--payload", "1"], check=True, timeout=60)
    elif not args.pcap:
        write_capture(pcap)
    html, js = os.path.join(tmp, "report.html"), os.path.join(tmp, "records.json")
    workers = ["--workers", args.workers] if args.workers else []
    r = subprocess.run([args.shakedown, "-r", pcap, "-F", "json", "-o", js, "--report", html]
                       + workers, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        print(f"shakedown exited {r.returncode}: {r.stderr}")
        return 1
    records = [json.loads(line) for line in open(js)]
    summary = [x for x in records if x["type"] == "summary"][-1]
    conns = {(x["src_ip"], x["src_port"]): x for x in records if x["type"] == "connection"}
    sev = {x["name"]: x["severity"] for x in records if x["type"] == "anomaly"}

    ch = Checks()
    b = Browser(chromium, os.path.join(tmp, "profile"))
    try:
        url = "file://" + html
        b.open(url)
        ch.eq("page ready", b.eval("document.body.getAttribute('data-ready')"), "1")
        # The summary block against the JSON summary record.
        num = "parseInt(document.querySelector('#s-{} b').textContent.replace(/,/g, ''))"
        cs = summary["connections"]
        for key, want in (("packets", summary["packets"]), ("connections", cs["total"]),
                          ("tcp", cs["tcp"]), ("udp", cs["udp"]), ("icmp", cs["icmp"]),
                          ("anomalies", sum(summary["anomalies"].values()))):
            ch.eq(f"summary {key}", b.eval(num.format(key)), want)
        table = ("Object.fromEntries([...document.querySelectorAll('#{} tr[data-key]')].map("
                 "tr => [tr.dataset.key, parseInt(tr.lastChild.textContent.replace(/,/g, ''))]))")
        ch.eq("by conn_state", b.eval(table.format("by-state")), cs["by_conn_state"])
        ch.eq("by close", b.eval(table.format("by-close")), cs["by_close"])
        ch.eq("anomalies by name", b.eval(table.format("by-anomaly")), summary["anomalies"])
        page_sev = b.eval("Object.fromEntries([...document.querySelectorAll('#by-anomaly "
                          "tr[data-key]')].map(tr => [tr.dataset.key, tr.children[1].textContent]))")
        for name, s in sev.items():
            ch.eq(f"severity of {name}", page_sev.get(name), s)
        ch.eq("table total", b.eval("parseInt(document.getElementById('page-info').dataset.total)"),
              cs["total"])
        ch.eq("duration histogram total",
              b.eval("parseInt(document.querySelector('#hist-dur svg').dataset.total)"),
              cs["total"])
        if args.screenshots:
            b.screenshot(os.path.join(args.screenshots, "report.png"))
        if not args.pcap and not args.many:
            check_interaction(b, ch, conns)
        else:
            check_given_capture(b, ch, conns)
        if args.screenshots:
            b.screenshot(os.path.join(args.screenshots, "report-detail.png"))
        ch.failed += problems(b.events, url)
    finally:
        b.close()
    for f in ch.failed:
        print("FAIL:", f)
    if not ch.failed:
        print(f"report_chromium: ok ({len(conns)} connections, no console error or request)")
    return 1 if ch.failed else 0


def check_given_capture(b, ch, conns):
    """A given capture: with no more TCP connections than the report keeps the detail of (200
    without a notable anomaly, 200 with), whatever the order the workers hand them over in,
    every one has its ladder with all its segments (kept, or counted as not kept); its busiest
    TCP connection is shown."""
    tcp = [c for c in conns.values() if c["proto"] == "tcp"]
    if len(tcp) <= 200:
        kept = b.eval("Object.fromEntries([...details.values()].map(d => [d.uid, "
                      "d.skipped + d.p.length + d.more]))")
        ch.eq("segments kept of each connection", kept,
              {c["uid"]: c["orig"]["pkts"] + c["resp"]["pkts"] for c in tcp})
    busiest = max(tcp, key=lambda c: c["orig"]["pkts"] + c["resp"]["pkts"], default=None)
    if busiest:
        row = f"document.querySelector('#conn-table tr[data-uid=\"{busiest['uid']}\"]')"
        if not b.eval(f"!!{row}"):  # not on the first page: filter the table down to it
            b.eval(f"(() => {{ const f = document.getElementById('filter'); f.value = "
                   f"'{busiest['uid']}'; f.dispatchEvent(new Event('input')); }})()")
        b.eval(f"{row}.click()")
        shown = b.eval("document.querySelectorAll('#ladder-svg line').length > 2 || "
                       "document.getElementById('detail-note').textContent"
                       ".startsWith('No per-segment detail')")
        ch.true(f"{busiest['uid']}: its ladder, or why it has none", shown)


def check_interaction(b, ch, conns):
    """Filter, sort and click, on the generated capture (see the module comment)."""
    a, rst = conns[("10.1.0.1", 40001)], conns[("10.1.0.2", 40002)]
    # Filtering on B's port leaves B alone.
    b.eval("(() => { const f = document.getElementById('filter'); f.value = '40002';"
           " f.dispatchEvent(new Event('input')); })()")
    ch.eq("filter 40002", b.eval("[...document.querySelectorAll('#conn-table tbody tr')]"
                                 ".map(tr => tr.dataset.uid)"), [rst["uid"]])
    b.eval("(() => { const f = document.getElementById('filter'); f.value = '';"
           " f.dispatchEvent(new Event('input')); })()")
    # Sorting by orig bytes, twice (descending): A, C and B sent data, D and E a SYN each; the
    # most is C's (SYN 44 + ACK 40 + 2 × 140 data + FIN 40 + ACK 40 = 444).
    for _ in range(2):
        b.eval("document.querySelector('#conn-table th[data-col=\"10\"]').click()")
    first = b.eval("document.querySelector('#conn-table tbody tr').dataset.uid")
    want = max(conns.values(), key=lambda c: c["orig"]["bytes"])
    ch.eq("largest originator first", first, want["uid"])
    ch.eq("C's originator bytes", want["orig"]["bytes"], 444)
    # Clicking A shows its ladder: the states of a 4-way close in the order they change —
    # the SYN: SYN_SENT, LISTEN; the SYN/ACK: SYN_RECEIVED; the ACK: ESTABLISHED both; the
    # client's FIN: FIN_WAIT_1; the server's ACK: FIN_WAIT_2, CLOSE_WAIT; the server's FIN:
    # LAST_ACK; the last ACK: TIME_WAIT, CLOSED.
    b.eval(f"document.querySelector('#conn-table tr[data-uid=\"{a['uid']}\"]').click()")
    states = b.eval("[...document.querySelectorAll('#ladder-svg text.state')]"
                    ".map(t => t.textContent)")
    ch.eq("A's ladder states", states,
          ["SYN_SENT", "LISTEN", "SYN_RECEIVED", "ESTABLISHED", "ESTABLISHED", "FIN_WAIT_1",
           "FIN_WAIT_2", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSED"])
    # Its time-sequence graph: the responder sent more (300 bytes against 100), so its data is
    # drawn: its SYN/ACK, its 300 bytes and its FIN are the bars; no retransmission.
    ch.eq("A's time-sequence bars", b.eval("document.querySelectorAll('#tseq-svg .seg').length"), 3)
    ch.eq("A's retransmissions", b.eval("document.querySelectorAll('#tseq-svg .retx').length"), 0)
    ch.true("A's ACK line", b.eval("!!document.querySelector('#tseq-svg .ack-line')"))
    # Which connections have a ladder: all five are TCP and far fewer than the report keeps, so
    # every one has its segments from the first on ("ladder" in the detail column).
    ch.eq("detail column", b.eval("[...document.querySelectorAll('#conn-table tbody tr')]"
                                  ".map(tr => tr.lastChild.textContent)"), ["ladder"] * 5)
    ch.true("detail policy", "for 5 of 5 TCP connections" in
            b.eval("document.getElementById('detail-policy').textContent"))


if __name__ == "__main__":
    sys.exit(main())
