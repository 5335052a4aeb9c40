#!/usr/bin/env python3
"""Turns bench/out/results.jsonl into bench/RESULTS.md and an SVG chart. No dependencies."""
import datetime
import json
import os
import platform
import subprocess
import sys

src, md_path, svg_path = sys.argv[1], sys.argv[2], sys.argv[3]
rows, bundle, browser, checks, startup, history = [], None, None, None, None, None
for line in open(src):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if "bundle" in d:
        bundle = d["bundle"]
    elif "browser" in d:
        browser = d["browser"]
    elif "checks" in d:
        checks = d["checks"]
    elif "startup" in d:
        startup = d["startup"]
    elif "history" in d:
        history = d["history"]
    else:
        rows.append(d)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("free -g | awk '/Mem:/{print $2}'")
machine = f"{os.cpu_count()} cores ({cpu}), {mem} GiB, Linux {platform.release()}, open files {sh('ulimit -n')}"
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

sizes = sorted({r["streams"] for r in rows})
by = {(r["name"], r["streams"]): r for r in rows}


def fmt(v, unit=""):
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    return f"{v:g}{unit}" if isinstance(v, float) else f"{v}{unit}"


out = [
    "# Benchmark results",
    "",
    f"Run {now} by `make bench` on this machine: {machine}.",
    "Server and load client on the same box, loopback. The same Rust client (`bench/loadgen`) "
    "drives both servers: it ramps the streams at 5,000/s from several source addresses and "
    "worker processes, pushes each change with a timestamp in it, and measures per stream the "
    "delay until that change arrived. RSS and CPU are read from /proc for the server processes "
    "(nginx: master + workers). Per-stream RSS = (RSS holding the streams − idle RSS) / streams.",
    "",
    "| server | streams | connected | connect failures | delivered / expected | fan-out p50 | p99 | max | RSS idle → loaded | RSS per stream | CPU (mean over the changes) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
]
for n in sizes:
    for name in ("statuscast", "nchan"):
        r = by.get((name, n))
        if not r:
            continue
        out.append(
            f"| {name} | {n:,} | {r['connected']:,} | {r['connect_failed']} | {r['delivered']:,} / {r['expected']:,} "
            f"| {fmt(r['p50_ms'], ' ms')} | {fmt(r['p99_ms'], ' ms')} | {fmt(r['max_ms'], ' ms')} "
            f"| {r['idle_rss_kib'] / 1024:.1f} → {max(r['plateau_rss_kib'], r['peak_rss_kib']) / 1024:.1f} MiB "
            f"| {fmt(r['rss_per_stream_kib'], ' KiB')} | {fmt(r['cpu_pct_during_fanout'], ' %')} |"
        )
out.append("")

churn = [r for r in rows if r["name"] == "statuscast" and r.get("churn_plateaus_kib")]
if churn:
    r = churn[-1]
    first = max(r["plateau_rss_kib"], r["peak_rss_kib"])
    plateaus = [first] + r["churn_plateaus_kib"]
    worst = max(abs(p - first) / first * 100 for p in plateaus)
    out += [
        "## Churn",
        "",
        f"{r['streams']:,} streams connected and disconnected {len(plateaus)} times. RSS at each plateau: "
        + ", ".join(f"{p / 1024:.1f} MiB" for p in plateaus)
        + f" (largest difference from the first: {worst:.1f} %). Connect failures during churn: "
        f"{r['churn_connect_failed']}. Open streams on the server afterwards: {r['open_streams_after']}. "
        f"RSS after everyone left: {r['after_rss_kib'] / 1024:.1f} MiB.",
        "",
    ]

out += ["## Browser and bundle", ""]
if browser:
    out.append(
        f"- {browser['pages']} Chromium pages on one statuscast, {browser['changes']} changes: change → DOM "
        f"p50 {browser['p50_ms']} ms, p99 {browser['p99_ms']} ms, max {browser['max_ms']} ms "
        f"({browser['samples']} samples). Control in the same pages, a plain JavaScript EventSource "
        f"(no wasm, no rendering): arrival p50 {browser.get('control_p50_ms', '–')} ms, p99 "
        f"{browser.get('control_p99_ms', '–')} ms, max {browser.get('control_max_ms', '–')} ms. The operator "
        f"API answered (change on disk) in p50 {browser['api_ack_p50_ms']} ms."
    )
if bundle:
    out.append(
        f"- Public page bundle (wasm + JS): {bundle['raw'] / 1024:.0f} KiB raw, {bundle['gzip'] / 1024:.1f} KiB gzip ({bundle['gzip']:,} B; budget 71,680 B); the admin area's lazy chunks add {bundle.get('admin_lazy_gzip', 0) / 1024:.1f} KiB gzip there only."
    )
