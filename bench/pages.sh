#!/usr/bin/env bash
# The rush: `GET /` with `Accept-Encoding: br` and with gzip, from wrk, while statuscast
# holds STREAMS open streams; next to nginx serving the very same bytes as static files, in
# the same run. Prints one JSON line per measurement (appended to $OUT/results.jsonl by
# bench/run.sh). Usage: bench/pages.sh SERVER LOADGEN OUT [STREAMS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SERVER=$1 LOADGEN=$2 OUT=$3
STREAMS=${4:-19000}
SECONDS_EACH=${5:-10}
CONNS=${BENCH_WRK_CONNECTIONS:-64}
PORT=4200
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

rm -rf "$OUT/pages-data" "$OUT/static"; mkdir -p "$OUT/static/tmp" "$OUT/static/pages"
# Room for STREAMS streams and wrk's connections within the 20,000 descriptors.
STATUSCAST_LOG=warn "$SERVER" serve --addr 127.0.0.1:$PORT --data-dir "$OUT/pages-data" \
  --leptos-config Leptos.toml --host-interval 1h --max-streams "$STREAMS" --max-connections 400 \
  >> "$OUT/pages.log" 2>&1 &
sc_pid=$!
hold_pid=""; ng_pid=""
cleanup() {
  for p in $hold_pid $ng_pid $sc_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

# The streams, held by loadgen's workers (several processes, several source addresses).
coproc HOLD { "$LOADGEN" hold --target 127.0.0.1:$PORT --path /connect_to_sse --streams "$STREAMS" --src-base 150000; }
hold_pid=$HOLD_PID
read -r -u "${HOLD[0]}" holding ok failed
echo "holding $ok streams ($failed failed)" >&2
open=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^statuscast_sse_streams /{print $2}')

# The same bytes for nginx: what statuscast sends for each encoding.
curl -s -H 'accept-encoding: br' "http://127.0.0.1:$PORT/" -o "$OUT/static/pages/page.br"
curl -s -H 'accept-encoding: gzip' "http://127.0.0.1:$PORT/" -o "$OUT/static/pages/page.gz"
nginx -p "$OUT/static" -c "$ROOT/bench/static.conf" >> "$OUT/static.log" 2>&1 &
ng_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8091) 2>/dev/null && break; sleep 0.1; done

# wrk's summary: requests/s and the 99th percentile latency (in ms).
measure() { # name url encoding
  local out rps p99
  out=$(wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --latency -H "accept-encoding: $3" "$2")
  rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
  local bytes; bytes=$(curl -s -H "accept-encoding: $3" "$2" | wc -c)
  echo "{\"pages\":\"$1\",\"encoding\":\"$3\",\"rps\":$rps,\"p99_ms\":$p99,\"body_bytes\":$bytes,\"connections\":$CONNS,\"seconds\":$SECONDS_EACH,\"streams_open\":${open:-0},\"errors\":\"${errors}\"}"
}
renders_before=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^statuscast_page_renders_total /{print $2}')
measure statuscast "http://127.0.0.1:$PORT/" br
measure statuscast "http://127.0.0.1:$PORT/" gzip
renders_after=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^statuscast_page_renders_total /{print $2}')
measure nginx "http://127.0.0.1:8091/page.br" br
measure nginx "http://127.0.0.1:8091/page.gz" gzip
still=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^statuscast_sse_streams /{print $2}')
echo "{\"pages_renders\":$((renders_after - renders_before)),\"streams_before\":${open:-0},\"streams_after\":${still:-0}}"
