#!/usr/bin/env python3
"""bench/run.py: the benchmark of issue 6. Writes the workloads (bench/data/, not committed),
runs shakedown, the libpcap read-only floor and the peers (tcptrace, argus, ndpiReader,
tshark -z conv,tcp) on the same files in one run, alternating tools within each round, and
prints a table: median wall time of N runs, packets/s, peak RSS, and shakedown's ratio to each.

  python3 bench/run.py [--runs 3] [--workloads W1,W2] [--no-peers] [--formats] [--build DIR]

Output goes to /dev/null for every tool. Peers missing from the machine are installed with
apt-get when run as root (tcptrace argus-server libndpi-bin tshark), else left out."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = {
    # name: (generator arguments, description)
    "W1": (["--conns", "20000", "--open", "1000", "--exchanges", "10", "--payload", "100"],
           "940k packets, 20k connections, 1k open at once, 10 exchanges, 100-byte payloads"),
    "W2": (["--conns", "200000", "--open", "50000", "--exchanges", "1", "--payload", "32"],
           "2.2M packets, 200k connections, 50k open at once, 1 exchange, 32-byte payloads"),
    "W2-v6": (["--conns", "200000", "--open", "50000", "--exchanges", "1", "--payload", "32",
               "--ipv6"], "W2 over IPv6"),
    "W3-open": (["--conns", "200000", "--open", "200000", "--exchanges", "1", "--payload", "32"],
                "200k connections all open at once"),
    "W1-lossy": (["--conns", "20000", "--open", "1000", "--exchanges", "10", "--payload", "100",
                  "--retransmit", "20", "--gap", "5"],
                 "W1 with 2% of data segments retransmitted and 0.5% missing from the capture"),
}

PEER_PACKAGES = {"tcptrace": "tcptrace", "argus": "argus-server", "ndpiReader": "libndpi-bin",
                 "tshark": "tshark"}


def build(builddir):
    subprocess.run(["cmake", "-S", ROOT, "-B", builddir, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", builddir, "-j", str(os.cpu_count() or 2), "--target",
                    "shakedown", "gen_workload", "pcap_floor"], check=True,
                   stdout=subprocess.DEVNULL)


def ensure_peers(wanted):
    missing = [t for t in wanted if shutil.which(t) is None]
    if missing and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q"] + [PEER_PACKAGES[t] for t in missing],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [t for t in wanted if shutil.which(t)]


def tool_commands(builddir, pcap, peers, formats):
    sd = os.path.join(builddir, "shakedown")
    cmds = {
        "libpcap read only": [os.path.join(builddir, "bench", "pcap_floor"), pcap],
        "shakedown (json)": [sd, "-F", "json", "-r", pcap],
        "shakedown (text)": [sd, "-F", "text", "-r", pcap],
        # issue 16: the same records from two analysis threads
        "shakedown (json, --workers 2)": [sd, "-F", "json", "--workers", "2", "-r", pcap],
    }
    if formats:  # the other formats (issue 14: within 10% of json)
        for name in ("zeek", "eve", "ecs"):
            cmds[f"shakedown ({name})"] = [sd, "-F", name, "-r", pcap]
    if "tcptrace" in peers:
        cmds["tcptrace"] = ["tcptrace", "-n", pcap]
    if "argus" in peers:
        cmds["argus"] = ["argus", "-r", pcap, "-w", "/dev/null"]
    if "ndpiReader" in peers:
        cmds["ndpiReader"] = ["ndpiReader", "-i", pcap, "-q"]
    if "tshark" in peers:
        cmds["tshark -z conv,tcp"] = ["tshark", "-q", "-n", "-z", "conv,tcp", "-r", pcap]
    return cmds


def measure(cmd):
    """Wall time and peak RSS (KiB) of one run of cmd, output to /dev/null."""
    with open(os.devnull, "wb") as null:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        return None
    return wall, ru.ru_maxrss


def count_packets(builddir, pcap):
    out = subprocess.run([os.path.join(builddir, "bench", "pcap_floor"), pcap],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def run_workload(name, builddir, datadir, runs, peers, formats):
    args, desc = WORKLOADS[name]
    pcap = os.path.join(datadir, name + ".pcap")
    if not os.path.exists(pcap):
        subprocess.run([os.path.join(builddir, "bench", "gen_workload"), pcap] + args, check=True)
    packets = count_packets(builddir, pcap)
    cmds = tool_commands(builddir, pcap, peers, formats)
    results = {tool: [] for tool in cmds}
    for _ in range(runs):  # alternate: one run of every tool per round
        for tool, cmd in cmds.items():
            r = measure(cmd)
            if r:
                results[tool].append(r)
    return desc, packets, results


def report(name, desc, packets, results):
    med = {t: (statistics.median(w for w, _ in r), max(m for _, m in r))
           for t, r in results.items() if r}
    sd = med.get("shakedown (json)")
    print(f"\n### {name}: {desc} ({packets} packets)\n")
    print("| tool | wall (median) | packets/s | peak RSS | shakedown (json) is |")
    print("|---|---|---|---|---|")
    for tool, (wall, rss) in med.items():
        ratio = ""
        if sd and tool != "shakedown (json)":
            ratio = f"{wall / sd[0]:.1f}x faster" if wall >= sd[0] else f"{sd[0] / wall:.1f}x slower"
        print(f"| {tool} | {wall:.3f} s | {packets / wall / 1e6:.2f} M | {rss / 1024:.0f} MB | "
              f"{ratio} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workloads", default="W1,W2")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--formats", action="store_true",
                    help="also time -F zeek, eve and ecs")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    a = ap.parse_args()
    build(a.build)
    datadir = os.path.join(ROOT, "bench", "data")
    os.makedirs(datadir, exist_ok=True)
    peers = [] if a.no_peers else ensure_peers(list(PEER_PACKAGES))
    print(f"shakedown benchmark: {a.runs} runs per tool, median; machine: {os.cpu_count()} cores;"
          f" peers: {', '.join(peers) or 'none'}")
    for name in a.workloads.split(","):
        if name not in WORKLOADS:
            sys.exit(f"unknown workload {name}: {', '.join(WORKLOADS)}")
        report(name, *run_workload(name, a.build, datadir, a.runs, peers, a.formats))


if __name__ == "__main__":
    main()
