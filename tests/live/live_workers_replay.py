#!/usr/bin/env python3
"""live_workers_replay: a live capture at the highest rate tcpreplay reaches here, with one and
with two analysis threads (--workers, issue 16). With --workers 2 shakedown reads the interface
through two capture sockets joined in one PACKET_FANOUT group, one per analysis thread.

A network namespace and a veth pair (livecommon.Veth): tcpreplay sends a generated workload
(bench/gen_workload: 4000 complete TCP connections, 300 open at once, 3 exchanges each: 4000 ×
(3 + 4 × 3 + 4) = 76,000 packets) out of VB inside the namespace as fast as it can (--topspeed);
every frame arrives on VA, where shakedown captures with the kernel filter 'tcp' (the veth pair's
own IPv6 neighbour discovery stays out):
  shakedown -i VA --workers N --checksums keep -F json -o OUT --stats-interval 0.25 -B 65536 tcp
Once tcpreplay is done and shakedown's stats records stop moving, SIGTERM. What must hold for
N = 1 and N = 2: every packet tcpreplay sent was either read by shakedown or counted as dropped
by the kernel or the interface (summary packets + capture.dropped + capture.if_dropped = sent);
every packet read was analysed; the summary and every record are valid (checked on the runs
with two workers); and when nothing was
dropped, every one of the 4000 connections has exactly one final record, closed by FIN, with
the 2 × 3 exchanges' payload bytes on each side. The rate tcpreplay reached and the drops are
logged (docs/scaling.md quotes them).

The sockets, while shakedown runs: `ss -0 -e -p` lists every packet socket of the namespace with
its process and, from the kernel's socket diagnostics (PACKET_DIAG_FANOUT), the fanout group id
and mode of each socket in one. With --workers 1 shakedown must have one socket on VA, in no
group; with --workers 2, two, both in the same group, in hash mode.

Then the stress run the issue asks for: a W1-sized workload (bench/run.py's W1: 20,000
connections, 1,000 open at once, 10 exchanges: 940,000 packets) at tcpreplay's top speed with
libpcap's default buffer, with 1 and 2 workers: the same accounting must hold (packets read +
kernel drops + interface drops = sent, every packet read analysed), drops or not; the rate and
the drops are logged. Finding the highest rate with no drop takes a sweep of set rates, too long
for the suite: `--sweep 100000,200000,...` runs it (W1 at each rate, 1 and 2 workers) instead.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import livecommon as lc  # noqa: E402

NAME = "live_workers_replay"
CONNS, OPEN, EXCHANGES, PAYLOAD = 4000, 300, 3, 100
PACKETS = CONNS * (3 + 4 * EXCHANGES + 4)
# (workers, capture buffer in KiB): a buffer that holds the whole burst, then one far too small
# for it, so that the kernel drops and the accounting is put to the test.
RUNS = ((1, 65536), (2, 65536), (1, 256), (2, 256))
W1 = ("--conns", "20000", "--open", "1000", "--exchanges", "10", "--payload", "100")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shakedown", required=True)
    ap.add_argument("--gen", required=True, help="bench/gen_workload")
    ap.add_argument("--sweep", help="packets per second to replay W1 at, comma-separated (not "
                    "the test: a measurement of the highest rate taken without drops)")
    args = ap.parse_args()
    lc.preflight(NAME, tools=("ip", "tcpreplay", "ss"))
    with lc.Test(NAME, deadline=150 if not args.sweep else 1800) as t:
        if args.sweep:
            sweep(t, args.shakedown, args.gen, [int(r) for r in args.sweep.split(",")])
        else:
            run(t, args.shakedown, args.gen)
    return t.status


def replay(veth, pcap, pps=None):
    """tcpreplay out of VB at top speed, or at pps: (packets sent, packets per second)."""
    speed = ["--topspeed"] if pps is None else [f"--pps={pps}"]
    r = subprocess.run([lc.which("ip"), "netns", "exec", veth.ns, lc.which("tcpreplay"), "-i",
                        veth.vb] + speed + [pcap], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, check=False)
    out = r.stdout.decode(errors="replace")
    if r.returncode != 0:
        raise lc.Failure(f"tcpreplay failed ({r.returncode}):\n{out}")
    sent = re.search(r"Actual: (\d+) packets", out)
    rate = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", out)
    failed = re.search(r"Failed packets:\s+(\d+)", out)
    if not sent or not rate:
        raise lc.Failure(f"cannot read tcpreplay's counts:\n{out}")
    if failed and int(failed.group(1)):
        raise lc.Failure(f"tcpreplay could not send {failed.group(1)} packets:\n{out}")
    return int(sent.group(1)), float(rate.group(1))


def settled(out):
    """The last stats record once two in a row read the same packet and drop counts."""
    stats = lc.by_type(lc.read_lines(out), "stats")
    if len(stats) < 2:
        return None
    a, b = stats[-2], stats[-1]
    key = lambda s: (s["packets"], s.get("capture", {}).get("dropped"))  # noqa: E731
    return b if key(a) == key(b) else None


def packet_sockets(pid, iface):
    """shakedown's packet sockets on iface as `ss -0 -e -p` lists them: for each, its fanout
    (group id, mode) or None when it is in no group."""
    r = subprocess.run([lc.which("ss"), "-0", "-e", "-p"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10, check=True)
    lines = r.stdout.decode(errors="replace").splitlines()
    socks = []
    for i, line in enumerate(lines):
        if f"pid={pid}," not in line or f":{iface} " not in line:
            continue
        fanout = None
        for more in lines[i + 1:]:  # the socket's detail lines are indented
            if not more[:1].isspace():
                break
            m = re.search(r"fanout\(id:(\d+),type:(\w+)", more)
            if m:
                fanout = (int(m.group(1)), m.group(2))
        socks.append(fanout)
    return socks


def check_sockets(sd, iface, workers):
    """One socket in no group for one worker; one socket per worker, all in one hash group."""
    socks = packet_sockets(sd.proc.pid, iface)
    if workers == 1:
        return [] if socks == [None] else [f"want one packet socket in no fanout group, ss "
                                           f"shows {socks}"]
    groups = set(socks)
    if len(socks) != workers or None in groups or len(groups) != 1 or \
            next(iter(groups))[1] != "hash":
        return [f"want {workers} packet sockets in one fanout group of type hash, ss shows "
                f"{socks}"]
    lc.log(f"--workers {workers}: {workers} sockets on {iface} in fanout group {socks[0]}")
    return []


def one_run(t, exe, veth, pcap, workers, buffer_kib, validate, pps=None, conns=CONNS,
            exchanges=EXCHANGES, stress=False):
    """stress: W1's 20,000 records may come faster than the writer takes them on a loaded
    machine (the suite runs the ASan build beside the release one): the output's queue is made
    to hold them all (--output-queue), and should records still be dropped, that is a live run's
    right answer as long as each one is counted (outputs[].dropped, exit status 3)."""
    out = t.path(f"out{workers}-{buffer_kib}.json")
    args = ["-i", veth.va, "--workers", str(workers), "--checksums", "keep", "-F", "json", "-o",
            out, "--stats-interval", "0.25", "tcp"]
    if buffer_kib:  # else libpcap's default
        args[-1:-1] = ["-B", str(buffer_kib)]
    if stress:
        args[-1:-1] = ["--output-queue", "32768"]
    sd = lc.Shakedown(t, exe, args)
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    bad = check_sockets(sd, veth.va, workers)
    sent, pps = replay(veth, pcap, pps)
    time.sleep(0.6)  # at least two stats records after the last packet
    lc.poll(lambda: settled(out), 15, "the stats records to settle", alive=sd)
    status = sd.stop(sig=signal.SIGTERM)
    err = sd.stderr()
    lc.check(status == 0 or (stress and status == 3),
             f"--workers {workers}: exit status {status}; stderr:\n{err}")
    recs = lc.strict_lines(out)
    if validate:  # the schema check of 4000 records takes seconds: the two-worker runs
        lc.validate([out], whole_run=True)
    summary = recs[-1]
    lost = sum(o["dropped"] for o in summary["outputs"])
    if (status == 3) != (lost > 0):
        bad.append(f"exit status {status} with {lost} records dropped by the output's queue")
    if lost:  # every connection's final record either written or counted as dropped
        written = len(lc.finals(recs))
        total = summary["connections"]["total"]
        lc.log(f"--workers {workers}: {lost} records dropped by a full output queue (counted)")
        if written + lost < total:
            bad.append(f"{total} connections, {written} final records written + {lost} "
                       f"dropped: some unaccounted for")
    cap = summary.get("capture") or {}
    read, dropped, if_dropped = summary["packets"], cap.get("dropped"), cap.get("if_dropped")
    if dropped is None or if_dropped is None:
        bad.append(f"no capture counters in the summary: {cap}")
    elif read + dropped + if_dropped != sent:
        bad.append(f"{sent} sent, but {read} read + {dropped} dropped by the kernel + "
                   f"{if_dropped} by the interface = {read + dropped + if_dropped}")
    if summary["analysed"] != read:
        bad.append(f"{summary['analysed']} of {read} packets read were analysed")
    finals = lc.finals(recs)
    if dropped == 0 and if_dropped == 0 and lost == 0:
        per = {}
        for x in finals:
            per[lc.key_of(x)] = per.get(lc.key_of(x), 0) + 1
        want = exchanges * PAYLOAD
        wrong = [x for x in finals if x["close"].get("how") != "fin"
                 or (x["orig"]["payload_bytes"], x["resp"]["payload_bytes"]) != (want, want)]
        if len(per) != conns or any(n != 1 for n in per.values()):
            bad.append(f"nothing dropped, yet {len(per)} connections with "
                       f"{len(finals)} final records (want {conns}, one each)")
        if wrong:
            bad.append(f"{len(wrong)} records not closed by FIN with {want} bytes each way, "
                       f"e.g. {wrong[0]}")
    lc.log(f"--workers {workers} -B {buffer_kib or 'default'}: {sent} packets sent at {pps:.0f} "
           f"pps; {read} read, {dropped} dropped by the kernel, {if_dropped} by the interface; "
           f"{len(finals)} connection records")
    return bad


def generate(gen, pcap, args):
    subprocess.run([gen, pcap] + list(args), check=True, stdout=subprocess.DEVNULL)


def stress(t, exe, gen, veth, rates=(None,)):
    """W1 at each rate (None: top speed), 1 and 2 workers, libpcap's default buffer."""
    w1 = t.path("w1.pcap")
    generate(gen, w1, W1)
    bad = []
    for pps in rates:
        for workers in (1, 2):
            bad += [f"W1 --workers {workers} at {pps or 'top speed'}: {b}"
                    for b in one_run(t, exe, veth, w1, workers, 0, False, pps, 20000, 10, True)]
    return bad


def sweep(t, exe, gen, rates):
    veth = lc.Veth(t)
    bad = stress(t, exe, gen, veth, rates)
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


def run(t, exe, gen):
    pcap = t.path("workload.pcap")
    generate(gen, pcap, ["--conns", str(CONNS), "--open", str(OPEN), "--exchanges",
                         str(EXCHANGES), "--payload", str(PAYLOAD)])
    veth = lc.Veth(t)
    bad = []
    for workers, buffer_kib in RUNS:
        bad += [f"--workers {workers} -B {buffer_kib}: {b}"
                for b in one_run(t, exe, veth, pcap, workers, buffer_kib,
                                 workers == 2)]
    bad += stress(t, exe, gen, veth)
    veth.teardown()
    left = veth.gone()
    if left:
        bad.append(f"left behind after teardown: {left}")
    if bad:
        raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    sys.exit(main())
