#!/usr/bin/python3
"""A local SMTP server for tests and benchmarks: keeps every message it accepts as a file.

    /usr/bin/python3 tools/smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 0] [--fail-first N]

Listens on HOST:PORT (port 0: one the system picks, on a socket bound before the server
starts, so there is no race for it) and prints `ready <port>` on stdout once connections are
accepted. Each accepted message is written to DIR as `<n>.eml` (n = 1, 2, …, in the order
accepted; written to a temporary name first and renamed, so a file that exists is complete),
exactly as received (DATA, dot-unstuffed), and its envelope to `<n>.json`
(`{"mail_from": …, "rcpt_tos": […]}`) before the `.eml` appears. With `--fail-first N` the
first N messages are answered `451 4.3.0` (a transient error) and not kept.

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

from aiosmtpd.smtp import SMTP


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
    parser.add_argument("--dir", required=True, help="where to write <n>.eml (created if missing)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N", help="answer 451 to the first N messages")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    handler = Sink(args.dir, args.fail_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink.local", data_size_limit=50 * 1024 * 1024, auth_require_tls=True),
        sock=sock,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready {port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
