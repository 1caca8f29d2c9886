#!/usr/bin/env python3
"""Count what crosses a (TUN) device for a few seconds: a diagnostic for
the data-path tests (tests/netns/test_faults.sh, tund_kill_loop.sh) when
traffic stops. Run inside the device's namespace:

    dp_sniff.py DEV SECONDS

One line: per (direction, protocol, source, destination[, ICMP type])
the number of packets seen. "out" = the kernel sent it to the device
(tund reads it), "in" = tund wrote it (the kernel received it). Why
AF_PACKET: no tcpdump on the test machines; a TUN device has no link
header, so the IP header starts at byte 0."""
import select
import socket
import sys
import time

ETH_P_ALL = 3
dev, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((dev, 0))
counts = {}
end = time.monotonic() + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    r, _, _ = select.select([s], [], [], left)
    if not r:
        continue
    pkt, addr = s.recvfrom(65535)
    d = "out" if addr[2] == socket.PACKET_OUTGOING else "in"
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        k = (d, "v%d" % (pkt[0] >> 4 if pkt else 0), "", "", "")
    else:
        ihl = (pkt[0] & 15) * 4
        proto = {1: "icmp", 6: "tcp", 17: "udp"}.get(pkt[9], str(pkt[9]))
        extra = ""
        if pkt[9] == 1 and len(pkt) > ihl:
            extra = {0: "reply", 8: "request"}.get(pkt[ihl],
                                                   str(pkt[ihl]))
        k = (d, proto, socket.inet_ntoa(pkt[12:16]),
             socket.inet_ntoa(pkt[16:20]), extra)
    counts[k] = counts.get(k, 0) + 1
print("; ".join("%s %s %s>%s%s: %d" % (k[0], k[1], k[2], k[3],
                                        " " + k[4] if k[4] else "", v)
                for k, v in sorted(counts.items())) or "nothing")
