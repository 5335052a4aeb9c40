#!/usr/bin/env bash
# Leader failover time: kill -9 of the leader of three instances on a throwaway PostgreSQL →
# the first version published by the new leader; RUNS runs (5), p50 / max, and a JSON line.
# Usage: bench/failover.sh [BINARY] [RUNS]   (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pg.sh
BINARY=${1:-${CARGO_TARGET_DIR:-$PWD/target}/release/statuscast}
RUNS=${2:-5}
[ -x "$BINARY" ] || { echo "no statuscast binary at $BINARY (cargo build --release --features ssr)" >&2; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap pg_stop EXIT
pg_start "$port"
pg_createdb failover
python3 bench/failover.py "$BINARY" "$PG_URL_BASE/failover" "$RUNS"
