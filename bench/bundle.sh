#!/usr/bin/env bash
# The browser bundles as pages load them: the public pages' (wasm + its JS) and, apart, the
# admin area's own. Prints one line each and, with --json, the numbers as JSON.
set -euo pipefail
pkg="${1:-target/site/pkg}"
gz() { gzip -9c "$1" | wc -c; }
# Bytes raw and gzip of a bundle: its wasm and its JS.
measure() { local raw=0 gzip=0; for f in "$@"; do raw=$((raw + $(stat -c %s "$f"))); gzip=$((gzip + $(gz "$f"))); done; echo "$raw $gzip"; }
main_wasm="$pkg/statuscast.wasm"
read -r raw gzip < <(measure "$main_wasm" "$pkg/statuscast.js")
echo "public page bundle: wasm $(stat -c %s "$main_wasm") B ($(gz "$main_wasm") B gzip) + JS = $raw B raw, $gzip B gzip"
admin_raw=0; admin_gz=0
if [ -e "$pkg/statuscast_admin.wasm" ]; then
  read -r admin_raw admin_gz < <(measure "$pkg/statuscast_admin.wasm" "$pkg/statuscast_admin.js")
  echo "admin area bundle (loaded there instead): $admin_raw B raw, $admin_gz B gzip"
fi
if [ $gzip -le 71680 ]; then echo "public page bundle: $gzip B gzip, within the 70 KiB budget ($((71680 - gzip)) B left)"
else echo "public page bundle: $gzip B gzip, OVER the 70 KiB budget by $((gzip - 71680)) B"; fi
if [ "${2:-}" = "--json" ]; then echo "{\"bundle\": {\"raw\": $raw, \"gzip\": $gzip, \"admin_gzip\": $admin_gz}}"; fi
