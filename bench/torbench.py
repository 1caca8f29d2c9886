#!/usr/bin/env python3
"""The raw baselines of bench/tor.sh: what one Tor stream to an onion
service carries with no VPN in it.

    torbench.py add-onion CONTROL COOKIE VIRTPORT TARGET
        publish a new onion service on tor's ControlPort (a Unix socket
        path), mapping VIRTPORT to TARGET ("unix:PATH" or "HOST:PORT");
        prints the address (without .onion). The service is detached
        (it outlives this process) and dies with that tor.
    torbench.py sink PATH        count the bytes of each stream on a Unix
                                 socket; on EOF, answer the count
    torbench.py echo PATH        echo each stream on a Unix socket
    torbench.py send SOCKS ONION PORT SECONDS
        one SOCKS5 stream (its own circuit: fresh username/password, so
        tor's IsolateSOCKSAuth gives it a circuit of its own) to the sink;
        sends for SECONDS, then prints "BYTES SECONDS MBS2": what the
        sink counted, the time from the first byte sent to its answer,
        and the MB/s the sink saw in the second half of the run
    torbench.py sendwarm SOCKS ONION PORT SECONDS
        the same, but the stream first carries one block slowly (a
        cell's worth every 20 ms, ~2.6 s), as a VPN link's circuit
        carries handshakes and keepalives before bulk: tor's congestion
        control then learns the circuit's idle round trip. The block is
        not counted, nor its time
    torbench.py sendmany SOCKS ONION PORT SECONDS K
        K of those streams at once, each on its own circuit (the raw
        aggregate of K circuits, against which bench/tor.sh --multipath
        sets onionmesh with circuits = K); all K connect first, then send
        together for SECONDS. Prints "MBS MBS2 MBS_1,...,MBS_K": the sum
        of the streams' MB/s over the whole run, over its second half,
        and each stream's own
    torbench.py rtt SOCKS ONION PORT COUNT
        one SOCKS5 stream to the echo service; COUNT round trips of 56
        bytes (ping's default payload) 0.2 s apart after one warm-up;
        prints the median in ms
    torbench.py rttmany SOCKS ONION PORT COUNT K
        the same on K streams at once, each on its own circuit; prints
        each circuit's median, in ms, lowest first

SOCKS is "unix:PATH" or "HOST:PORT". A fresh onion service is reachable
only a few seconds after ADD_ONION, so send and rtt retry the SOCKS
connection for up to 60 s. Python's standard library only: the
benchmark must not depend on more than a Debian machine has.
"""
import os
import socket
import socketserver
import statistics
import sys
import threading
import time

SOCKS_REPLY = {
    1: "general SOCKS server failure", 2: "not allowed by ruleset",
    3: "network unreachable", 4: "host unreachable",
    5: "connection refused", 6: "TTL expired",
    7: "command not supported", 8: "address type not supported",
    0xf0: "onion service descriptor can not be found",
    0xf1: "onion service descriptor is invalid",
    0xf2: "onion service introduction failed",
    0xf3: "onion service rendezvous failed",
    0xf4: "onion service missing client authorization",
    0xf5: "onion service wrong client authorization",
    0xf6: "onion service invalid address",
    0xf7: "onion service introduction timed out",
}


def die(msg):
    sys.stderr.write("torbench: %s\n" % msg)
    sys.exit(1)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError("connection closed after %d of %d bytes"
                                  % (len(b), n))
        b += c
    return b


def connect_to(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
        return s
    host, _, port = addr.rpartition(":")
    return socket.create_connection((host, int(port)))


def socks_once(proxy, host, port):
    s = connect_to(proxy)
    s.settimeout(60)
    user = os.urandom(8).hex().encode()
    pw = os.urandom(8).hex().encode()
    s.sendall(b"\x05\x01\x02")
    if recv_exact(s, 2) != b"\x05\x02":
        raise ConnectionError("SOCKS server refused username/password")
    s.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(pw)]) + pw)
    if recv_exact(s, 2)[1] != 0:
        raise ConnectionError("SOCKS login refused")
    h = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h +
              port.to_bytes(2, "big"))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise ConnectionError("SOCKS: %s" % SOCKS_REPLY.get(
            rep[1], "reply %d" % rep[1]))
    alen = {1: 4, 4: 16}.get(rep[3])
    if alen is None:
        alen = recv_exact(s, 1)[0]
    recv_exact(s, alen + 2)
    s.settimeout(None)
    return s


def socks_connect(proxy, onion, port, wait=60):
    host = onion if onion.endswith(".onion") else onion + ".onion"
    end = time.monotonic() + wait
    last = None
    while time.monotonic() < end:
        try:
            return socks_once(proxy, host, port)
        except (OSError, ConnectionError) as e:
            last = e
            time.sleep(1)
    die("no stream to %s:%d through %s within %d s: %s"
        % (host, port, proxy, wait, last))


def add_onion(control, cookie, virt, target):
    with open(cookie, "rb") as f:
        ck = f.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(control)
    f = s.makefile("rwb")

    def cmd(line):
        f.write(line.encode() + b"\r\n")
        f.flush()
        out = []
        while True:
            r = f.readline().decode(errors="replace").rstrip("\r\n")
            if not r:
                die("tor closed the control connection after %r" %
                    line.split()[0])
            out.append(r)
            if len(r) >= 4 and r[3] == " ":
                break
        if not out[-1].startswith("250"):
            die("tor answered %s: %s" % (line.split()[0], out[-1]))
        return out

    cmd("AUTHENTICATE " + ck.hex())
    out = cmd("ADD_ONION NEW:ED25519-V3 Flags=DiscardPK,Detach Port=%s,%s"
              % (virt, target))
    for r in out:
        if r[4:].startswith("ServiceID="):
            print(r[4:].split("=", 1)[1])
            return
    die("ADD_ONION gave no ServiceID")


