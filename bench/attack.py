#!/usr/bin/env python3
"""Attack clients for bench/attack.sh (the hardening figures): each `hold` process opens
connections of one kind and holds them until killed; `probe` times fresh requests.

  attack.py hold KIND COUNT HOST:PORT SOURCE_IP READY_FILE
  attack.py probe HOST:PORT PATH TRIES      -> one JSON line

KIND: idle (sends nothing), stalled-body (a login form's head and 7 bytes of its body),
big-body (an unauthenticated API POST sending 1.99 MB of its body, then stalling),
big-body-token (the same with the operator token, from ATTACK_TOKEN),
stream (GET /connect_to_sse HTTP/1.1), stream10 (the same over HTTP/1.0),
big-id (a stream with a 300 KB Last-Event-ID).
"""
import asyncio
import json
import os
import socket
import sys
import time

HEADS = {
    "idle": b"",
    "stalled-body": b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 1000\r\n\r\nsecret=",
    "big-body": b"POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2000000\r\n\r\n" + b" " * 1_990_000,
    "big-body-token": b"POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Authorization: Bearer " + os.environ.get("ATTACK_TOKEN", "").encode() + b"\r\n"
    b"Content-Length: 2000000\r\n\r\n" + b" " * 1_990_000,
    "stream": b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n",
    "stream10": b"GET /connect_to_sse HTTP/1.0\r\nHost: x\r\n\r\n",
    "big-id": b"GET /connect_to_sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + b"7" * 300_000 + b"\r\n\r\n",
}


async def open_one(host, port, source, payload):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source, 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.sock_connect(sock, (host, port)), 10)
    if payload:
        await asyncio.wait_for(loop.sock_sendall(sock, payload), 30)
    return sock


async def drain(sock):
    """Reads (and drops) what a stream sends, so the server never sees a stalled reader."""
    loop = asyncio.get_running_loop()
    try:
        while await loop.sock_recv(sock, 65536):
            pass
    except OSError:
        pass


async def hold(kind, count, target, source, ready_file):
    host, port = target.rsplit(":", 1)
    payload = HEADS[kind]
    held, failed = [], 0
    sem = asyncio.Semaphore(200)

    async def one():
        nonlocal failed
        async with sem:
            try:
                s = await open_one(host, int(port), source, payload)
                held.append(s)
                if kind.startswith("stream") or kind == "big-id":
                    asyncio.ensure_future(drain(s))
            except (OSError, asyncio.TimeoutError):
                failed += 1

    await asyncio.gather(*(one() for _ in range(count)))
    with open(ready_file, "w") as f:
        json.dump({"kind": kind, "opened": len(held), "failed": failed}, f)
    while True:
        await asyncio.sleep(3600)


def probe(target, path, tries):
    host, port = target.rsplit(":", 1)
    times, ok = [], 0
    for _ in range(tries):
        started = time.monotonic()
        try:
            with socket.create_connection((host, int(port)), timeout=2) as s:
                s.settimeout(2)
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                first = s.recv(64)
                while s.recv(65536):
                    pass
            if first.startswith(b"HTTP/1.1 200"):
                ok += 1
                times.append((time.monotonic() - started) * 1000)
        except OSError:
            pass
        time.sleep(0.05)
    times.sort()
    print(json.dumps({
        "path": path, "tries": tries, "ok": ok,
        "p50_ms": round(times[len(times) // 2], 1) if times else None,
        "max_ms": round(times[-1], 1) if times else None,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        asyncio.run(hold(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]))
    else:
        probe(sys.argv[2], sys.argv[3], int(sys.argv[4]))
