#!/usr/bin/env python3
"""Notifications benchmark (part "notify" of `make bench`; bench/notify.sh runs it).

NOTIFY_SUBSCRIBERS (10,000) confirmed email subscribers and one incident: the time until every
mail is handed to a local SMTP server (tools/smtp_sink.py --count-only), statuscast's CPU and
memory meanwhile, and change -> stream latency on NOTIFY_STREAMS (200) SSE streams, idle and
while the mails go out (an operator override posted every 250 ms; each stream's delay until an
event with the new version, or a later one, arrives).

Found with it (2026-12, lettre 0.11.23, 8 at once): ~131 mails/s with statuscast at ~5 % and
the sink at ~8 % of a core, i.e. bound by waiting. lettre writes a message's final "\r\n.\r\n"
on its own without TCP_NODELAY, so Nagle holds it until the server's delayed ACK (~40 ms on
Linux) for every mail: with the sink ACKing at once (NOTIFY_QUICKACK=1) the same run does ~520
mails/s. lettre's pool also opens a new connection about every 5 mails (a connection goes back
to the pool in a spawned task, after the next checkout found it empty), seen as
"smtp_connections".

Usage: notify.py SERVER_BIN OUT_DIR (NOTIFY_QUICKACK=1: the sink ACKs at once, a diagnosis). Prints a summary on stderr and one JSON line
`{"notify": {...}}` on stdout.
"""
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

server_bin, out = sys.argv[1], sys.argv[2]
N = int(os.environ.get("NOTIFY_SUBSCRIBERS", "10000"))
STREAMS = int(os.environ.get("NOTIFY_STREAMS", "200"))
BASELINE_S = float(os.environ.get("NOTIFY_BASELINE_S", "10"))
TIMEOUT_S = float(os.environ.get("NOTIFY_TIMEOUT_S", "600"))
GAP_S = 0.25
# A diagnosis: the sink ACKs at once (tools/smtp_sink.py --quickack), which takes away the
# ~40 ms a mail waits for Nagle + delayed ACK (lettre writes the final "." on its own).
QUICKACK = os.environ.get("NOTIFY_QUICKACK", "") not in ("", "0")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = os.path.join(out, "notify")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
data_dir = os.path.join(work, "data")
stats_path = os.path.join(work, "sink-stats.json")
token = "bench-token-" + secrets.token_hex(8)
TICK = os.sysconf("SC_CLK_TCK")
children = []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cleanup(*_):
    # statuscast first: it holds pooled connections to the sink.
    for p in reversed(children):
        stop(p)
    children.clear()


def on_signal(sig, _):
    cleanup()
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


