"""docs_examples: the examples the README and the man page show from samples/multi.pcap are what
the program does now. Uids are derived from the capture (first frame, time, addresses), so a
change to the sample or to the uid leaves the documents naming connections that no longer exist
(`--ladder UID` then exits 2). Checked:
  - the README's ladder example: its command run as written prints exactly the block below it;
  - the README's JSON record and the man page's ladder header name the uid of the connection
    from 192.0.2.10:50001 that they show;
  - docs/ladder-example.svg is what --ladder-svg writes for the README's ladder uid.

Usage: docs_examples.py SHAKEDOWN REPO_DIR
"""

import json
import os
import re
import subprocess
import sys
import tempfile


def run(shakedown, repo, args):
    r = subprocess.run([shakedown] + args, cwd=repo, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: shakedown {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def main():
    shakedown, repo = sys.argv[1], sys.argv[2]
    readme = open(os.path.join(repo, "README.md")).read()
    man = open(os.path.join(repo, "docs", "shakedown.1")).read()
    failed = []

    # The ladder example: "$ shakedown ARGS" then the output, up to the closing fence.
    m = re.search(r"^\$ shakedown (-r samples/multi\.pcap --ladder (C\w{16}))\n(.*?)^```",
                  readme, re.M | re.S)
    if not m:
        raise SystemExit("FAIL: no ladder example in README.md")
    ladder_uid, shown = m.group(2), m.group(3)
    got = run(shakedown, repo, m.group(1).split())
    if got.rstrip("\n") != shown.rstrip("\n"):
        failed.append(f"README ladder example differs; the program prints:\n{got}")

    # The connection from port 50001, which the JSON example and the man page's ladder show.
    recs = [json.loads(x) for x in run(shakedown, repo, ["-F", "json", "-r",
                                                         "samples/multi.pcap"]).splitlines()]
    uid_50001 = next(r["uid"] for r in recs
                     if r["type"] == "connection" and r.get("src_port") == 50001)
    m = re.search(r'^\{"type":"connection","uid":"(C\w{16})".*?"src_port":50001', readme,
                  re.M | re.S)
    if not m or m.group(1) != uid_50001:
        failed.append(f"README JSON example: uid {m and m.group(1)}, the record's {uid_50001}")
    m = re.search(r"^(C\w{16})  tcp  192\.0\.2\.10:50001 ", man, re.M)
    if not m or m.group(1) != uid_50001:
        failed.append(f"man page ladder example: uid {m and m.group(1)}, the record's "
                      f"{uid_50001}")

    # The SVG example.
    with tempfile.TemporaryDirectory() as d:
        run(shakedown, repo, ["-r", "samples/multi.pcap", "--ladder", ladder_uid,
                              "--ladder-svg", d, "-o", os.devnull])
        svg = open(os.path.join(d, ladder_uid + ".svg")).read()
    if svg != open(os.path.join(repo, "docs", "ladder-example.svg")).read():
        failed.append(f"docs/ladder-example.svg is not what --ladder-svg writes for {ladder_uid}")

    for f in failed:
        print("FAIL:", f)
    if not failed:
        print("docs_examples: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
