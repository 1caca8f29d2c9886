#!/usr/bin/env python3
"""om-capture: record the peer frames two linkds exchange over TCP, for
replaying them at a member (tests/netns/test_adversarial.sh).

    om-capture.py IFACE PORT OUTDIR STOPFILE MAX_SECONDS [MAX_FRAMES]

Captures every TCP segment to or from PORT on IFACE (AF_PACKET, so it
needs root in the interface's namespace; no tcpdump needed) until
STOPFILE exists or MAX_SECONDS pass, then rebuilds each connection's
byte stream in both directions from its SYN (a connection that started
before the capture has no known frame boundary and is left out), cuts
each stream into whole frames (u32 length | type | body) and writes:

    OUTDIR/frames.bin   every frame (or the first MAX_FRAMES):
                        handshakes first, then DATA
    OUTDIR/hsinit.bin   the first HS_INIT sent to PORT (one frame)
    OUTDIR/stream.bin   the whole byte stream of the first connection to
                        PORT that carried one, as the dialer sent it

and prints one line "streams=N frames=N hs_init=N hs_resp=N data=N
bytes=N lost_streams=N written=N" (lost_streams: streams with a gap in the
capture; only their part up to the gap is used).
"""
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 3
MAX_BODY = 1 + 1 + 8 + (65536 + 64) + 16   # WIRE_MAX_BODY


def capture(iface, port, stopfile, max_s):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind((iface, 0))
    s.settimeout(0.2)
    segs = []
    end = time.time() + max_s
    while time.time() < end and not os.path.exists(stopfile):
        try:
            pkt = s.recv(262144)
        except socket.timeout:
            continue
        # Ethernet II, IPv4, TCP only.
        if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or len(ip) < ihl + 20:
            continue
        tot = struct.unpack("!H", ip[2:4])[0]
        ip = ip[:tot]
        tcp = ip[ihl:]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        if port not in (sport, dport):
            continue
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        key = (ip[12:16], sport, ip[16:20], dport)
        segs.append((key, seq, flags, tcp[doff:]))
    return segs


def streams(segs):
    """key -> bytes from the SYN on, up to the first gap."""
    isn, data = {}, {}
    for key, seq, flags, payload in segs:
        if flags & 0x02:                       # SYN (or SYN-ACK)
            isn[key] = seq
    gaps = 0
    out = {}
    for key, seq, flags, payload in segs:
        if key in isn and payload:
            off = (seq - isn[key] - 1) & 0xffffffff
            data.setdefault(key, {})[off] = payload
    for key, parts in data.items():
        buf = bytearray()
        for off in sorted(parts):
            p = parts[off]
            if off > len(buf):
                gaps += 1
                break
            buf += p[len(buf) - off:]          # retransmits overlap
        out[key] = bytes(buf)
    return out, gaps


def frames(stream):
    off, out = 0, []
    while off + 5 <= len(stream):
        n = struct.unpack("!I", stream[off:off + 4])[0]
        if n == 0 or n > MAX_BODY or off + 4 + n > len(stream):
            break
        out.append(stream[off:off + 4 + n])
        off += 4 + n
    return out


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit("usage: om-capture.py IFACE PORT OUTDIR STOPFILE "
                 "MAX_SECONDS [MAX_FRAMES]")
    limit = int(sys.argv[6]) if len(sys.argv) == 7 else None
    iface, port, outdir, stopfile = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], sys.argv[4]
    segs = capture(iface, port, stopfile, float(sys.argv[5]))
    st, gaps = streams(segs)
    hs, data, hsinit, whole = [], [], None, None
    counts = {1: 0, 2: 0, 3: 0}
    nbytes = 0
    for key in sorted(st, key=lambda k: (k[3] != port, k)):
        fr = frames(st[key])
        if key[3] == port and fr and whole is None:
            whole = b"".join(fr)
        for f in fr:
            t = f[4]
            counts[t] = counts.get(t, 0) + 1
            nbytes += len(f)
            if t == 1 and key[3] == port and hsinit is None:
                hsinit = f
            (hs if t in (1, 2) else data).append(f)
    chosen = (hs + data)[:limit]
    with open(os.path.join(outdir, "frames.bin"), "wb") as f:
        f.write(b"".join(chosen))
    if hsinit is not None:
        with open(os.path.join(outdir, "hsinit.bin"), "wb") as f:
            f.write(hsinit)
    if whole is not None:
        with open(os.path.join(outdir, "stream.bin"), "wb") as f:
            f.write(whole)
    print("streams=%d frames=%d hs_init=%d hs_resp=%d data=%d bytes=%d "
          "lost_streams=%d written=%d" % (
              len(st), len(hs) + len(data), counts[1], counts[2],
              counts[3], nbytes, gaps, len(chosen)))


if __name__ == "__main__":
    main()
