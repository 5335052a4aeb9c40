#!/usr/bin/env bash
# What a stream costs over HTTP/2: h2load (Debian's nghttp2-client) holds streams on
# /connect_to_sse over TLS (ALPN h2) and over h2c, with one stream per connection (a browser
# whose tabs share one stream) and with many per connection; statuscast's RSS is read once
# they are all open. One JSON line per case. Usage: bench/h2.sh SERVER OUT
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=$1 OUT=$2
PORT=4300
command -v h2load >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null; }
mkdir -p "$OUT/h2"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  -keyout "$OUT/h2/key.pem" -out "$OUT/h2/cert.pem" 2>/dev/null

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
streams_open() { curl -sk "$1/metrics" | awk '/^statuscast_sse_streams /{print $2}'; }

case_run() { # mode(tls|h2c) connections streams-per-connection
  local mode=$1 conns=$2 per=$3 base url tls_flags=()
  rm -rf "$OUT/h2/data"
  if [ "$mode" = tls ]; then
    tls_flags=(--tls-cert "$OUT/h2/cert.pem" --tls-key "$OUT/h2/key.pem"); base=https://127.0.0.1:$PORT
  else
    base=http://127.0.0.1:$PORT
  fi
  # Room in the pool for every connection at once: until its stream opens, a connection counts
  # there, and h2load opens them all together (a full pool would close the longest waiting).
  STATUSCAST_LOG=warn "$SERVER" serve --addr 127.0.0.1:$PORT --data-dir "$OUT/h2/data" --leptos-config Leptos.toml \
    --host-interval 1h --max-connections $((conns + 100)) "${tls_flags[@]}" >> "$OUT/h2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sk "$base/healthz" >/dev/null && break; sleep 0.1; done
  sleep 0.5
  local idle; idle=$(rss_kib $pid)
  local want=$((conns * per))
  h2load -c "$conns" -m "$per" -n "$want" -t 1 "$base/connect_to_sse" > "$OUT/h2/h2load.log" 2>&1 &
  local load=$!
  local open=0
  for _ in $(seq 600); do
    open=$(streams_open "$base"); [ "${open:-0}" -ge "$want" ] && break; sleep 0.1
  done
  sleep 1
  local held; held=$(rss_kib $pid)
  kill $load 2>/dev/null || true; wait $load 2>/dev/null || true
  kill $pid; wait $pid 2>/dev/null || true
  awk -v m="$mode" -v c="$conns" -v p="$per" -v o="$open" -v i="$idle" -v h="$held" 'BEGIN {
    printf "{\"h2\":\"%s\",\"connections\":%d,\"streams_per_connection\":%d,\"streams_open\":%d,\"idle_rss_kib\":%d,\"held_rss_kib\":%d,\"rss_per_stream_kib\":%.2f}\n",
      m, c, p, o, i, h, (o > 0 ? (h - i) / o : 0) }'
}
case_run tls "${H2_CONNECTIONS:-2000}" 1
case_run tls 20 "${H2_PER_CONNECTION:-100}"
case_run h2c "${H2_CONNECTIONS:-2000}" 1
case_run h2c 20 "${H2_PER_CONNECTION:-100}"
