"""traffic: a known set of real TCP connections on loopback, for the live capture test.

A threaded server on `port` and a pool of clients make every connection of a plan: clean
closes (either side first, or the client half-closing before the reply), connections refused by
`closed_port` (nobody listens there: the kernel answers the SYN with RST), and connections the
client aborts with RST (SO_LINGER 0) after the exchange. Sizes come from a fixed seed, so a plan
is the same on every run. Every socket operation has a timeout; run() returns only when every
client and every server handler is done, and raises if anything went other than planned.

Each request starts with a 12-byte header (mode, request length, response length) so the server
knows what to answer and whether to wait for the client's FIN before closing.
"""

import random
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HOST = "127.0.0.1"
HEADER = struct.Struct("!III")  # mode, request length, response length
TIMEOUT = 5.0  # seconds, for every socket operation (loopback answers in microseconds)

# Modes. The comment says who sends the first FIN (the active closer) and how.
CLIENT_FIRST = 1  # client reads the whole reply, then closes; server closes on EOF
SERVER_FIRST = 2  # server closes right after its reply; client closes on EOF
CLIENT_HALF_CLOSE = 3  # client shutdown(SHUT_WR) right after its request; server replies on EOF
CLIENT_RST = 4  # client reads the whole reply, then aborts (SO_LINGER 0: RST, no FIN)
REFUSED = 5  # connect to the closed port: SYN answered by RST/ACK

MODE_NAMES = {
    CLIENT_FIRST: "client_first",
    SERVER_FIRST: "server_first",
    CLIENT_HALF_CLOSE: "client_half_close",
    CLIENT_RST: "client_rst",
    REFUSED: "refused",
}


class Conn:
    """One planned connection and, after run(), what the client saw of it."""

    def __init__(self, index, mode, req_len, resp_len):
        self.index = index
        self.mode = mode
        self.req_len = req_len
        self.resp_len = resp_len
        self.local = None  # (ip, port) of the client's socket, once connected or refused
        self.remote = None  # (ip, port) it connected to

    @property
    def mode_name(self):
        return MODE_NAMES[self.mode]


def make_plan(seed, clean_each=100, refused=20, client_rst=6):
    """The connections to make, in a seeded random order with seeded sizes. Sizes stay small
    enough that every frame fits one loopback segment and every per-direction frame-byte total
    stays below 10000 (tshark prints larger totals rounded to kB)."""
    rng = random.Random(seed)
    modes = [CLIENT_FIRST] * clean_each + [SERVER_FIRST] * clean_each
    modes += [CLIENT_HALF_CLOSE] * clean_each + [REFUSED] * refused + [CLIENT_RST] * client_rst
    rng.shuffle(modes)
    plan = []
    for i, mode in enumerate(modes):
        if mode == REFUSED:
            plan.append(Conn(i, mode, 0, 0))
        else:
            plan.append(Conn(i, mode, rng.randint(HEADER.size, 2000), rng.randint(1, 6000)))
    return plan


def _recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        b = sock.recv(min(65536, n - got))
        if not b:
            raise ConnectionError(f"EOF after {got} of {n} bytes")
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _recv_eof(sock):
    """Reads until EOF; anything but EOF is a protocol error here."""
    b = sock.recv(65536)
    if b:
        raise ConnectionError(f"expected EOF, got {len(b)} more bytes")


def _payload(n, fill):
    return bytes([fill]) * n


# ---- server --------------------------------------------------------------------------------


