#!/usr/bin/env bash
# The browser bundle as a page loads it: what the public pages load (the main wasm, its JS,
# the split loader) and, apart, the admin area's lazily loaded chunks. Prints one line each
# and, with --json, the public page's numbers as JSON.
set -euo pipefail
pkg="${1:-target/site/pkg}"
gz() { gzip -9c "$1" | wc -c; }
main_wasm="$pkg/statuscast.wasm"
public=("$main_wasm" "$pkg/statuscast.js")
for f in "$pkg"/__wasm_split*.js; do [ -e "$f" ] && public+=("$f"); done
raw=0; gzip=0
for f in "${public[@]}"; do raw=$((raw + $(stat -c %s "$f"))); gzip=$((gzip + $(gz "$f"))); done
echo "public page bundle: wasm $(stat -c %s "$main_wasm") B ($(gz "$main_wasm") B gzip) + JS = $raw B raw, $gzip B gzip"
lazy_gz=0
for f in "$pkg"/*.wasm; do
  [ "$f" = "$main_wasm" ] && continue
  lazy_gz=$((lazy_gz + $(gz "$f")))
  echo "  lazy chunk (admin area only): $(basename "$f") $(stat -c %s "$f") B ($(gz "$f") B gzip)"
done
[ "$lazy_gz" -gt 0 ] && echo "admin area loads in addition: $lazy_gz B gzip"
if [ $gzip -le 71680 ]; then echo "public page bundle: $gzip B gzip, within the 70 KiB budget ($((71680 - gzip)) B left)"
else echo "public page bundle: $gzip B gzip, OVER the 70 KiB budget by $((gzip - 71680)) B"; fi
if [ "${2:-}" = "--json" ]; then echo "{\"bundle\": {\"raw\": $raw, \"gzip\": $gzip, \"admin_lazy_gzip\": $lazy_gz}}"; fi
