#!/usr/bin/env python3
"""live_workers_checksums: --checksums auto (the default) with --workers 2 on a live capture judges
a source once for the run, as a file run does (issue 13 §1).

The capture (pcapgen.bad_checksums): 600 TCP data segments from 10.0.0.9 to 10.0.0.10, 60 flows
(ports 41000-41059) of 10, every TCP checksum wrong and not the partial sum an offloading host
leaves. The rule: when more than 100 of a source's first 1000 checksummed packets are bad, the
source is taken as offloading from the packet that crosses the line; the bad ones before it stay
left out. Every packet here is bad, so the 101st the run judges switches 10.0.0.9: 100 left out,
500 analysed, one line on stderr, one source in the summary. 100 of 600 is less than a quarter,
so no "use --checksums keep" hint either. A file run of the same capture must say the same
(checked first, as the reference).

Live: a network namespace of its own (so nothing else on the machine's lo is captured, and the
test captures nothing of anyone else's), its lo up; inside it
  shakedown -i lo --workers 2 -F json -o OUT --stats-interval 0.25 'host 10.0.0.9'
and, once it captures, tcpreplay -i lo of the capture (0.6 s: 1 ms apart). The kernel splits
the frames between the two capture sockets by flow hash: 60 flows of 10 frames, so each thread
gets about 300 — far more than 101 — and were each thread to judge the source on its own (as
before this test), the source would be switched twice: two lines, listed twice, 200 left out and
the hint. Once the stats records count 600 packets, SIGINT: exit status 0; stderr is the banner
and exactly one switch line for 10.0.0.9 (101 of its first 101 checksummed packets, 100 earlier
ones left out); the summary: 600 packets, checksum_dropped 100, analysed 500, 600 TCP checksums
bad, checksum_offload_sources ["10.0.0.9"]; every line valid.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import livecommon as lc  # noqa: E402
import pcapgen  # noqa: E402

NAME = "live_workers_checksums"
SRC, DST = "10.0.0.9", "10.0.0.10"
FLOWS, PER_FLOW = 60, 10
SENT = FLOWS * PER_FLOW  # 600, all bad
DROPPED = 100  # the bad ones before the 101st, which crosses "more than 100 of 1000"
SWITCH = (f"shakedown: {SRC}: 101 of its first 101 checksummed packets had a bad checksum "
          f"(more than 100 of 1000): taking it as offloading checksums from frame ")
SWITCH_END = "on; its 100 earlier ones were left out\n"


def summary_problems(summary, where):
    """What the summary of either run must say, by the rule (the module docstring)."""
    want = {"packets": SENT, "checksum_dropped": DROPPED, "analysed": SENT - DROPPED}
    bad = [f"{where}: {k} {summary.get(k)}, expected {v}" for k, v in want.items()
           if summary.get(k) != v]
    tcp_bad = summary.get("checksums", {}).get("tcp", {}).get("bad")
    if tcp_bad != SENT:
        bad.append(f"{where}: checksums.tcp.bad {tcp_bad}, expected {SENT}")
    if summary.get("checksum_offload_sources") != [SRC]:
        bad.append(f"{where}: checksum_offload_sources {summary.get('checksum_offload_sources')}, "
                   f"expected [{SRC!r}] (one source, once)")
    return bad


def stderr_problems(err, where):
    """Exactly one switch line, for SRC, and no hint to use --checksums keep."""
    lines = err.splitlines(keepends=True)
    switches = [x for x in lines if "taking it as offloading checksums" in x]
    bad = []
    if len(switches) != 1 or not (switches[0].startswith(SWITCH) and
                                  switches[0].endswith(SWITCH_END)):
        bad.append(f"{where}: want one line '{SWITCH}N {SWITCH_END.strip()}', stderr:\n{err}")
    if "--checksums keep" in err:
        bad.append(f"{where}: the --checksums keep hint, though the source was switched:\n{err}")
    return bad


def file_run(t, exe, pcap):
    r = subprocess.run([exe, "-F", "json", "-r", pcap, "-o", t.path("file.json")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    err = r.stderr.decode(errors="replace")
    lc.check(r.returncode == 0, f"file run: exit status {r.returncode}; stderr:\n{err}")
    return summary_problems(lc.strict_lines(t.path("file.json"))[-1], "file run") + \
        stderr_problems(err, "file run")


def packets_counted(out):
    stats = lc.by_type(lc.read_lines(out), "stats")
    return stats and stats[-1]["packets"] >= SENT


def run(t, exe):
    pcap = t.path("bad.pcap")
    pcapgen.bad_checksums(pcap, SRC, DST, FLOWS, PER_FLOW)
    bad = file_run(t, exe, pcap)

    lo = lc.PrivateLo(t)
    out = t.path("live.json")
    argv = lo.cmd(exe, "-i", "lo", "--workers", "2", "-F", "json", "-o", out, "--stats-interval",
                  "0.25", f"host {SRC}")
    sd = lc.Shakedown(t, argv[0], argv[1:])
    lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
            alive=sd)
    r = subprocess.run(lo.cmd(lc.which("tcpreplay"), "-i", "lo", pcap), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20, check=False)
    lc.check(r.returncode == 0, f"tcpreplay failed:\n{r.stdout.decode(errors='replace')}")
    lc.poll(lambda: packets_counted(out), 10, f"stats records counting {SENT} packets", alive=sd)
    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"shakedown exited with status {status} after SIGINT; stderr:\n{err}")
    bad += stderr_problems(lc.without_banner(err, "lo"), "--workers 2")
    summary = lc.strict_lines(out)[-1]
    bad += summary_problems(summary, "--workers 2")
    lc.log(f"--workers 2: checksum_dropped {summary.get('checksum_dropped')}, sources "
           f"{summary.get('checksum_offload_sources')}")
    if bad:
        raise lc.Failure("\n  " + "\n  ".join(bad))
    lc.validate([out], whole_run=True)


if __name__ == "__main__":
    sys.exit(lc.main(NAME, __doc__, run, 40, tools=("ip", "tcpreplay")))
