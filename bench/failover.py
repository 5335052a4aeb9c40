#!/usr/bin/env python3
"""Leader failover, measured: three instances of BINARY on the PostgreSQL database URL; the
leader is killed with SIGKILL, and the time until another instance has published its first
version (its /metrics: statuscast_leader 1 and a version above every one seen before the kill)
is taken; the killed instance is started again and the next run begins. Prints each run, then
p50 / max, and a JSON line for bench/out/results.jsonl.

Usage: bench/failover.py BINARY DATABASE_URL [RUNS]   (bench/failover.sh starts PostgreSQL)
"""
import json, os, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

binary, url = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="statuscast-failover-")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


ports = [free_port() for _ in range(3)]
procs = [None, None, None]


def start(i):
    data = os.path.join(work, str(i))
    os.makedirs(data, exist_ok=True)
    env = dict(os.environ, STATUSCAST_LOG="warn")
    env.pop("STATUSCAST_DATABASE_URL", None)
    procs[i] = subprocess.Popen(
        [binary, "serve", "--addr", f"127.0.0.1:{ports[i]}", "--database-url", url,
         "--data-dir", data, "--config", os.path.join(data, "none.toml"),
         "--leptos-config", os.path.join(root, "Leptos.toml")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        if metrics(i):
            return
        time.sleep(0.05)
    raise SystemExit(f"instance {i} did not start")


def metrics(i):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[i]}/metrics", timeout=1) as r:
            text = r.read().decode()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" ", 1)
            out[name] = int(float(value))
    return out


def leader(alive):
    while True:
        found = [i for i in alive if (metrics(i) or {}).get("statuscast_leader") == 1]
        if len(found) == 1:
            return found[0]
        time.sleep(0.02)


try:
    for i in range(3):
        start(i)
    times = []
    for run in range(runs):
        old = leader(range(3))
        survivors = [i for i in range(3) if i != old]
        before = max(metrics(i)["statuscast_snapshot_version"] for i in range(3))
        killed = time.monotonic()
        procs[old].send_signal(signal.SIGKILL)
        procs[old].wait()
        new = None
        while new is None:
            for i in survivors:
                m = metrics(i) or {}
                if m.get("statuscast_leader") == 1 and m.get("statuscast_snapshot_version", 0) > before:
                    new = (i, m["statuscast_snapshot_version"])
                    break
            if time.monotonic() - killed > 30:
                raise SystemExit("no new leader published within 30 s")
        took = time.monotonic() - killed
        times.append(took)
        print(f"run {run + 1}: leader {old} killed at version {before}; instance {new[0]} published {new[1]} after {took * 1000:.0f} ms", flush=True)
        start(old)
        time.sleep(1)
    p50, worst = statistics.median(times), max(times)
    print(f"failover (kill -9 -> first version by the new leader), {runs} runs: p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    print(json.dumps({"failover": {"runs": runs, "p50_ms": round(p50 * 1000), "max_ms": round(worst * 1000),
                                   "each_ms": [round(t * 1000) for t in times]}}))
finally:
    for p in procs:
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
