#!/usr/bin/env python3
"""Checks benchmark: statuscast running N HTTP checks every INTERVAL against a local nginx.

Prints one JSON line: the server's CPU (mean over the window) and RSS, and how many checks
ran. Usage: checks.py SERVER_BIN OUT_DIR [N] [INTERVAL_S] [WINDOW_S]
With STATUSCAST_DATABASE_URL set (a postgres:// URL), the server stores into that database;
the results name the backend.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

server_bin, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
interval = int(sys.argv[4]) if len(sys.argv) > 4 else 10
window = int(sys.argv[5]) if len(sys.argv) > 5 else 60
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
backend = "postgres" if os.environ.get("STATUSCAST_DATABASE_URL", "").startswith("postgres") else "sqlite"
work = os.path.join(out, "checks-" + backend)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(os.path.join(work, "nginx", "tmp"))


def ticks_and_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return ticks, rss


def wait_port(port):
    import socket
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


with open(os.path.join(work, "statuscast.toml"), "w") as f:
    f.write(f"[checks]\nconcurrency = 64\n\n")
    for i in range(n):
        f.write(
            f'[[component]]\nid = "svc-{i}"\nname = "Service {i}"\ngroup = "Group {i // 50}"\n'
            f'[[component.check]]\nkind = "http"\nurl = "http://127.0.0.1:8091/svc/{i}"\n'
            f'interval = "{interval}s"\ntimeout = "{min(5, interval)}s"\nbody_contains = "ok"\n\n'
        )

def startup():
    """Embedded default (no config): spawn to first 200 from /healthz, and idle RSS."""
    data = os.path.join(work, "startup-data")
    t = time.time()
    p = subprocess.Popen([server_bin, "serve", "--addr", "127.0.0.1:4102", "--data-dir", data,
                          "--leptos-config", os.path.join(root, "Leptos.toml"),
                          "--config", os.path.join(work, "none.toml")],
                         env=dict(os.environ, STATUSCAST_LOG="warn"), stdout=subprocess.DEVNULL)
    try:
        while True:
            try:
                if urllib.request.urlopen("http://127.0.0.1:4102/healthz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.005)
            if time.time() - t > 10:
                raise SystemExit("server did not answer within 10 s")
        first = time.time() - t
        time.sleep(1)
        urllib.request.urlopen("http://127.0.0.1:4102/").read()
        time.sleep(0.5)
        return round(first * 1000), round(ticks_and_rss(p.pid)[1] / 1024, 1)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


first_response_ms, idle_rss_mib = startup()
print(json.dumps({"startup": {"backend": backend, "first_response_ms": first_response_ms, "idle_rss_mib": idle_rss_mib}}))

nginx = subprocess.Popen(["nginx", "-p", os.path.join(work, "nginx"), "-c", os.path.join(root, "bench", "fixture.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_port(8091)
env = dict(os.environ, STATUSCAST_LOG="warn")
server = subprocess.Popen(
    [server_bin, "serve", "--addr", "127.0.0.1:4101", "--data-dir", os.path.join(work, "data"),
     "--leptos-config", os.path.join(root, "Leptos.toml"), "--config", os.path.join(work, "statuscast.toml")],
    env=env, stdout=subprocess.DEVNULL)
try:
    started = time.time()
    wait_port(4101)
    start_s = time.time() - started
    time.sleep(interval + 5)  # every check has run at least once, jitter settled
    t0, _ = ticks_and_rss(server.pid)
    v0 = json.load(urllib.request.urlopen("http://127.0.0.1:4101/api/v1/status"))["version"]
    time.sleep(window)
    t1, rss = ticks_and_rss(server.pid)
    status = json.load(urllib.request.urlopen("http://127.0.0.1:4101/api/v1/status"))
    checked = sum(1 for c in status["components"] if c.get("checked_at_ms", 0) > 0)
    up = sum(1 for c in status["components"] if c["level"] == "operational")
    result = {
        "checks": {
            "backend": backend,
            "count": n, "interval_s": interval, "window_s": window,
            "cpu_pct": round((t1 - t0) / 100 / window * 100, 2),
            "rss_mib": round(rss / 1024, 1),
            "checks_per_s": round(n / interval, 1),
            "components_checked": checked, "components_up": up,
            "versions_published": status["version"] - v0,
            "start_to_listen_s": round(start_s, 2),
        }
    }
    print(json.dumps(result))
finally:
    server.send_signal(signal.SIGTERM)
    nginx.send_signal(signal.SIGQUIT)
    server.wait()
    nginx.wait()
