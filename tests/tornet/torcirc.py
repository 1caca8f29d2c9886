#!/usr/bin/env python3
"""Which circuits of a tor client carry streams to an onion service, and
closing one of them: tests/netns/test_circuits.sh kills one of linkd's
circuits the way a relay failing on the path would.

    torcirc.py streams CONTROL COOKIE ONION
        one line per stream of this tor to ONION (the address with or
        without .onion) that is up: "STREAMID CIRCID TARGET"
    torcirc.py busiest CONTROL COOKIE ONION SECONDS
        of the circuits that carry streams to ONION, the one that moved
        the most bytes over SECONDS (tor's CIRC_BW events, once a
        second): "CIRCID BYTES", BYTES 0 when none moved any
    torcirc.py close CONTROL COOKIE CIRCID
        CLOSECIRCUIT CIRCID; exit 0 when tor answers 250

CONTROL is the client's ControlPort (a Unix socket), COOKIE its
control.authcookie (tornet.sh's clients; read as root, tor's files stay
as they are). Every socket operation times out after 10 s, so a tor
that does not answer makes this fail rather than hang. Python's
standard library only.
"""
import socket
import sys
import time


def die(msg):
    sys.stderr.write("torcirc: %s\n" % msg)
    sys.exit(1)


class Ctl:
    def __init__(self, path, cookie):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        with open(cookie, "rb") as c:
            ck = c.read()
        if len(ck) != 32:
            die("%s: %d bytes, a tor cookie has 32" % (cookie, len(ck)))
        code, _ = self.cmd("AUTHENTICATE " + ck.hex())
        if code != "250":
            die("AUTHENTICATE: tor answered %s" % code)

    def cmd(self, line):
        """Send LINE; return (status code, lines of the reply's data)."""
        self.s.sendall(line.encode() + b"\r\n")
        data = []
        while True:
            raw = self.f.readline()
            if not raw:
                die("tor closed the control connection after %r" % line)
            r = raw.decode(errors="replace").rstrip("\r\n")
            if len(r) < 4:
                die("short reply line %r" % r)
            code, sep, rest = r[:3], r[3], r[4:]
            if sep == "+":
                data.append(rest)
                while True:
                    d = self.f.readline()
                    if not d:
                        die("tor closed the connection in a data reply")
                    d = d.decode(errors="replace").rstrip("\r\n")
                    if d == ".":
                        break
                    data.append(d)
            elif sep == "-":
                data.append(rest)
            else:
                return code, data


def stream_list(ctl, onion):
    """(stream id, circuit id, target) of each stream up to ONION."""
    host = onion if onion.endswith(".onion") else onion + ".onion"
    code, data = ctl.cmd("GETINFO stream-status")
    if code != "250":
        die("GETINFO stream-status: tor answered %s" % code)
    out = []
    for line in data:
        if line.startswith("stream-status="):
            line = line[len("stream-status="):]
        f = line.split()
        # StreamID StreamStatus CircuitID Target
        if len(f) < 4 or f[1] != "SUCCEEDED":
            continue
        if f[3].split(":")[0] == host:
            out.append((f[0], f[2], f[3]))
    return out


def busiest(ctl, onion, secs):
    circs = {c: 0 for _, c, _ in stream_list(ctl, onion)}
    if not circs:
        die("no stream to %s" % onion)
    code, _ = ctl.cmd("SETEVENTS CIRC_BW")
    if code != "250":
        die("SETEVENTS CIRC_BW: tor answered %s" % code)
    end = time.monotonic() + secs
    ctl.s.settimeout(0.5)
    buf = b""
    while time.monotonic() < end:
        try:
            chunk = ctl.s.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            die("tor closed the control connection")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            kv = dict(w.split("=", 1) for w in
                      line.decode(errors="replace").split() if "=" in w)
            if kv.get("ID") in circs:
                circs[kv["ID"]] += (int(kv.get("READ", "0")) +
                                    int(kv.get("WRITTEN", "0")))
    best = max(sorted(circs), key=lambda c: circs[c])
    print("%s %d" % (best, circs[best]))


def main(a):
    n = {"streams": 4, "close": 4, "busiest": 5}
    if len(a) < 1 or n.get(a[0]) != len(a):
        die("usage: torcirc.py streams|close|busiest CONTROL COOKIE "
            "ONION|CIRCID [SECONDS]")
    ctl = Ctl(a[1], a[2])
    if a[0] == "streams":
        for st in stream_list(ctl, a[3]):
            print("%s %s %s" % st)
        return
    if a[0] == "busiest":
        busiest(ctl, a[3], float(a[4]))
        return
    if not a[3].isdigit():
        die("%r: a circuit id is a number" % a[3])
    code, _ = ctl.cmd("CLOSECIRCUIT " + a[3])
    if code != "250":
        die("CLOSECIRCUIT %s: tor answered %s" % (a[3], code))


if __name__ == "__main__":
    main(sys.argv[1:])
