#!/usr/bin/env python3
"""live_privdrop: -Z USER drops root after opening the capture (issue 5, test 3).

shakedown -i lo -Z nobody --checksums keep -F json -o OUT 'tcp port P': once the drop is done,
/proc/PID/status shows nobody's uid in all four Uid fields (real, effective, saved, filesystem),
nobody's gid in all four Gid fields, nobody's group as the only supplementary group (no root
group), and no capabilities left. It still captures: a real connection made afterwards is
reported (SF, close.how fin) while it runs, and after SIGINT it exits 0 with the summary.
Then -Z nosuchuser: one line on stderr naming the user, exit status 2.
"""

import os
import pwd
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import traffic  # noqa: E402

NAME = "live_privdrop"
USER = "nobody"


def status_fields(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def main():
    return lc.main(NAME, __doc__, run, 30)


def run(t, exe):
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        raise lc.Failure(f"user {USER} does not exist on this system") from None
    uid, gid = str(pw.pw_uid), str(pw.pw_gid)
    server = lc.traffic_server(t)
    P = lc.port(server.sock)
    out = t.path("out.json")
    sd = lc.Shakedown(t, exe, ["-i", "lo", "-Z", USER, "--checksums", "keep", "-F", "json",
                               "-o", out, f"tcp port {P}"])
    pid = sd.proc.pid
    # The drop is the last step of the setup (after the capture and the output are open).
    st = lc.poll(lambda: (lambda f: f if f["Uid"][0] == uid else None)(status_fields(pid)), 10,
                 f"pid {pid} to run as {USER}", alive=sd)
    lc.log(f"/proc/{pid}/status: Uid {st['Uid']} Gid {st['Gid']} Groups {st.get('Groups')} "
           f"CapEff {st['CapEff']} CapPrm {st['CapPrm']}")
    bad = []
    if st["Uid"] != [uid] * 4:
        bad.append(f"Uid {st['Uid']}, expected {[uid] * 4}")
    if st["Gid"] != [gid] * 4:
        bad.append(f"Gid {st['Gid']}, expected {[gid] * 4}")
    groups = st.get("Groups", [])
    if "0" in groups or groups != [gid]:
        bad.append(f"supplementary groups {groups}, expected [{gid}] only")
    for cap in ("CapEff", "CapPrm"):
        if int(st[cap][0], 16) != 0:
            bad.append(f"{cap} {st[cap][0]}: capabilities left after the drop")
    if bad:
        raise lc.Failure("privileges not dropped as documented:\n  " + "\n  ".join(bad))

    # It still captures.
    server.start()
    t.defer(server.stop)
    conn = traffic.Conn(0, traffic.CLIENT_FIRST, 50, 60)
    traffic._client(conn, P, 1)
    server.stop()
    lc.check(not server.errors, f"server: {server.errors}")
    key = (tuple(conn.local), tuple(conn.remote))
    rec = lc.poll(lambda: [r for r in lc.finals(lc.read_lines(out)) if lc.key_of(r) == key], 10,
                  f"the record of {key} (captured after the drop)", alive=sd)[0]
    lc.check((rec["conn_state"], rec["close"].get("how")) == ("SF", "fin"),
             f"{key}: conn_state {rec['conn_state']}, close.how {rec['close'].get('how')}, "
             f"expected SF/fin")
    status = sd.stop()
    err = sd.stderr()
    lc.check(status == 0, f"exit status {status} after SIGINT, expected 0; stderr:\n{err}")
    lc.check_banner_only(err, "lo")
    recs = lc.strict_lines(out)
    lc.validate([out], whole_run=True)
    n = [lc.key_of(r) for r in lc.finals(recs)].count(key)
    lc.check(n == 1, f"{key} reported {n} times, expected once")

    # An unknown user: one line, exit status 2.
    r = subprocess.run([exe, "-i", "lo", "-Z", "nosuchuser", "-F", "json", "-o",
                        t.path("nosuchuser.json"), f"tcp port {P}"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10, check=False)
    e = r.stderr.decode(errors="replace")
    lc.log(f"-Z nosuchuser: status {r.returncode}, stderr {e!r}")
    lc.check(r.returncode == 2, f"-Z nosuchuser: exit status {r.returncode}, expected 2")
    lc.check(e.count("\n") == 1 and e.endswith("\n") and "nosuchuser" in e,
             f"-Z nosuchuser: expected one line naming the user on stderr, got {e!r}")
    lc.check(r.stdout == b"", f"-Z nosuchuser wrote to stdout: {r.stdout[:200]!r}")


if __name__ == "__main__":
    sys.exit(main())
