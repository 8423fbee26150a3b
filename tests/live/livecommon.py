"""livecommon: what the live tests of issue 5 share (not a test itself).

  * preflight(): the live-test contract — a test that needs root FAILS loudly without it, unless
    SHAKEDOWN_SKIP_LIVE=1 is set, then it exits 77 (CTest: skipped);
  * Test: a temporary directory, an overall deadline (SIGALRM), and cleanup of every process,
    socket, file and namespace registered with it, whatever happens; exit status 0/1/77;
  * Shakedown: one shakedown process (its own session, stderr to a file), polled instead of slept
    on, stopped with SIGINT and killed if it does not stop;
  * reading JSON-lines output while shakedown still writes it, and validating it with
    tests/schema/validate.py;
  * ports: a listening port and closed ports held bound (not listening) so nobody else can
    listen there, outside the ephemeral range so no client port can collide with them;
  * network namespaces: a veth pair into one (Veth), or one with only its own lo (PrivateLo).
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
VALIDATE = os.path.join(SOURCE, "tests", "schema", "validate.py")
SCHEMA = os.path.join(SOURCE, "docs", "shakedown.schema.json")
HOST = "127.0.0.1"
SKIP = 77


class Failure(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def preflight(name, root=True, tools=()):
    """Exits 77 when SHAKEDOWN_SKIP_LIVE=1 (only for a test that needs root: one that does not
    runs anyway, its live part asks live_part()), 1 (with what is missing) when it cannot run."""
    if root and os.environ.get("SHAKEDOWN_SKIP_LIVE") == "1":
        log(f"SKIPPED: SHAKEDOWN_SKIP_LIVE=1 is set ({name} not run)")
        sys.exit(SKIP)
    problems = []
    if root and os.geteuid() != 0:
        problems.append(f"it must run as root to capture packets (running as uid {os.geteuid()})")
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
    for t in tools:
        if not shutil.which(t, path=path):
            problems.append(f"{t} is not installed")
    try:
        import jsonschema  # noqa: F401  (validate.py needs it)
    except ImportError:
        problems.append("python3 cannot import jsonschema (Debian package: python3-jsonschema)")
    if problems:
        log(f"FAIL: {name} cannot run:")
        for p in problems:
            log(f"  - {p}")
        log("Run the live tests as root with the tools installed (scripts/setup.sh), or set "
            "SHAKEDOWN_SKIP_LIVE=1 to skip them explicitly.")
        sys.exit(1)


def live_part(name):
    """For a test whose main part needs no root: whether its live-capture part can run. As root:
    True. Otherwise False with SHAKEDOWN_SKIP_LIVE=1 (logged), else Failure."""
    if os.geteuid() == 0:
        return True
    if os.environ.get("SHAKEDOWN_SKIP_LIVE") == "1":
        log(f"SKIPPED (part): {name} needs root; SHAKEDOWN_SKIP_LIVE=1 is set")
        return False
    raise Failure(f"{name} needs root to capture packets (running as uid {os.geteuid()}); set "
                  f"SHAKEDOWN_SKIP_LIVE=1 to skip it explicitly")


def which(tool):
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")


# ---- the test frame -------------------------------------------------------------------------


class Test:
    """with Test(name, deadline) as t: ... — returns the exit status from t.status after the
    block; every cleanup registered with t.defer() runs (last first) even on failure."""

    def __init__(self, name, deadline):
        self.name = name
        self.deadline = deadline
        self.tmp = None
        self._cleanups = []
        self.status = 1
        self.start = time.monotonic()

    def __enter__(self):
        def alarm(signum, frame):
            raise Failure(f"{self.name} ran past its {self.deadline} s deadline")

        signal.signal(signal.SIGALRM, alarm)
        signal.alarm(self.deadline)
        self.tmp = tempfile.mkdtemp(prefix=f"shakedown-{self.name}-")
        os.chmod(self.tmp, 0o755)
        return self

    def defer(self, fn, *args):
        self._cleanups.append((fn, args))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def __exit__(self, etype, exc, tb):
        signal.alarm(0)
        for fn, args in reversed(self._cleanups):
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                log(f"cleanup: {type(e).__name__}: {e}")
        self._cleanups = []
        shutil.rmtree(self.tmp, ignore_errors=True)
        if exc is None:
            self.status = 0
            log(f"PASS: {self.name} ({time.monotonic() - self.start:.1f} s)")
            return True
        if isinstance(exc, Failure):
            log(f"FAIL: {self.name}: {exc}")
            return True
        if isinstance(exc, Exception):
            log(f"FAIL: {self.name}: {type(exc).__name__}: {exc}")
            log("".join(traceback.format_exception(etype, exc, tb)).rstrip())
            return True
        return False  # SystemExit, KeyboardInterrupt: let them through (cleanup has run)


def main(name, doc, run, deadline, root=True, tools=()):
    """The whole of a live test (needing root unless root=False, and tools): --shakedown PATH
    parsed, preflight, run(test, shakedown) under a Test with the deadline; returns the exit
    status."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--shakedown", required=True)
    args = ap.parse_args()
    preflight(name, root=root, tools=tools)
    with Test(name, deadline=deadline) as t:
        run(t, args.shakedown)
    return t.status


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def poll(pred, timeout, what, interval=0.05, alive=None):
    """Waits until pred() is true (returns its value); Failure after `timeout` seconds or as soon
    as the Shakedown `alive` has exited."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if alive is not None and alive.proc.poll() is not None:
            raise Failure(f"shakedown exited with status {alive.proc.returncode} while waiting "
                          f"for {what}; its stderr:\n{alive.stderr()}")
        if time.monotonic() >= end:
            tail = ""
            if alive is not None:  # what shakedown said so far (a lost receiver, drops ...)
                tail = "; shakedown's stderr so far:\n" + alive.stderr()[-2000:]
            raise Failure(f"timed out after {timeout} s waiting for {what}{tail}")
        time.sleep(interval)


# ---- shakedown -------------------------------------------------------------------------------


class Shakedown:
    def __init__(self, test, exe, args, stdout=None):
        self.args = [exe] + list(args)
        self.errpath = test.path(f"shakedown-{len(test._cleanups)}.err")
        self._err = open(self.errpath, "wb")
        out = stdout if stdout is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=self._err, start_new_session=True)
        self.started = time.monotonic()
        test.defer(self.kill)
        log(f"started pid {self.proc.pid}: {' '.join(self.args)}")

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def running(self):
        return self.proc.poll() is None

    def send(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=10.0, sig=signal.SIGINT):
        """SIGINT (an orderly stop), then waits; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"shakedown did not exit within {timeout} s of {sig.name}") from None

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only its processes
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        if not self._err.closed:
            self._err.close()


