#!/usr/bin/env bash
# `make bench-attack` (or bench/attack.sh BINARY LABEL): the hardening issue's findings 1-4
# against one server binary, with the machine's open-file limit; prints one JSON line per
# figure (also appended to bench/out/attack.jsonl). Run it against an older binary too for
# before/after figures: bench/attack.sh /tmp/statuscast-old before.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/statuscast}
LABEL=${2:-current}
OUT=bench/out
mkdir -p "$OUT"
PORT=4200
ADDR=127.0.0.1:$PORT
TOKEN=attack-token-0123456789abcdef
PASSWORD=attack-password-0123
pid=""; holders=()
work=$(mktemp -d)
stop() {
  for h in "${holders[@]}"; do kill "$h" 2>/dev/null || true; done
  for h in "${holders[@]}"; do wait "$h" 2>/dev/null || true; done
  holders=()
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
}
trap 'stop; rm -rf "$work"' EXIT

start() {
  rm -rf "$work/data"
  STATUSCAST_ADMIN_TOKEN=$TOKEN STATUSCAST_ADMIN_PASSWORD=$PASSWORD STATUSCAST_LOG=error \
    "$BIN" serve --addr "$ADDR" --data-dir "$work/data" --leptos-config Leptos.toml --config "$work/none.toml" \
    --host-interval 1h --disk-degraded-pct 0 --disk-outage-pct 0 --memory-degraded-pct 0 --memory-outage-pct 0 \
    --load-degraded 1000000 --load-outage 1000000 >/dev/null 2>>"$work/server.log" &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
# hold KIND COUNT SOURCE: a client process holding COUNT connections of KIND (see attack.py)
hold() {
  local ready="$work/ready.$1.$3"
  rm -f "$ready"
  python3 bench/attack.py hold "$1" "$2" "$ADDR" "$3" "$ready" &
  holders+=($!)
}
wait_ready() { # all holders have opened their connections (at most 180 s)
  for _ in $(seq 1800); do
    [ "$(ls "$work"/ready.* 2>/dev/null | wc -l)" -ge "${#holders[@]}" ] && break
    sleep 0.1
  done
  for f in "$work"/ready.*; do cat "$f"; echo; done | paste -sd, | sed "s/^/[/; s/$/]/"
  rm -f "$work"/ready.*
}
probe() { python3 bench/attack.py probe "$ADDR" "$1" "$2"; }
emit() { echo "{\"label\":\"$LABEL\",$1}" | tee -a "$OUT/attack.jsonl"; }

FINDINGS=${ATTACK_FINDINGS:-1 2 3 4}
want() { [[ " $FINDINGS " == *" $1 "* ]]; }
export ATTACK_TOKEN=$TOKEN
echo "== $LABEL: $BIN (open files: $(ulimit -n))"

# 1. Stalled request bodies: 20,000 login posts that send 7 bytes of a 1,000-byte body.
if want 1; then
  start
  hold stalled-body 9500 127.0.0.2; hold stalled-body 9500 127.0.0.3; hold stalled-body 1000 127.0.0.4
  opened=$(wait_ready)
  emit "\"finding\":1,\"attack\":\"20000 stalled bodies\",\"clients\":$opened,\"healthz\":$(probe /healthz 20),\"page\":$(probe / 10)"
  stop
fi

# 2. 1.99 MB bodies, 400 of them, stalled before their end: without a token, then with one.
stop_holders() { for h in "${holders[@]}"; do kill "$h" 2>/dev/null || true; wait "$h" 2>/dev/null || true; done; holders=(); }
if want 2; then
  for kind in big-body big-body-token; do
    start
    before=$(rss_kib); peak=$before
    hold $kind 400 127.0.0.2
    for _ in $(seq 150); do r=$(rss_kib); [ "$r" -gt "$peak" ] && peak=$r; [ "$(ls "$work"/ready.* 2>/dev/null | wc -l)" -ge 1 ] && break; sleep 0.2; done
    opened=$(wait_ready)
    for _ in $(seq 10); do r=$(rss_kib); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
    stop_holders; sleep 2
    emit "\"finding\":2,\"attack\":\"400 stalled 1.99 MB bodies ($kind)\",\"clients\":$opened,\"rss_idle_mib\":$((before / 1024)),\"rss_peak_mib\":$((peak / 1024)),\"rss_after_mib\":$(($(rss_kib) / 1024))"
    stop
  done
fi

# 3. Streams up to the old default limit (19,800) and 2,000 idle connections on top.
if want 3; then
  start
  hold stream 9900 127.0.0.2; hold stream 9900 127.0.0.3
  opened=$(wait_ready)
  streams=$(curl -s "http://$ADDR/metrics" | awk '$1 == "statuscast_sse_streams" {print $2}')
  # Probed while the idle connections are held (they would time out after 10 s unsent).
  hold idle 2000 127.0.0.4
  sleep 3
  healthz=$(probe /healthz 20); page=$(probe / 10)
  idle=$(wait_ready)
  emit "\"finding\":3,\"attack\":\"19800 streams + 2000 idle\",\"streams_held\":${streams:-null},\"clients\":$opened,\"idle\":$idle,\"healthz\":$healthz,\"page\":$page"
  stop
fi

# 4. Streams that once skipped the lean path: HTTP/1.0, and a 300 KB Last-Event-ID.
if want 4; then
  start
  base=$(rss_kib)
  hold stream 2000 127.0.0.2; wait_ready >/dev/null; sleep 1
  lean=$(rss_kib)
  hold stream10 2000 127.0.0.3; wait_ready >/dev/null; sleep 1
  http10=$(rss_kib)
  hold big-id 200 127.0.0.4; opened=$(wait_ready); sleep 1
  bigid=$(rss_kib)
  streams=$(curl -s "http://$ADDR/metrics" | awk '$1 == "statuscast_sse_streams" {print $2}')
  emit "\"finding\":4,\"attack\":\"2000 HTTP/1.1 + 2000 HTTP/1.0 streams + 200 with a 300 KB Last-Event-ID\",\"kib_per_lean_stream\":$(( (lean - base) / 2000 )),\"kib_per_http10_stream\":$(( (http10 - lean) / 2000 )),\"kib_per_big_id_stream\":$(( (bigid - http10) / 200 )),\"big_id_clients\":$opened,\"streams_held\":${streams:-null}"
  stop
fi
