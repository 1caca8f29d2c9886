#!/usr/bin/env python3
"""Which circuits of a tor client carry streams to an onion service, and
closing one of them: tests/netns/test_circuits.sh kills one of linkd's
circuits the way a relay failing on the path would.

    torcirc.py streams CONTROL COOKIE ONION
        one line per stream of this tor to ONION (the address with or
        without .onion) that is up: "STREAMID CIRCID TARGET"
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


def streams(ctl, onion):
    host = onion if onion.endswith(".onion") else onion + ".onion"
    code, data = ctl.cmd("GETINFO stream-status")
    if code != "250":
        die("GETINFO stream-status: tor answered %s" % code)
    for line in data:
        if line.startswith("stream-status="):
            line = line[len("stream-status="):]
        f = line.split()
        # StreamID StreamStatus CircuitID Target
        if len(f) < 4 or f[1] != "SUCCEEDED":
            continue
        if f[3].split(":")[0] == host:
            print("%s %s %s" % (f[0], f[2], f[3]))


def main(a):
    if len(a) != 4 or a[0] not in ("streams", "close"):
        die("usage: torcirc.py streams|close CONTROL COOKIE ONION|CIRCID")
    ctl = Ctl(a[1], a[2])
    if a[0] == "streams":
        streams(ctl, a[3])
        return
    if not a[3].isdigit():
        die("%r: a circuit id is a number" % a[3])
    code, _ = ctl.cmd("CLOSECIRCUIT " + a[3])
    if code != "250":
        die("CLOSECIRCUIT %s: tor answered %s" % (a[3], code))


if __name__ == "__main__":
    main(sys.argv[1:])
