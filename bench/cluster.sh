#!/usr/bin/env bash
# Several instances on one PostgreSQL (part "cluster" of `make bench`), each a JSON line:
# - the cluster path's cost: change -> stream at CLUSTER_PATH_STREAMS (10,000) streams on one
#   instance with SQLite, and on one instance with PostgreSQL (stored, NOTIFY, loaded back);
# - CLUSTER_STREAMS (100,000) streams on CLUSTER_INSTANCES (6) instances sharing one port
#   (--reuse-port) on one PostgreSQL, held by loadgen's worker processes from several
#   127.0.0.x addresses; CHANGES changes posted to the shared port (so to any instance):
#   delivered / expected, fan-out p50 / p99 over all streams, RSS per stream (the instances'
#   growth together, per stream), connect failures.
# Usage: bench/cluster.sh SERVER LOADGEN OUT   (bench/run.sh; the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=$1 LOADGEN=$2 OUT=$3
STREAMS=${CLUSTER_STREAMS:-100000}
INSTANCES=${CLUSTER_INSTANCES:-6}
PATH_STREAMS=${CLUSTER_PATH_STREAMS:-10000}
CHANGES=${BENCH_CHANGES:-5}
TOKEN=bench-token-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
. bench/pg.sh
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; pg_stop' EXIT
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; }
# One instance: NAME PORT DATABASE_URL (empty: SQLite in its data dir) [more flags].
start() {
  local name=$1 port=$2 url=$3; shift 3
  rm -rf "$OUT/cluster/$name"; mkdir -p "$OUT/cluster/$name"
  STATUSCAST_ADMIN_TOKEN=$TOKEN STATUSCAST_LOG=warn STATUSCAST_DATABASE_URL=$url "$SERVER" serve \
    --addr "127.0.0.1:$port" --data-dir "$OUT/cluster/$name" --leptos-config Leptos.toml --host-interval 1h \
    --max-streams 19500 --max-connections 300 "$@" >> "$OUT/cluster/$name.log" 2>&1 &
  pids+=($!)
}
# The loadgen result as the line's "cluster_path" or "cluster" member.
wrap() { python3 -c 'import json, sys; print(json.dumps({sys.argv[1]: dict(json.loads(sys.stdin.read()), **json.loads(sys.argv[2]))}))' "$@"; }

pg_start 4198
pg_createdb single
pg_createdb cluster

echo "== cluster path: $PATH_STREAMS streams on one instance, SQLite vs PostgreSQL"
src=200000
for backend in sqlite postgres; do
  url=""; [ "$backend" = postgres ] && url=$PG_URL_BASE/single
  start "single-$backend" 4310 "$url"
  wait_port 4310; sleep 1
  "$LOADGEN" bench --name "single-$backend" --target 127.0.0.1:4310 --path /connect_to_sse --pids "${pids[-1]}" \
    --streams "$PATH_STREAMS" --changes "$CHANGES" --trigger statuscast --token "$TOKEN" --src-base $src \
    | wrap cluster_path "{\"backend\": \"$backend\"}" | tee -a "$OUT/results.jsonl"
  stop_all
  src=$((src + 20000))
done

echo "== $STREAMS streams on $INSTANCES instances (--reuse-port) on one PostgreSQL"
for i in $(seq "$INSTANCES"); do start "instance-$i" 4300 "$PG_URL_BASE/cluster" --reuse-port; sleep 0.3; done
wait_port 4300; sleep 2
"$LOADGEN" bench --name cluster --target 127.0.0.1:4300 --path /connect_to_sse --pids "$(IFS=,; echo "${pids[*]}")" \
  --streams "$STREAMS" --changes "$CHANGES" --gap-ms 4000 --trigger statuscast --token "$TOKEN" --src-base $src \
  | wrap cluster "{\"instances\": $INSTANCES}" | tee -a "$OUT/results.jsonl"
stop_all
pg_stop

echo "== leader failover (kill -9), 5 runs"
bench/failover.sh "$SERVER" 5 | tee "$OUT/failover.log"
grep -o '{"failover".*}' "$OUT/failover.log" >> "$OUT/results.jsonl"