# Tor streams cannot be half-closed (the end of one direction ends the
# stream), so the sender marks its last block instead: blocks of BLOCK
# bytes whose first byte is 1 on the last one, 0 before.
BLOCK = 1 << 16


# The sink also answers "TIME COUNT" lines every 0.25 s while it counts
# (TIME from CLOCK_MONOTONIC, which all processes of a machine share), so
# the sender can tell the rate of the second half, after any ramp-up,
# from the rate of the whole.
class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        n = 0
        mark = 0
        try:
            while True:
                b = recv_exact(self.request, BLOCK)
                n += len(b)
                now = time.monotonic()
                if now >= mark:
                    self.request.sendall(b"%.4f %d\n" % (now, n))
                    mark = now + 0.25
                if b[0] == 1:
                    break
            self.request.sendall(b"E %.4f %d\n" % (time.monotonic(), n))
        except ConnectionError:
            return


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(1 << 16)
            if not b:
                break
            self.request.sendall(b)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(path, handler):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = Server(path, handler)
    os.chmod(path, 0o666)
    srv.serve_forever()


def send(proxy, onion, port, secs, warm=False):
    s = socks_connect(proxy, onion, port)
    total, took, rate2 = stream(s, secs, warm)
    print("%d %.3f %.2f" % (total, took, rate2))


def stream(s, secs, warm=False):
    """Send into the sink on connected stream s for secs seconds; return
    (bytes the sink counted, seconds to its answer, MB/s of the second
    half)."""
    base = 0
    if warm:
        trickle = b"\0" * BLOCK
        for i in range(0, BLOCK, 498):
            s.sendall(trickle[i:i + 498])
            time.sleep(0.02)
        base = BLOCK
    buf = b"\0" + os.urandom(BLOCK - 1)
    t0 = time.monotonic()
    end = t0 + secs
    while time.monotonic() < end:
        s.sendall(buf)
    s.sendall(b"\1" + buf[1:])
    s.settimeout(120)
    f = s.makefile("rb")
    marks = []
    while True:
        line = f.readline()
        if not line:
            die("the sink closed without a count")
        w = line.split()
        if w[0] == b"E":
            break
        marks.append((float(w[0]), int(w[1]) - base))
    t1 = time.monotonic()
    te, total = float(w[1]), int(w[2]) - base
    # the second half: from the first mark at or after its start
    half = [m for m in marks if m[0] >= t0 + secs / 2]
    if half and te > half[0][0]:
        rate2 = (total - half[0][1]) / (te - half[0][0]) / 1e6
    else:
        rate2 = total / (t1 - t0) / 1e6
    return total, t1 - t0, rate2


def on_many(proxy, onion, port, k, work, what):
    """work(stream) on k streams at once, each on its own circuit; all
    connect first (each retries until the service is reachable), so the
    k run over the same seconds. Returns the k results in order."""
    socks = [socks_connect(proxy, onion, port) for _ in range(k)]
    res = [None] * k

    def run(i):
        try:
            res[i] = work(socks[i])
        except (OSError, ConnectionError, SystemExit) as e:
            res[i] = e

    th = [threading.Thread(target=run, args=(i,)) for i in range(k)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    for i, r in enumerate(res):
        if r is None or isinstance(r, BaseException):
            die("%s %d of %d failed: %s" % (what, i + 1, k, r))
    return res


def sendmany(proxy, onion, port, secs, k):
    res = on_many(proxy, onion, port, k, lambda s: stream(s, secs),
                  "stream")
    each = [r[0] / r[1] / 1e6 for r in res]
    print("%.2f %.2f %s" % (sum(each), sum(r[2] for r in res),
                            ",".join("%.2f" % e for e in each)))


def rtt(proxy, onion, port, count):
    s = socks_connect(proxy, onion, port)
    print("%.3f" % rtt_on(s, count))


def rttmany(proxy, onion, port, count, k):
    res = on_many(proxy, onion, port, k, lambda s: rtt_on(s, count),
                  "echo stream")
    print(" ".join("%.3f" % r for r in sorted(res)))


def rtt_on(s, count):
    """count round trips of 56 bytes on stream s: the median in ms."""
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) \
        if s.family != socket.AF_UNIX else None
    msg = os.urandom(56)
    times = []
    for i in range(count + 1):
        t0 = time.monotonic()
        s.sendall(msg)
        if recv_exact(s, len(msg)) != msg:
            die("the echo came back changed")
        if i > 0:
            times.append((time.monotonic() - t0) * 1000)
        time.sleep(0.2)
    return statistics.median(times)


def main(a):
    if len(a) == 5 and a[0] == "add-onion":
        add_onion(a[1], a[2], int(a[3]), a[4])
    elif len(a) == 2 and a[0] == "sink":
        serve(a[1], Sink)
    elif len(a) == 2 and a[0] == "echo":
        serve(a[1], Echo)
    elif len(a) == 5 and a[0] in ("send", "sendwarm"):
        send(a[1], a[2], int(a[3]), float(a[4]), a[0] == "sendwarm")
    elif len(a) == 6 and a[0] == "sendmany":
        k = int(a[5])
        if not 1 <= k <= 64:
            die("sendmany: K '%d': want 1..64 streams" % k)
        sendmany(a[1], a[2], int(a[3]), float(a[4]), k)
    elif len(a) == 6 and a[0] == "rttmany":
        k = int(a[5])
        if not 1 <= k <= 64:
            die("rttmany: K '%d': want 1..64 streams" % k)
        rttmany(a[1], a[2], int(a[3]), int(a[4]), k)
    elif len(a) == 5 and a[0] == "rtt":
        rtt(a[1], a[2], int(a[3]), int(a[4]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
