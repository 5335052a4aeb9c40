#!/usr/bin/python3
"""A local SMTP server for tests and benchmarks: keeps every message it accepts as a file.

    /usr/bin/python3 tools/smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 0] [--fail-first N]
    /usr/bin/python3 tools/smtp_sink.py --count-only --stats FILE [--host …] [--port …]

Listens on HOST:PORT (port 0: one the system picks, on a socket bound before the server
starts, so there is no race for it) and prints `ready <port>` on stdout once connections are
accepted. Each accepted message is written to DIR as `<n>.eml` (n = 1, 2, …, in the order
accepted; written to a temporary name first and renamed, so a file that exists is complete),
exactly as received (DATA, dot-unstuffed), and its envelope to `<n>.json`
(`{"mail_from": …, "rcpt_tos": […]}`) before the `.eml` appears. With `--fail-first N` the
first N messages are answered `451 4.3.0` (a transient error) and not kept.

With `--count-only` (benchmarks) nothing is kept: messages are accepted and counted, and
`--stats FILE` gets `{"count": n, "connections": c, "first": t, "last": t, "cpu_s": s}` (unix
seconds of the first and last accepted message, null before any; the sink's own CPU time) — written to a
temporary name and renamed, at most every 100 ms while the count changes, and at exit.
With it, `--quickack` (a diagnosis) acknowledges every TCP segment at once: a client that writes a
message's final `.` on its own, without TCP_NODELAY (lettre does), is then not held ~40 ms per
message by Nagle's algorithm waiting for this side's delayed ACK.

Plain SMTP, no TLS, no authentication (AUTH is refused). Stops on SIGTERM or SIGINT.
Needs aiosmtpd (Debian: python3-aiosmtpd, for /usr/bin/python3).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import time

from aiosmtpd.smtp import SMTP


class CountingSMTP(SMTP):
    """--count-only: counts connections too; with --quickack, TCP_QUICKACK set again before
    each read (Linux clears it by itself)."""

    quickack = False
    counter = None

    def connection_made(self, transport):
        if self.counter is not None:
            self.counter.connections += 1
        super().connection_made(transport)

    def data_received(self, data):
        if self.quickack and self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except (OSError, AttributeError):
                pass
        super().data_received(data)


class Counter:
    """--count-only: accepts every message, keeps none, counts them."""

    def __init__(self, stats):
        self.stats = stats
        self.count = 0
        self.connections = 0
        self.first = None
        self.last = None
        self.written = -1

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        if self.first is None:
            self.first = now
        self.last = now
        self.count += 1
        return "250 2.0.0 OK: counted"

    def write_stats(self):
        if self.stats is None:
            return
        cpu = time.process_time()
        data = json.dumps({"count": self.count, "connections": self.connections, "first": self.first, "last": self.last, "cpu_s": round(cpu, 3)})
        tmp = self.stats + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, self.stats)
        self.written = self.count

    async def stats_loop(self):
        while True:
            if self.count != self.written:
                self.write_stats()
            await asyncio.sleep(0.1)


class Sink:
    def __init__(self, directory, fail_first):
        self.directory = directory
        self.fail_left = fail_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 Try again later (smtp_sink --fail-first)"
        self.count += 1
        n = self.count
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        self._write(f"{n}.json", json.dumps(meta).encode())
        self._write(f"{n}.eml", content)
        return "250 2.0.0 OK: kept as %d.eml" % n

    def _write(self, name, data):
        final = os.path.join(self.directory, name)
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="where to write <n>.eml (created if missing); required unless --count-only")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N", help="answer 451 to the first N messages")
    parser.add_argument("--count-only", action="store_true", help="keep nothing, count (benchmarks)")
    parser.add_argument("--stats", metavar="FILE", help="with --count-only: the count as JSON, rewritten at most every 100 ms")
    parser.add_argument("--quickack", action="store_true", help="with --count-only: ACK every segment at once (TCP_QUICKACK)")
    parser.add_argument("--starttls-cert", metavar="PEM", help="offer STARTTLS with this certificate (and require it)")
    parser.add_argument("--starttls-key", metavar="PEM", help="the certificate's key")
    parser.add_argument("--implicit-tls", action="store_true", help="with --starttls-cert/-key: TLS from the first byte (SMTPS) instead")
    args = parser.parse_args()
    tls = {}
    context = None
    if args.implicit_tls and not args.starttls_cert:
        parser.error("--implicit-tls needs --starttls-cert and --starttls-key")
    if args.starttls_cert:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls_cert, args.starttls_key)
        if not args.implicit_tls:
            tls = {"tls_context": context, "require_starttls": True}
    if not args.count_only:
        if not args.dir:
            parser.error("--dir is required (or --count-only)")
        os.makedirs(args.dir, exist_ok=True)

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    handler = Counter(args.stats) if args.count_only else Sink(args.dir, args.fail_first)
    smtp_class = SMTP
    if args.count_only:
        smtp_class = type("Counting", (CountingSMTP,), {"quickack": args.quickack, "counter": handler})
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: smtp_class(handler, hostname="smtp-sink.local", data_size_limit=50 * 1024 * 1024, auth_require_tls=True, **tls),
        sock=sock,
        ssl=context if args.implicit_tls else None,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stats_task = None
    if args.count_only:
        handler.write_stats()
        stats_task = asyncio.create_task(handler.stats_loop())
    print(f"ready {port}", flush=True)
    await stop.wait()
    server.close()
    if stats_task is not None:
        stats_task.cancel()
        handler.write_stats()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
