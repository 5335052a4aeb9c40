#!/usr/bin/env bash
# Removes from a browser bundle the exports wasm-bindgen keeps whether or not they are used,
# and the code only they reach, then optimises the module again (binaryen's wasm-opt, from
# node_modules/.bin).
#
# What is removed: the adapters between Rust streams and the browser's ReadableStream /
# WritableStream (`IntoUnderlyingSource`, `IntoUnderlyingByteSource`, `IntoUnderlyingSink`,
# from the wasm-streams crate). Leptos brings them in for server functions with streamed
# bodies, and wasm-bindgen exports them from every bundle. Only a server function call can
# create one; the public bundle has no server function (the admin area's are in the admin
# bundle, which keeps them), so nothing in it can reach them. Their JS classes stay in the
# glue, unused. About 1.8 KB gzip.
set -euo pipefail
wasm="$1"
before=$(stat -c %s "$wasm")
wasm-opt "$wasm" --remove-exports --pass-arg='remove-exports@*intounderlying*' \
  -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o "$wasm.stripped"
mv "$wasm.stripped" "$wasm"
echo "$(basename "$wasm"): unused stream adapters removed, $before -> $(stat -c %s "$wasm") B"
