"""What a wake-up costs on this machine: the floor under every unbatched hop of a saga.

A process that waits for a reply (PostgreSQL, NATS) with nothing else to do goes idle, and the
reply wakes it. On bare metal that costs a few microseconds; in a virtual machine it can cost far
more, and it is paid by every process on the path (ours, PostgreSQL's backend, nats-server) for
every round trip. This prints, for an asyncio (uvloop) process:

1. CPU per `asyncio.sleep(5 ms)`: one idle period and one wake-up, nothing else;
2. CPU per loopback TCP round trip to an echo process, back to back (the peer rarely sleeps)
   and spaced 5 ms apart (both sides sleep and wake every time), with the sleep's own cost
   from (1) taken off.

    uv run python bench/wakeup.py
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time

import uvloop


def _echo(server: socket.socket) -> None:
    with server:
        connection, _ = server.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := connection.recv(64):
            connection.sendall(data)


async def _sleeps(count: int, gap: float) -> float:
    started = time.process_time()
    for _ in range(count):
        await asyncio.sleep(gap)
    return (time.process_time() - started) / count


async def _round_trips(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: int, gap: float
) -> tuple[float, float]:
    """CPU and wall seconds per round trip (the spacing itself not counted)."""
    cpu = wall = 0.0
    for _ in range(count):
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        writer.write(b"ping")
        await reader.readexactly(4)
        cpu += time.process_time() - cpu_before
        wall += time.perf_counter() - wall_before
        if gap:
            await asyncio.sleep(gap)
    return cpu / count, wall / count


async def _measure(count: int, gap: float) -> None:
    sleep_cpu = await _sleeps(count, gap)
    print(f"asyncio.sleep({gap * 1000:.0f} ms): {sleep_cpu * 1e6:6.0f} µs CPU per idle + wake-up")
    # Listening before the echo process starts: our connection waits in the backlog.
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    peer = multiprocessing.get_context("fork").Process(target=_echo, args=(server,), daemon=True)
    peer.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for label, spacing in (("back to back", 0.0), (f"{gap * 1000:.0f} ms apart", gap)):
        cpu, wall = await _round_trips(reader, writer, count, spacing)
        print(
            f"TCP round trip, {label:>12}: {cpu * 1e6:6.0f} µs CPU (this process), "
            f"{wall * 1e6:6.0f} µs wall"
        )
    writer.close()
    peer.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--gap", type=float, default=0.005, help="seconds between round trips")
    args = parser.parse_args()
    print(f"machine: {multiprocessing.cpu_count()} cores")
    uvloop.run(_measure(args.count, args.gap))


if __name__ == "__main__":
    main()
