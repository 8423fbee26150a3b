#!/usr/bin/env python3
"""live_hardening_reopen: SIGHUP does not follow a planted symlink (issue 18, point 4).

shakedown -i lo --checksums keep -F json -o STICKY/out.json 'tcp port P', where STICKY is a
directory of mode 1777 owned by root (like /tmp), while a loop of real connections runs. Once
out.json holds 10 records it is moved to out.json.1 (logrotate), and user nobody's symlink
out.json -> VICTIM (a file of root's) takes its place — what another user of /tmp could do.
Then SIGHUP. shakedown runs as root, neither the link's owner nor the directory's, so the rule
of fs.protected_symlinks forbids following it (this kernel need not enforce the rule; shakedown
must). Checked: VICTIM unchanged; stderr says the output could not be reopened; the records go on
into the file open before (out.json.1): after SIGINT it holds every connection exactly once and
ends with the summary; exit status 0.
"""

import argparse
import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
from live_rotation import Loop, check_union  # noqa: E402

NAME = "live_hardening_reopen"
NOBODY = 65534


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    lc.preflight(NAME)
    with lc.Test(NAME, deadline=40) as t:
        sticky = t.path("sticky")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        out, old = os.path.join(sticky, "out.json"), os.path.join(sticky, "out.json.1")
        victim = t.path("victim")
        with open(victim, "w") as f:
            f.write("root's file\n")
        server = lc.traffic_server(t)
        P = lc.port(server.sock)
        sd = lc.Shakedown(t, args.shakedown, ["-i", "lo", "--checksums", "keep", "-F", "json",
                                              "-o", out, "--stats-interval", "0.25",
                                              f"tcp port {P}"])
        lc.poll(lambda: lc.by_type(lc.read_lines(out), "stats"), 10, "the first stats record",
                alive=sd)
        server.start()
        t.defer(server.stop)
        loop = Loop(t, server, gap=0.01)
        lc.poll(lambda: len(lc.finals(lc.read_lines(out))) >= 10, 10, "10 records in OUT",
                alive=sd)
        os.rename(out, old)
        os.symlink(victim, out)
        os.lchown(out, NOBODY, NOBODY)
        at_hup = len(lc.finals(lc.read_lines(old)))
        sd.send(signal.SIGHUP)
        lc.poll(lambda: "cannot reopen" in sd.stderr(), 5, "the reopen refused on stderr",
                alive=sd)
        lc.poll(lambda: len(lc.finals(lc.read_lines(old))) >= at_hup + 10, 10,
                "10 more records in OUT.1 after the SIGHUP", alive=sd)
        loop.stop()
        server.stop()
        lc.check(not loop.errors and not server.errors, f"traffic: {loop.errors + server.errors}")
        lc.poll(lambda: set(loop.made) <= {lc.key_of(r) for r in lc.finals(lc.read_lines(old))},
                10, f"the records of all {len(loop.made)} connections", alive=sd)
        status = sd.stop()
        err = sd.stderr()
        bad = []
        if status != 0:
            bad.append(f"exit status {status} after SIGINT, expected 0; stderr:\n{err}")
        if "symlink" not in err:
            bad.append(f"stderr does not say why the symlink was refused:\n{err}")
        with open(victim) as f:
            if f.read() != "root's file\n":
                bad.append("the symlink was followed: VICTIM was written")
        lc.validate([old], whole_run=True)
        check_union([old], loop.made, bad)
        recs = lc.strict_lines(old)
        if not recs or recs[-1].get("type") != "summary":
            bad.append("OUT.1 does not end with the summary")
        lc.log(f"{len(loop.made)} connections, {at_hup} of them written before the SIGHUP")
        if bad:
            raise lc.Failure(f"{len(bad)} problems:\n  " + "\n  ".join(bad))
    return t.status


if __name__ == "__main__":
    sys.exit(main())