def proc_sample(pid):
    """(cpu ticks, VmRSS KiB, VmHWM KiB)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return ticks, rss, hwm


def sink_stats():
    try:
        with open(stats_path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"count": 0, "first": None, "last": None, "cpu_s": 0}


def http(method, port, path, body=None, timeout=10):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as res:
        return res.status, dict(res.headers), res.read()


def wait_healthy(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"statuscast exited ({proc.returncode}); see {work}/statuscast.log")
        try:
            if http("GET", port, "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("statuscast did not answer within 15 s")


def start_server(port, config):
    env = dict(os.environ, STATUSCAST_ADMIN_TOKEN=token, STATUSCAST_LOG="warn")
    logf = open(os.path.join(work, "statuscast.log"), "a")
    p = subprocess.Popen([server_bin, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir,
                          "--config", config, "--leptos-config", os.path.join(root, "Leptos.toml"),
                          "--host-interval", "1h"], env=env, stdout=logf, stderr=logf)
    children.append(p)
    wait_healthy(port, p)
    return p


def metrics(port):
    text = http("GET", port, "/metrics")[2].decode()
    found = {}
    for line in text.splitlines():
        if line.startswith("statuscast_notify_"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


# --- SSE streams ------------------------------------------------------------------------------
class Stream:
    """One `/connect_to_sse` stream; notes when each event id first arrived (perf_counter)."""

    def __init__(self):
        self.arrivals = []  # (id, t), ids increasing
        self.connected = asyncio.Event()
        self.error = None

    async def run(self, port):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /connect_to_sse HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n")[0].decode())
            chunked = b"transfer-encoding: chunked" in head.lower()
            self.connected.set()
            buf = b""
            while True:
                if chunked:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size + 2)
                    buf += data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                    buf += data
                now = time.perf_counter()
                while b"\n\n" in buf:
                    event, buf = buf.split(b"\n\n", 1)
                    for line in event.split(b"\n"):
                        if line.startswith(b"id:"):
                            self.arrivals.append((int(line[3:].strip()), now))
        except Exception as e:  # noqa: BLE001 - a broken stream is reported, not fatal
            self.error = repr(e)
            self.connected.set()

    def first_at_or_after(self, version):
        for v, t in self.arrivals:
            if v >= version:
                return t
        return None


async def changes(port, streams, until, label):
    """Posts an operator override every 250 ms until `until()`; latencies (ms) of every stream."""
    loop = asyncio.get_running_loop()
    posted = []  # (t0, version)
    i = 0
    while not until():
        level = "degraded_performance" if i % 2 == 0 else "operational"
        t0 = time.perf_counter()
        status, headers, _ = await loop.run_in_executor(
            None, lambda: http("POST", port, "/api/v1/status", {"level": level, "message": f"bench {label} {i}"}))
        version = int(headers.get("ETag", headers.get("etag", "0")).strip('"'))
        posted.append((t0, version))
        i += 1
        await asyncio.sleep(max(0.0, t0 + GAP_S - time.perf_counter()))
    await asyncio.sleep(1.0)  # let the last change arrive
    lat, missing = [], 0
    for t0, version in posted:
        for s in streams:
            t = s.first_at_or_after(version)
            if t is None:
                missing += 1
            else:
                lat.append((t - t0) * 1000)
    lat.sort()
    return {"changes": len(posted), "samples": len(lat), "missing": missing,
            "p50_ms": round(pct(lat, 50), 1) if lat else None,
            "p99_ms": round(pct(lat, 99), 1) if lat else None,
            "max_ms": round(lat[-1], 1) if lat else None}


async def bench():
    # The component's tcp check: a port kept listening (accepts, closes).
    async def accept(reader, writer):
        writer.close()
    check_server = await asyncio.start_server(accept, "127.0.0.1", 0)
    check_port = check_server.sockets[0].getsockname()[1]

    sink = subprocess.Popen(["/usr/bin/python3", os.path.join(root, "tools", "smtp_sink.py"), "--count-only",
                             "--stats", stats_path, "--port", "0"] + (["--quickack"] if QUICKACK else []), stdout=subprocess.PIPE, text=True)
    children.append(sink)
    ready = sink.stdout.readline().split()
    if ready[:1] != ["ready"]:
        raise SystemExit("smtp_sink.py did not start")
    sink_port = int(ready[1])

    port = free_port()
    config = os.path.join(work, "statuscast.toml")
    with open(config, "w") as f:
        f.write(f'[page]\nurl = "http://127.0.0.1:{port}"\n\n'
                f'[subscriptions]\nemail = true\nsmtp = {{ host = "127.0.0.1", port = {sink_port}, tls = "none", '
                f'from = "Bench <bench@example.com>" }}\n\n'
                f'[[component]]\nid = "api"\nname = "API"\n[[component.check]]\nkind = "tcp"\n'
                f'address = "127.0.0.1:{check_port}"\ninterval = "1s"\ntimeout = "1s"\n')

    # Once so the migrations run; then the subscribers, straight into the file (setup, not measured).
    server = start_server(port, config)
    stop(server)
    children.remove(server)
    now_ms = int(time.time() * 1000)
    db = sqlite3.connect(os.path.join(data_dir, "statuscast.db"))
    with db:
        db.executemany(
            "INSERT INTO subscribers (channel, address, components_json, token, created_ms, confirmed_ms, asked_ms) "
            "VALUES ('email', ?, '[]', ?, ?, ?, ?)",
            ((f"user{i}@example.com", secrets.token_hex(16), now_ms, now_ms, now_ms) for i in range(N)))
    db.close()

    server = start_server(port, config)
    pid = server.pid
    await asyncio.sleep(2)  # the first check ran, the levels noted

    streams = [Stream() for _ in range(STREAMS)]
    tasks = [asyncio.create_task(s.run(port)) for s in streams]
    await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in streams)), 30)
    broken = [s.error for s in streams if s.error]
    if broken:
        raise SystemExit(f"{len(broken)} streams failed: {broken[:3]}")
    await asyncio.sleep(0.5)

    log(f"== baseline: {STREAMS} streams, an override every {GAP_S * 1000:.0f} ms for {BASELINE_S:g} s")
    end = time.perf_counter() + BASELINE_S
    baseline = await changes(port, streams, lambda: time.perf_counter() >= end, "idle")
    log(f"   {baseline}")

    ticks0, rss0, _ = proc_sample(pid)
    sink0 = sink_stats()
    samples = []  # (t, ticks, rss)
    done = {"at": None}

    def finished():
        return done["at"] is not None

    async def sample():
        deadline = time.time() + TIMEOUT_S
        while True:
            t = time.time()
            ticks, rss, _ = proc_sample(pid)
            samples.append((t, ticks, rss))
            if sink_stats()["count"] >= N:
                done["at"] = t
                return
            if t >= deadline:
                done["at"] = t
                done["timeout"] = True
                return
            await asyncio.sleep(0.25)

    log(f"== one incident, {N:,} confirmed subscribers")
    t0 = time.time()
    loop = asyncio.get_running_loop()
    status, _, _ = await loop.run_in_executor(None, lambda: http(
        "POST", port, "/api/v1/incidents",
        {"title": "Bench incident", "impact": "major", "status": "investigating", "message": "Mails for everyone."}))
    assert status in (200, 201), status
    sampler = asyncio.create_task(sample())
    during = await changes(port, streams, finished, "busy")
    await sampler
    _, _, hwm = proc_sample(pid)
    st = sink_stats()
    t_end = st["last"] or done["at"]
    elapsed = t_end - t0
    # CPU over [T0, the sample at which the sink had them all].
    t_last, ticks_last, _ = samples[-1]
    cpu_pct = (ticks_last - ticks0) / TICK / max(t_last - t0, 1e-9) * 100
    sink_cpu_pct = (st["cpu_s"] - sink0["cpu_s"]) / max(t_last - t0, 1e-9) * 100

    # The outbox records each batch after sending it: wait for the last records.
    m = {}
    for _ in range(100):
        m = metrics(port)
        if m.get('statuscast_notify_deliveries{state="sent"}', 0) >= N or \
                m.get('statuscast_notify_deliveries{state="pending"}', 1) == 0:
            break
        time.sleep(0.1)
    await asyncio.sleep(0.5)
    m = metrics(port)
    for t in tasks:
        t.cancel()
    check_server.close()

    result = {
        "subscribers": N,
        "sink_quickack": QUICKACK,
        "mails": st["count"],
        "timed_out": bool(done.get("timeout")),
        "first_mail_s": round(st["first"] - t0, 2) if st["first"] else None,
        "seconds": round(elapsed, 2),
        "mails_per_s": round(st["count"] / elapsed, 1) if elapsed > 0 else None,
        "cpu_pct": round(cpu_pct, 1),
        "rss_before_mib": round(rss0 / 1024, 1),
        "rss_peak_mib": round(max([r for _, _, r in samples] + [rss0]) / 1024, 1),
        "hwm_mib": round(hwm / 1024, 1),
        "sink_cpu_pct": round(sink_cpu_pct, 1),
        "smtp_connections": st.get("connections", 0) - sink0.get("connections", 0),
        "sent": int(m.get('statuscast_notify_deliveries{state="sent"}', -1)),
        "failed": int(m.get('statuscast_notify_deliveries{state="failed"}', -1)),
        "pending": int(m.get('statuscast_notify_deliveries{state="pending"}', -1)),
        "errors": int(m.get('statuscast_notify_attempts_total{result="error"}', -1)),
        "streams": STREAMS,
        "baseline": baseline,
        "during": during,
    }
    result["ok"] = (result["mails"] == N and result["sent"] == N and result["failed"] == 0
                    and result["pending"] == 0 and not result["timed_out"])
    return result


def main():
    try:
        r = asyncio.run(bench())
    finally:
        cleanup()
    b, d = r["baseline"], r["during"]
    log(f"   mails handed to the SMTP server: {r['mails']:,} / {r['subscribers']:,} in {r['seconds']} s "
        f"({r['mails_per_s']} mails/s; first after {r['first_mail_s']} s)")
    log(f"   statuscast CPU {r['cpu_pct']} % of one core, RSS {r['rss_before_mib']} -> peak {r['rss_peak_mib']} MiB "
        f"(VmHWM {r['hwm_mib']} MiB); the sink's CPU {r['sink_cpu_pct']} %, SMTP connections {r['smtp_connections']}")
    log(f"   /metrics: sent {r['sent']:,}, failed {r['failed']}, pending {r['pending']}, attempt errors {r['errors']}")
    log(f"   change -> stream ({r['streams']} streams): idle p50 {b['p50_ms']} / p99 {b['p99_ms']} / max {b['max_ms']} ms "
        f"({b['changes']} changes); during p50 {d['p50_ms']} / p99 {d['p99_ms']} / max {d['max_ms']} ms "
        f"({d['changes']} changes, {d['missing']} missing)")
    log("   OK" if r["ok"] else "   NOT OK: mails, sent, failed or pending are off")
    print(json.dumps({"notify": r}), flush=True)


if __name__ == "__main__":
    main()
