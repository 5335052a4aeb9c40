#!/usr/bin/env python3
"""Turns bench/out/results.jsonl into bench/RESULTS.md and an SVG chart. No dependencies."""
import datetime
import json
import os
import platform
import subprocess
import sys

src, md_path, svg_path = sys.argv[1], sys.argv[2], sys.argv[3]
rows, bundle, browser = [], None, None
# The rush (bench/pages.sh), HTTP/2 streams (bench/h2.sh), tabs sharing a stream.
pages, pages_renders, h2, tabs = [], None, [], None
# Several instances on one PostgreSQL (bench/cluster.sh): by backend, the 100,000, failover.
cluster_path, cluster, failover = {}, None, None
# Notifications (bench/notify.sh): subscribers' mails for one incident.
notify = None
# Measured once per storage backend ("sqlite", "postgres"), by backend.
checks, startup, history, render, sigkill = {}, {}, {}, {}, {}
# Parts measured again on their own (BENCH_PARTS, bench/keep_parts.py).
rerun = []
for line in open(src):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    if "rerun" in d:
        rerun = d["rerun"]
    elif "bundle" in d:
        bundle = d["bundle"]
    elif "pages" in d:
        pages.append(d)
    elif "pages_renders" in d:
        pages_renders = d
    elif "h2" in d:
        h2.append(d)
    elif "tabs" in d:
        tabs = d["tabs"]
    elif "cluster_path" in d:
        cluster_path[d["cluster_path"]["backend"]] = d["cluster_path"]
    elif "cluster" in d:
        cluster = d["cluster"]
    elif "failover" in d:
        failover = d["failover"]
    elif "notify" in d:
        notify = d["notify"]
    elif "browser" in d:
        browser = d["browser"]
    else:
        for key, into in (("checks", checks), ("startup", startup), ("history", history),
                          ("history_render", render), ("sigkill", sigkill)):
            if key in d:
                into[d[key].get("backend", "sqlite")] = d[key]
                break
        else:
            rows.append(d)
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


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
    f"Run {now} by `make bench` on this machine: {machine}."
    + (" Measured again on their own after the full run (`BENCH_PARTS`): "
       + ", ".join(f"{r['part']} ({r['at']})" for r in rerun)
       + ", and the bundle; everything else is from the full run." if rerun else ""),
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

if cluster or cluster_path or failover:
    out += ["## Several instances on one PostgreSQL", ""]
    if cluster:
        c = cluster
        out.append(
            f"- {c['streams']:,} streams on {c['instances']} instances sharing one port (`--reuse-port`) on one "
            f"PostgreSQL, held by {c['processes']} client processes; {c['changes']} changes posted to the shared "
            f"port: delivered {c['delivered']:,} / {c['expected']:,}, fan-out p50 {fmt(c['p50_ms'], ' ms')}, "
            f"p99 {fmt(c['p99_ms'], ' ms')}, max {fmt(c['max_ms'], ' ms')} (target p99 ≤ 1 s); RSS per stream "
            f"{fmt(c['rss_per_stream_kib'], ' KiB')} (the instances' growth together: "
            f"{c['idle_rss_kib'] / 1024:.1f} → {c['peak_rss_kib'] / 1024:.1f} MiB; target ≤ 4 KiB); "
            f"connect failures {c['connect_failed']}, dropped {c['dropped']}."
        )
    if cluster_path:
        parts = [f"{NAMES[b]} p50 {fmt(r['p50_ms'], ' ms')}, p99 {fmt(r['p99_ms'], ' ms')} "
                 f"({r['delivered']:,} / {r['expected']:,})" for b, r in sorted(cluster_path.items(), reverse=True)]
        n = next(iter(cluster_path.values()))["streams"]
        out.append(f"- The cluster path's cost, change → stream at {n:,} streams on one instance: " + "; ".join(parts)
                   + " (PostgreSQL: the snapshot stored, `NOTIFY`, loaded back and published).")
    if failover:
        out.append(
            f"- Leader failover (kill -9 of the leader of three → first version published by the new one), "
            f"{failover['runs']} runs: p50 {failover['p50_ms']} ms, max {failover['max_ms']} ms "
            f"(each: {', '.join(str(t) for t in failover['each_ms'])} ms; target ≤ 5 s)."
        )
    out.append("")