def banner(iface, snaplen=256):
    """The line shakedown -i IFACE writes on stderr as soon as it captures, as tcpdump does (issue
    17). lo and veth interfaces are Ethernet to libpcap on Linux (DLT_EN10MB, "Ethernet"); 256 is
    shakedown's default snapshot length (-s)."""
    return f"listening on {iface}, link-type EN10MB (Ethernet), snapshot length {snaplen} bytes\n"


def check_banner_only(err, iface):
    """A quiet live run: its stderr is exactly the banner (nothing else was said)."""
    check(err == banner(iface), f"shakedown's stderr is not just the banner for {iface}:\n{err}")


def without_banner(err, iface):
    """stderr of a live run with its first line checked to be the banner and taken off."""
    check(err.startswith(banner(iface)), f"stderr does not start with the banner:\n{err}")
    return err[len(banner(iface)):]


def read_lines(path):
    """The complete lines of a JSON-lines file shakedown may still be writing, parsed: a list of
    dicts. A last line without its newline yet is left out; any other broken line fails."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    out = []
    for n, raw in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            out.append(json.loads(raw))
        except ValueError as e:
            raise Failure(f"{path}:{n}: not a complete JSON record ({e}): {raw[:200]!r}")
    return out


def strict_lines(path):
    """Every line of a finished output: each must be complete JSON ending with a newline."""
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise Failure(f"{path}: the last line is cut short: {data[-200:]!r}")
    return read_lines(path)


def validate(paths, whole_run=False):
    """Runs tests/schema/validate.py on the files (one call: an empty rotated-away file is fine
    as long as the set holds records); Failure with its report if any line is invalid."""
    cmd = [sys.executable, VALIDATE, "--schema", SCHEMA, "--time", "epoch"]
    if whole_run:
        cmd.append("--whole-run")
    r = subprocess.run(cmd + list(paths), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, check=False)
    if r.returncode != 0:
        raise Failure(f"validate.py {' '.join(os.path.basename(p) for p in paths)} exited "
                      f"{r.returncode}:\n{r.stdout.decode(errors='replace')[-4000:]}")


def key_of(rec):
    """A connection or anomaly record's 4-tuple, originator first."""
    return ((rec["src_ip"], rec["src_port"]), (rec["dest_ip"], rec["dest_port"]))


def finals(records):
    return [r for r in records if r.get("type") == "connection" and r.get("final") is True]


def by_type(records, kind):
    return [r for r in records if r.get("type") == kind]


# ---- ports and sockets -----------------------------------------------------------------------


def _candidates():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except OSError:
        lo, hi = 32768, 60999
    c = [p for p in range(20000, 40001) if not lo <= p <= hi]
    random.Random().shuffle(c)  # unseeded: a port left over by an earlier run must not matter
    return c


def bind_ports(test, listening=1, closed=0, host=HOST):
    """(listening sockets, closed sockets): TCP sockets bound on distinct ports; the first kind
    listening, the second only bound, so connections to it are refused. Closed at cleanup."""
    socks_l, socks_c = [], []
    for p in _candidates():
        if len(socks_l) == listening and len(socks_c) == closed:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if len(socks_l) < listening:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, p))
                s.listen(128)
                socks_l.append(s)
            else:
                s.bind((host, p))
                socks_c.append(s)
        except OSError:
            s.close()
            continue
        test.defer(s.close)
    if len(socks_l) < listening or len(socks_c) < closed:
        raise Failure("not enough free ports in 20000-40000")
    return socks_l, socks_c