if startup:
    out.append(
        f"- Start-up (embedded default, release build): first response {startup['first_response_ms']} ms after "
        f"spawn; idle RSS {startup['idle_rss_mib']} MiB after serving a page."
    )
if checks:
    out += [
        "",
        "## Checks",
        "",
        f"{checks['count']:,} HTTP checks every {checks['interval_s']} s ({checks['checks_per_s']} checks/s) against "
        f"a local nginx, measured over {checks['window_s']} s: statuscast used {checks['cpu_pct']} % of one core "
        f"and {checks['rss_mib']} MiB RSS; {checks['components_checked']:,} components checked, "
        f"{checks['components_up']:,} up; {checks['versions_published']} snapshot versions published in the window "
        f"(detail changes are gathered and pushed every 10 s; level changes at once).",
    ]
if history:
    out += [
        "",
        "## History size",
        "",
        f"{history['days']} simulated days of {history['components']} components checked every "
        f"{history['interval_s']} s ({history['results']:,} results) through the store, pruned hourly: the "
        f"database holds {history['db_mib']} MiB (raw results kept 24 h, per-minute rollups 48 h, per-hour "
        f"35 days, per-day 400 days, so the size stays flat after the first days).",
    ]
    if "render_ms" in history:
        out += [
            "",
            f"The status page's history for those {history['components']} components (90-day bars and 24 h "
            f"response-time charts, rebuilt once a minute) takes {history['render_ms']} ms to query and compute, "
            f"{history.get('draw_ms', '–')} ms to draw through `view!`: {history['html_kib']} KiB of HTML, "
            f"{history['html_gzip_kib']} KiB gzip; a page view reuses the drawing ({history.get('per_view_ms', '–')} ms).",
        ]
out += ["", "![fan-out p99 and RSS per stream](results.svg)", ""]
open(md_path, "w").write("\n".join(out))

# --- chart: two panels, grouped bars per size ----------------------------------------------
W, H, pad = 760, 300, 50
colors = {"statuscast": "#1f8a4c", "nchan": "#7a7f87"}


def panel(x0, title, key, unit):
    vals = [by[(n, s)][key] for s in sizes for n in ("statuscast", "nchan") if (n, s) in by]
    vals = [v for v in vals if isinstance(v, (int, float)) and v == v]
    top = max(vals) * 1.15 if vals else 1
    pw = W / 2 - pad * 1.5
    ph = H - 2 * pad
    parts = [f'<text x="{x0 + pw / 2}" y="22" text-anchor="middle" font-size="14" font-weight="600">{title}</text>',
             f'<line x1="{x0}" y1="{pad + ph}" x2="{x0 + pw}" y2="{pad + ph}" stroke="#333"/>']
    group = pw / max(len(sizes), 1)
    bw = group / 3
    for i, s in enumerate(sizes):
        for j, n in enumerate(("statuscast", "nchan")):
            r = by.get((n, s))
            if not r or not isinstance(r[key], (int, float)) or r[key] != r[key]:
                continue
            h = ph * r[key] / top
            x = x0 + i * group + bw * (j + 0.5)
            parts.append(f'<rect x="{x:.1f}" y="{pad + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{colors[n]}"/>')
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{pad + ph - h - 4:.1f}" text-anchor="middle" font-size="10">{r[key]:g}</text>')
        parts.append(f'<text x="{x0 + i * group + group / 2:.1f}" y="{pad + ph + 16}" text-anchor="middle" font-size="11">{s:,} streams</text>')
    parts.append(f'<text x="{x0}" y="{pad - 8}" font-size="10" fill="#555">{unit}</text>')
    return "\n".join(parts)


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 20}" font-family="sans-serif">',
       f'<rect width="{W}" height="{H + 20}" fill="#fff"/>',
       panel(pad, "Fan-out p99 (lower is better)", "p99_ms", "ms"),
       panel(W / 2 + pad / 2, "RSS per stream (lower is better)", "rss_per_stream_kib", "KiB"),
       f'<rect x="{W / 2 - 90}" y="{H + 2}" width="10" height="10" fill="{colors["statuscast"]}"/><text x="{W / 2 - 76}" y="{H + 11}" font-size="11">statuscast</text>',
       f'<rect x="{W / 2 + 10}" y="{H + 2}" width="10" height="10" fill="{colors["nchan"]}"/><text x="{W / 2 + 24}" y="{H + 11}" font-size="11">nchan</text>',
       "</svg>"]
open(svg_path, "w").write("\n".join(svg))
print("\n".join(out))
