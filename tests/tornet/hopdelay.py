#!/usr/bin/env python3
"""Latency for the private Tor network: a TCP relay in front of one tor
node's ORPort that holds every chunk, each way, for MS milliseconds.

    hopdelay.py LISTEN_PORT TARGET_PORT MS PIDFILE

The node advertises LISTEN_PORT and listens on TARGET_PORT, so every
connection between two tors (client to guard, relay to relay) crosses
one of these and takes 2 x MS more per round trip, as a hop across the
internet would. On plain loopback a circuit's idle round trip is ~12 ms
and four times that under load, which tor's circuit congestion control
reads as queueing (bench/RESULTS.md); with real hop latency the idle
round trip is mostly distance, as on the public network. The kernel here
has no netem, hence this.

Order is kept per direction (one queue each); reading stops while
LIMIT bytes wait, so a slow reader pushes back on the writer instead of
this process growing. Loopback only; it ends on SIGTERM.
"""
import asyncio
import os
import signal
import sys
import time

LIMIT = 4 << 20
CHUNK = 1 << 16


async def pipe(reader, writer, delay):
    q = asyncio.Queue()
    room = asyncio.Event()
    room.set()
    queued = 0

    async def feed():
        nonlocal queued
        try:
            while True:
                await room.wait()
                b = await reader.read(CHUNK)
                if not b:
                    break
                queued += len(b)
                if queued >= LIMIT:
                    room.clear()
                q.put_nowait((time.monotonic() + delay, b))
        except (ConnectionError, OSError):
            pass
        q.put_nowait((0.0, None))

    async def drain():
        nonlocal queued
        try:
            while True:
                due, b = await q.get()
                if b is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(b)
                await writer.drain()
                queued -= len(b)
                if queued < LIMIT:
                    room.set()
        except (ConnectionError, OSError):
            pass
        try:
            writer.close()
        except OSError:
            pass

    await asyncio.gather(feed(), drain())


async def main(listen, target, delay):
    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw, delay), pipe(ur, cw, delay))

    srv = await asyncio.start_server(handle, "127.0.0.1", listen,
                                     reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with srv:
        await stop.wait()


def usage(why):
    sys.stderr.write("hopdelay: %s\n"
                     "usage: hopdelay.py LISTEN_PORT TARGET_PORT MS "
                     "PIDFILE\n" % why)
    sys.exit(2)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        usage("want 4 arguments, got %d" % (len(sys.argv) - 1))
    try:
        lp, tp, ms = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    except ValueError:
        usage("ports and MS must be whole numbers: %r" % sys.argv[1:4])
    if not (0 < lp < 65536 and 0 < tp < 65536):
        usage("ports must be 1..65535: %d %d" % (lp, tp))
    if not 0 <= ms <= 1000:
        usage("MS '%d': want 0..1000" % ms)
    with open(sys.argv[4], "w") as f:
        f.write("%d\n" % os.getpid())
    asyncio.run(main(lp, tp, ms / 1000.0))