def traffic_server(test):
    """A traffic.Server (tests/live/traffic.py: it answers each client as its mode says) bound on
    a free port and listening; not started. Stopped and closed at cleanup."""
    import traffic

    for p in _candidates():
        try:
            server = traffic.Server(p)
        except OSError:
            continue
        test.defer(server.sock.close)
        return server
    raise Failure("no free port in 20000-40000 for the server")


def port(sock):
    return sock.getsockname()[1]


def tuple_of(client):
    """The 4-tuple of a connected (or refused) client socket: ((ip, port), (ip, port))."""
    return (tuple(client.getsockname()), tuple(client.getpeername()))


def refused(host, port_, timeout=5.0):
    """Connects to a closed port; returns the client's (ip, port) (the SYN got a RST)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect((host, port_))
        except ConnectionRefusedError:
            return s.getsockname()
        raise Failure(f"connection to closed port {port_} was accepted")
    finally:
        s.close()


# ---- a non-loopback interface -----------------------------------------------------------


def ip(*args, check=True):
    r = subprocess.run([which("ip")] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=15, check=False)
    if check and r.returncode != 0:
        raise Failure(f"ip {' '.join(args)}: {r.stderr.decode(errors='replace').strip()}")
    return r


class Veth:
    """A network namespace and a veth pair: VA here with A = 10.213.X.Y+1/30, VB in the
    namespace with B = 10.213.X.Y+2/30, both up, the /30 one that no other interface here has.
    Deleted at cleanup (teardown() may be called earlier)."""

    def __init__(self, test):
        pid = os.getpid()
        self.ns, self.va, self.vb = f"sdlive{pid}", f"sdva{pid}", f"sdvb{pid}"
        test.defer(self.teardown)
        ip("netns", "add", self.ns)
        ip("link", "add", self.va, "type", "veth", "peer", "name", self.vb)
        ip("link", "set", self.vb, "netns", self.ns)
        self._claim_subnet()
        ip("link", "set", self.va, "up")
        ip("-n", self.ns, "addr", "add", f"{self.b}/30", "dev", self.vb)
        ip("-n", self.ns, "link", "set", self.vb, "up")
        ip("-n", self.ns, "link", "set", "lo", "up")
        poll(lambda: "LOWER_UP" in ip("link", "show", self.va).stdout.decode(), 10,
                f"{self.va} to come up")

    def _claim_subnet(self):
        """A /30 of 10.213.0.0/16 for VA that no other interface here has. Two tests that ran at
        once with the same one (it was the pid modulo 250) routed each other's answers into the
        wrong namespace: a client's connect timed out. Claimed by adding it, then looking:
        of two tests that add the same one, the later to add sees the other when it looks (the
        earlier may see both), and moves on; neither keeps one the other has."""
        rng = random.Random(os.getpid() ^ time.monotonic_ns())
        for _ in range(64):
            k = rng.randrange(16384)
            base = f"10.213.{k >> 6}.{(k & 63) * 4}"
            self.a, self.b = f"10.213.{k >> 6}.{(k & 63) * 4 + 1}", \
                f"10.213.{k >> 6}.{(k & 63) * 4 + 2}"
            if ip("addr", "add", f"{self.a}/30", "dev", self.va, check=False).returncode != 0:
                continue
            users = ip("-o", "-4", "addr", "show", "to", f"{base}/30").stdout.decode().split("\n")
            if [u for u in users if u.strip() and f" {self.va} " not in u]:
                ip("addr", "del", f"{self.a}/30", "dev", self.va, check=False)
                continue
            return
        raise Failure("no free /30 in 10.213.0.0/16 for the veth pair")

    def teardown(self):
        ip("netns", "del", self.ns, check=False)  # deletes VB, and with it VA
        ip("link", "del", self.va, check=False)

    def gone(self):
        left = []
        if self.ns in ip("netns", "list").stdout.decode().split():
            left.append(f"namespace {self.ns}")
        if ip("link", "show", self.va, check=False).returncode == 0:
            left.append(f"interface {self.va}")
        return left


class PrivateLo:
    """A network namespace with nothing but its lo, up: a test that replays a capture onto lo
    there (tcpreplay) captures nothing of the machine's own lo and disturbs no other capture.
    cmd(...) runs a command inside it. Deleted at cleanup."""

    def __init__(self, test):
        self.ns = f"sdlo{os.getpid()}"
        test.defer(lambda: ip("netns", "del", self.ns, check=False))
        ip("netns", "add", self.ns)
        ip("-n", self.ns, "link", "set", "lo", "up")

    def cmd(self, *args):
        return [which("ip"), "netns", "exec", self.ns] + list(args)
