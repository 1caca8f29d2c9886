#!/usr/bin/env bash
# Does tor agree with proto/onion.c? For a few seeds (tor's own test key,
# and random ones) we compute the ADD_ONION key blob and the address
# (test_onion --print-key), hand the blob to a real tor over its control
# socket, and require tor's ServiceID to be our address. A mismatch means
# keyd would publish one address and sign another into its host record.
#
#   tests/tornet/check_onion_key.sh        (B=build-dir, default build)
#
# Needs tor; starts a private network with one client in a temporary
# folder and always stops it. ADD_ONION does not need a bootstrapped
# tor, so this does not wait for the network to be usable.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${B:-build}
bin=$root/$B/tests/test_onion

if ! command -v tor >/dev/null; then
	echo "check_onion_key: tor is not installed" >&2
	exit 1
fi
[ -x "$bin" ] || make -C "$root" B="$B" "$B/tests/test_onion" >/dev/null

net=$(mktemp -d /tmp/om-tornet-onion.XXXXXX)
rmdir "$net"
cleanup() { "$here/tornet.sh" stop "$net" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$here/tornet.sh" start "$net" 1 >/dev/null
control=$net/client0/run/control
for _ in $(seq 1 100); do
	[ -S "$control" ] && break
	sleep 0.1
done
if [ ! -S "$control" ]; then
	echo "check_onion_key: no control socket at $control" >&2
	exit 1
fi

seeds="9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
for _ in 1 2 3 4; do
	seeds="$seeds $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
done

pairs=""
for s in $seeds; do
	pairs="$pairs$("$bin" --print-key "$s")
"
done

# tor's own vector must come out of our code first of all.
rfc=25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion
if ! echo "$pairs" | head -n 1 | grep -q " $rfc\$"; then
	echo "check_onion_key: RFC 8032 seed does not give $rfc" >&2
	exit 1
fi

PAIRS=$pairs python3 - "$control" <<'EOF'
import os, socket, sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
f = s.makefile("rb")

def cmd(line):
    s.sendall(line.encode() + b"\r\n")
    out = []
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if len(l) < 4:
            sys.exit("check_onion_key: short reply line %r" % l)
        out.append(l)
        if l[3] == " ":
            return out

pi = cmd("PROTOCOLINFO 1")
cookie = None
for l in pi:
    if "COOKIEFILE=" in l:
        cookie = l.split('COOKIEFILE="', 1)[1].split('"', 1)[0]
if cookie is None:
    sys.exit("check_onion_key: tor offers no cookie: %r" % pi)
with open(cookie, "rb") as c:
    auth = cmd("AUTHENTICATE " + c.read().hex())
if auth[-1] != "250 OK":
    sys.exit("check_onion_key: AUTHENTICATE: %r" % auth)

n = 0
for line in os.environ["PAIRS"].split("\n"):
    if not line.strip():
        continue
    blob, addr = line.split()
    r = cmd("ADD_ONION %s Port=80,127.0.0.1:9" % blob)
    ids = [l[len("250-ServiceID="):] for l in r
           if l.startswith("250-ServiceID=")]
    if r[-1] != "250 OK" or len(ids) != 1:
        sys.exit("check_onion_key: ADD_ONION refused: %r" % r)
    if ids[0] + ".onion" != addr:
        sys.exit("check_onion_key: tor says %s.onion, we computed %s"
                 % (ids[0], addr))
    r = cmd("DEL_ONION " + ids[0])
    if r[-1] != "250 OK":
        sys.exit("check_onion_key: DEL_ONION: %r" % r)
    n += 1
if n != 5:
    sys.exit("check_onion_key: checked %d keys, want 5" % n)
print("check_onion_key: tor agrees on %d keys" % n)
EOF
