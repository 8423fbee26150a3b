#!/usr/bin/env python3
"""live_redis_loading: -o redis:// to a server still loading its data set (issue 14).

A redis-server that was restarted is there (it accepts connections) but answers every command
but a few with "-LOADING Redis is loading the dataset in memory" until its data is read back.
shakedown takes that as a server that is away, not as a broken setup: reading files, it waits
and sends every record once the server is ready (transport_redis.c).

A redis-server of its own on a loopback port, with its files in the test's directory: filled
with 2 million small keys (DEBUG POPULATE, so --enable-debug-command), saved (SAVE), stopped,
and started again on the same directory, which makes it load them for a second or more. While
INFO says loading:1, `shakedown -r CAPTURE -F json -o redis://HOST:PORT/sd-loading` (300 clean
connections and anomalies, receivers.py) is started. Required: exit status 0; stderr says the
server answered LOADING and that shakedown waited for it and got through ("waiting for it",
"connected again", once each however many retries it took); the list then holds exactly the
lines -F json writes, in order, once each (nothing lost to the refusals, nothing sent twice:
the server executed none of the commands it refused). The key's type could not be checked at
start (TYPE is refused too): docs/shakedown.1.
"""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livecommon as lc  # noqa: E402
import receivers as rc  # noqa: E402
from live_redis import redis_cmd  # noqa: E402

NAME = "live_redis_loading"
CONNECTIONS = 300
KEYS = 2000000  # loading them back takes a second or more here


def main():
    return lc.main(NAME, __doc__, run, 50, root=False, tools=("redis-server",))


def loading(port):
    """INFO persistence's loading flag (INFO is answered while loading)."""
    return b"loading:1" in redis_cmd(port, "INFO", "persistence")


def run(t, exe):
    frames, times, cap = rc.capture_file(t, CONNECTIONS)
    want = rc.reference(exe, cap)
    port = rc.free_port()
    server = rc.Receiver(t, "redis", [lc.which("redis-server"), "--port", str(port), "--bind",
                                      lc.HOST, "--save", "", "--appendonly", "no", "--dir",
                                      t.tmp, "--enable-debug-command", "yes",
                                      "--daemonize", "no"], port)
    server.start()
    redis_cmd(port, "DEBUG", "POPULATE", KEYS)
    redis_cmd(port, "SAVE")
    server.stop()
    server.start()  # reads dump.rdb back: accepts connections at once, refuses commands (LOADING)
    lc.check(loading(port), "the server had loaded its data before shakedown could start: "
                            "make KEYS larger")
    started = time.monotonic()
    target = f"redis://{lc.HOST}:{port}/sd-loading"
    r = subprocess.run([exe, "-r", cap, "-F", "json", "-o", target], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=40, check=False)
    err = r.stderr.decode(errors="replace")
    lc.log(f"shakedown took {time.monotonic() - started:.2f} s: status {r.returncode}, "
           f"stderr: {err.strip()}")
    lc.check(r.returncode == 0, f"exit status {r.returncode}: {err}")
    lc.check("LOADING" in err and "waiting for it" in err and "connected again" in err,
             f"stderr does not say the server was loading and was waited for: {err}")
    # once each: every retry connects and is refused again, but the loss was said already, and
    # the link is back only when a command goes through (netout.h)
    lc.check(err.count("waiting for it") == 1 and err.count("connected again") == 1,
             f"the wait not said once: {err}")
    lc.check(not loading(port), "shakedown finished while the server was still loading")
    rc.compare("loading at start", redis_cmd(port, "LRANGE", "sd-loading", 0, -1), want)


if __name__ == "__main__":
    sys.exit(main())