class Server:
    """Threaded server on HOST:port; one handler thread per connection."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, port))  # raises if the port is taken: the caller picks another
        self.sock.listen(256)
        self.sock.settimeout(0.2)  # so the accept loop notices stop()
        self.errors = []
        self.handled = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._handlers = []
        self._thread = threading.Thread(target=self._accept_loop, name="server", daemon=True)

    def start(self):
        self._thread.start()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                c, peer = self.sock.accept()
            except socket.timeout:
                continue
            except OSError as e:
                if not self._stop.is_set():
                    self._error(f"accept: {e}")
                return
            t = threading.Thread(target=self._handle, args=(c, peer), daemon=True)
            with self._lock:
                self._handlers.append(t)
            t.start()

    def _error(self, msg):
        with self._lock:
            self.errors.append(msg)

    def _handle(self, c, peer):
        try:
            c.settimeout(TIMEOUT)
            mode, req_len, resp_len = HEADER.unpack(_recv_exact(c, HEADER.size))
            body = _recv_exact(c, req_len - HEADER.size)
            if body != _payload(req_len - HEADER.size, 0x71):
                raise ConnectionError("request body corrupted")
            if mode == CLIENT_HALF_CLOSE:
                _recv_eof(c)  # the client's FIN comes before the reply
            c.sendall(_payload(resp_len, 0x72))
            if mode == CLIENT_FIRST:
                _recv_eof(c)  # wait for the client's FIN, then close: we are the passive closer
            elif mode == CLIENT_RST:
                try:
                    _recv_eof(c)
                    raise ConnectionError("client_rst: got a FIN instead of a RST")
                except ConnectionResetError:
                    pass  # the expected abort
            # SERVER_FIRST: close at once, everything the client sent has been read (no RST).
            with self._lock:
                self.handled += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported by run()
            self._error(f"server handler for {peer}: {type(e).__name__}: {e}")
        finally:
            c.close()

    def stop(self):
        """Stops accepting and waits for every handler, TIMEOUT seconds at most in all."""
        end = time.monotonic() + TIMEOUT
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(TIMEOUT)
        with self._lock:
            handlers = list(self._handlers)
        for t in handlers:
            t.join(max(0.0, end - time.monotonic()))
            if t.is_alive():
                self._error("a server handler did not finish in time")
                break
        self.sock.close()


# ---- client --------------------------------------------------------------------------------


def _client(conn, port, closed_port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        if conn.mode == REFUSED:
            conn.remote = (HOST, closed_port)
            try:
                s.connect(conn.remote)
            except ConnectionRefusedError:
                conn.local = s.getsockname()
                return
            raise ConnectionError(f"connection to closed port {closed_port} was accepted")
        conn.remote = (HOST, port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle wait for the body
        s.connect(conn.remote)
        conn.local = s.getsockname()
        s.sendall(HEADER.pack(conn.mode, conn.req_len, conn.resp_len))
        s.sendall(_payload(conn.req_len - HEADER.size, 0x71))
        if conn.mode == CLIENT_HALF_CLOSE:
            s.shutdown(socket.SHUT_WR)
        reply = _recv_exact(s, conn.resp_len)
        if reply != _payload(conn.resp_len, 0x72):
            raise ConnectionError("reply corrupted")
        if conn.mode in (SERVER_FIRST, CLIENT_HALF_CLOSE):
            _recv_eof(s)  # the server's FIN
        elif conn.mode == CLIENT_RST:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def run(plan, server, closed_port, workers=8):
    """Makes every connection of the plan against server (a Server, already bound and listening
    so no client can connect before it is ready; or a port number to make one on). Returns when
    every client and handler is done; raises RuntimeError listing every failure."""
    if not isinstance(server, Server):
        server = Server(server)
    port = server.sock.getsockname()[1]
    server.start()
    errors = []
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [(c, pool.submit(_client, c, port, closed_port)) for c in plan]
        for c, f in futures:
            try:
                f.result(timeout=TIMEOUT * 4)
            except Exception as e:  # noqa: BLE001
                errors.append(f"client #{c.index} ({c.mode_name}): {type(e).__name__}: {e}")
    finally:
        # On an error (or the caller's deadline) no further client starts; running ones end
        # within their socket timeouts.
        pool.shutdown(wait=not errors, cancel_futures=True)
        server.stop()
    errors += server.errors
    served = sum(1 for c in plan if c.mode != REFUSED)
    if not errors and server.handled != served:
        errors.append(f"server handled {server.handled} connections, expected {served}")
    if errors:
        raise RuntimeError("traffic failed:\n  " + "\n  ".join(errors[:20]))
    return plan


if __name__ == "__main__":  # a standalone run, e.g. to watch with tcpdump by hand
    import sys

    p = int(sys.argv[1]) if len(sys.argv) > 1 else 23456
    q = int(sys.argv[2]) if len(sys.argv) > 2 else p + 1
    done = run(make_plan(3), p, q)
    print(f"{len(done)} connections made to {HOST}:{p} and refused by {HOST}:{q}")