if notify:
    r, b, d = notify, notify["baseline"], notify["during"]
    out += [
        "## Notifications",
        "",
        f"{r['subscribers']:,} confirmed email subscribers and one incident (`POST /api/v1/incidents`), the mails "
        "handed to a local SMTP server that counts and keeps nothing (`tools/smtp_sink.py --count-only`, one Python "
        "process, on the same cores); the subscribers were written straight into the SQLite file, everything after is "
        "statuscast's path: the event, its deliveries, claimed and sent through the pooled SMTP connections.",
        "",
        f"- Mails handed to the SMTP server: {r['mails']:,} / {r['subscribers']:,} in {fmt(r['seconds'], ' s')} after the "
        f"incident was posted ({fmt(r['mails_per_s'])} mails/s; the first after {fmt(r['first_mail_s'], ' s')})"
        + (" — timed out" if r.get("timed_out") else "") + f". `/metrics`: {r['sent']:,} sent, {r['failed']} failed, "
        f"{r['pending']} pending.",
        f"- statuscast meanwhile: CPU {fmt(r['cpu_pct'], ' %')} of one core (mean), RSS {fmt(r['rss_before_mib'])} → "
        f"peak {fmt(r['rss_peak_mib'], ' MiB')} (VmHWM {fmt(r['hwm_mib'], ' MiB')}); the sink's CPU "
        f"{fmt(r['sink_cpu_pct'], ' %')} of one core; SMTP connections opened: {fmt(r.get('smtp_connections'))}"
        + (" (the sink ACKing every segment at once, `--quickack`: a diagnosis)" if r.get("sink_quickack") else "")
        + (". Neither process is busy: the rate is bound by waiting, not by CPU (see bench/notify.py)."
           if r["cpu_pct"] < 50 and r["sink_cpu_pct"] < 50 else "."),
        f"- Change → stream on {r['streams']} SSE streams, an operator override every 250 ms: idle p50 "
        f"{fmt(b['p50_ms'], ' ms')}, p99 {fmt(b['p99_ms'], ' ms')}, max {fmt(b['max_ms'], ' ms')} ({b['changes']} changes); "
        f"while the mails go out p50 {fmt(d['p50_ms'], ' ms')}, p99 {fmt(d['p99_ms'], ' ms')}, max {fmt(d['max_ms'], ' ms')} "
        f"({d['changes']} changes, {d['missing']} missed). The streams are read by a Python client on the same cores.",
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
        f"- Public page bundle (wasm + JS): {bundle['raw'] / 1024:.0f} KiB raw, {bundle['gzip'] / 1024:.1f} KiB gzip ({bundle['gzip']:,} B; budget 71,680 B); the admin area loads a bundle of its own instead, {bundle.get('admin_gzip', 0) / 1024:.1f} KiB gzip."
    )
for b, st in startup.items():
    out.append(
        f"- Start-up ({NAMES[b]}, embedded default, release build): first response {st['first_response_ms']} ms after "
        f"spawn; idle RSS {st['idle_rss_mib']} MiB after serving a page."
    )
