#!/usr/bin/env bash
# Notifications (part "notify" of `make bench`), one JSON line {"notify": {...}}:
# NOTIFY_SUBSCRIBERS (10,000) confirmed email subscribers and one incident: seconds until every
# mail is handed to a local SMTP server (tools/smtp_sink.py --count-only, nothing kept), mails/s,
# statuscast's CPU and RSS meanwhile, and change -> stream p50 / p99 / max on NOTIFY_STREAMS (200)
# SSE streams, idle and while the mails go out; /metrics must then count them all sent, none failed.
# The subscribers are written straight into the SQLite file (setup); the measured path is statuscast's.
# Usage: bench/notify.sh SERVER OUT   (bench/run.sh; the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=$1 OUT=$2
mkdir -p "$OUT"
driver=""
trap '[ -n "$driver" ] && kill "$driver" 2>/dev/null; [ -n "$driver" ] && wait "$driver" 2>/dev/null; true' EXIT
echo "== notifications: ${NOTIFY_SUBSCRIBERS:-10000} subscribers, one incident"
python3 bench/notify.py "$SERVER" "$OUT" > "$OUT/notify.json" &
driver=$!
wait "$driver"
driver=""
tee -a "$OUT/results.jsonl" < "$OUT/notify.json"