if checks:
    c0 = next(iter(checks.values()))
    out += [
        "",
        "## Checks",
        "",
        f"{c0['count']:,} HTTP checks every {c0['interval_s']} s ({c0['checks_per_s']} checks/s) against a local nginx, "
        f"measured over {c0['window_s']} s, with each storage backend (PostgreSQL: a local throwaway cluster; its own "
        "processes' CPU and memory are not counted). Detail changes are gathered and pushed every 10 s; level changes at once.",
        "",
        "| backend | statuscast CPU (one core) | RSS | components checked / up | versions published |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for b, c in checks.items():
        out.append(f"| {NAMES[b]} | {c['cpu_pct']} % | {c['rss_mib']} MiB | {c['components_checked']:,} / {c['components_up']:,} | {c['versions_published']} |")
if history:
    h0 = next(iter(history.values()))
    out += [
        "",
        "## History",
        "",
        f"{h0['days']} simulated days of {h0['components']} components checked every {h0['interval_s']} s "
        f"({h0['results']:,} results) through the store, pruned hourly (raw results kept 24 h, per-minute rollups "
        "48 h, per-hour 35 days, per-day 400 days, so the size stays flat after the first days). Size: SQLite's file "
        "(pages in use); PostgreSQL's tables with their indexes after a vacuum (not the WAL, nor an empty database's "
        "~7.5 MiB catalog). The status page's history (90-day bars and 24 h response-time charts) is queried, computed "
        "and drawn once a minute; a page view reuses the drawing.",
        "",
        "| backend | size on disk | simulated in | history of these components: query + compute | draw | HTML (gzip) | per page view |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b, h in history.items():
        out.append(f"| {NAMES[b]} | {h['db_mib']} MiB | {h['seconds']} s | {h['render_ms']} ms | {h.get('draw_ms', '–')} ms "
                   f"| {h['html_kib']} KiB ({h['html_gzip_kib']} KiB) | {h.get('per_view_ms', '–')} ms |")
    for b, r in render.items():
        out.append(f"| {NAMES[b]}, {r['components']} components ({r['days']} days) | {r['db_mib']} MiB | {r['seconds']} s "
                   f"| {r['render_ms']} ms | {r.get('draw_ms', '–')} ms | {r['html_kib']} KiB ({r['html_gzip_kib']} KiB) "
                   f"| {r.get('per_view_ms', '–')} ms |")
if sigkill:
    out += ["", "## SIGKILL during operator writes", ""]
    for b, k in sigkill.items():
        out.append(f"- {NAMES[b]}: a stream of incident updates, the server killed with SIGKILL after 0.7 s: "
                   f"{k['acknowledged']} acknowledged, {k['stored']} stored after the restart, {k['lost']} lost.")
if pages:
    open_streams = pages[0].get("streams_open", 0)
    out += [
        "",
        "## The rush: `GET /` next to nginx",
        "",
        f"wrk (Debian's), {pages[0]['connections']} connections, {pages[0]['seconds']} s per line, on the same 2 cores, "
        f"while statuscast holds {open_streams:,} open streams (bench/loadgen). nginx serves the very bytes "
        "statuscast sent for each encoding as static files (bench/static.conf). statuscast renders the page once per "
        "version and second and compresses it once (src/server/http/render_cache.rs).",
        "",
        "| server | encoding | body | requests/s | p99 latency | errors |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for p in pages:
        out.append(f"| {p['pages']} | {p['encoding']} | {p['body_bytes']:,} B | {p['rps']:,.0f} | {p['p99_ms']} ms | {p['errors'] or 'none'} |")
    for enc in ("br", "gzip"):
        sc = next((p for p in pages if p["pages"] == "statuscast" and p["encoding"] == enc), None)
        ng = next((p for p in pages if p["pages"] == "nginx" and p["encoding"] == enc), None)
        if sc and ng and ng["rps"]:
            out.append(f"\n- {enc}: statuscast serves {sc['rps'] / ng['rps'] * 100:.0f} % of nginx's requests/s (target ≥ 50 %).")
    if pages_renders:
        out.append(f"- Page renders during both statuscast runs: {pages_renders['pages_renders']}; open streams before / after: "
                   f"{pages_renders['streams_before']:,} / {pages_renders['streams_after']:,}.")
if h2:
    out += [
        "",
        "## HTTP/2 streams",
        "",
        "h2load (Debian's nghttp2-client) holding streams on `/connect_to_sse`, over TLS (ALPN h2) and h2c; "
        "statuscast's RSS once all are open (per stream = (held − idle) / streams). One stream per connection is "
        "a browser whose tabs share one stream.",
        "",
        "| transport | connections | streams each | streams open | RSS idle → held | per stream |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in h2:
        out.append(f"| {r['h2']} | {r['connections']:,} | {r['streams_per_connection']} | {r['streams_open']:,} "
                   f"| {r['idle_rss_kib'] / 1024:.1f} → {r['held_rss_kib'] / 1024:.1f} MiB | {r['rss_per_stream_kib']} KiB |")
if tabs:
    out += ["", "## Tabs", "",
            f"- One Chromium context with {tabs['tabs']} tabs of the status page: {tabs['streams']} stream(s) open on the "
            f"server (target 1); every tab live: {tabs['all_live']}."]
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
