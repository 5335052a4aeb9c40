# statuscast: `make run` serves the app on http://127.0.0.1:3000; `make test` runs every test.
# Both install what is missing first (wasm32 target, cargo-leptos, wasm-bindgen-cli matching
# Cargo.lock, npm packages, and for tests Debian's Chromium).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.10
CARGO_FUZZ_VERSION := 0.13.2
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# The site (wasm, JS, CSS, assets) is written here by cargo-leptos (site-root in Cargo.toml).
SITE_ROOT := $(CURDIR)/target/site

# Fuzzing (fuzz/, a cargo-fuzz crate of its own). Its build and working corpus live beside
# CARGO_TARGET_DIR when that is set (outside the clone, where CI caches it), else in fuzz/.
FUZZ_TARGETS := head sse_event config json forms
FUZZ_DIR := $(or $(FUZZ_TARGET_DIR),$(if $(CARGO_TARGET_DIR),$(abspath $(CARGO_TARGET_DIR)/..)/fuzz-target,$(CURDIR)/fuzz/target))
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_SECONDS ?= 600
# Stable Rust (RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's flags), no sanitizer (see fuzz/run.sh).
FUZZ_BUILD := RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer none --target-dir $(FUZZ_DIR)

# The browser build rebuilds std for wasm, for size (`optimize_for_size`), with panics that
# abort at once (no panic messages, no unwinding), no `Debug` formatting and no source
# locations, and without the reference-types and multivalue proposals (wasm-bindgen's glue
# is smaller without them). That takes -Zbuild-std (lib-cargo-args in Cargo.toml) and
# rust-src; RUSTC_BOOTSTRAP=1 lets stable cargo take it. The rustflags apply to wasm only;
# the server build is as before.
LEPTOS_ENV := RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none -Ctarget-feature=-reference-types,-multivalue"
# The admin area's islands are a browser bundle of their own (feature hydrate-admin), built
# into a site of its own (cargo-leptos empties the site it builds) and copied beside the
# public one: public pages never load the admin area's code.
ADMIN_SITE := $(CURDIR)/target/site-admin
ADMIN_BUNDLE := statuscast_admin

.PHONY: run test setup tools npm chromium postgres build lint unit e2e bench bench-attack clean fuzz-tools fuzz-build fuzz-smoke fuzz

# The release build (both browser bundles), then the server, which reads Leptos.toml.
run: build
	$(TARGET_DIR)/release/statuscast serve

test: setup chromium postgres lint unit fuzz-smoke build e2e

setup: tools npm

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
	@if [ "$$(cargo leptos --version 2>/dev/null | awk '{print $$2}')" != "$(CARGO_LEPTOS_VERSION)" ]; then \
	  echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION)"; \
	  cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION); fi
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; fi

npm: node_modules/.package-lock.json end2end/node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

# Debian packages the tests use: Chromium (Playwright), openssl (TLS peers for checks),
# nginx (deploy/nginx.conf in front of several instances, tests/cluster.rs) and aiosmtpd
# (tools/smtp_sink.py, the SMTP server the notification tests and benchmark send to).
chromium:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v openssl >/dev/null || missing="$$missing openssl"; \
	  [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing="$$missing python3-aiosmtpd"; \
	  if [ -n "$$missing" ]; then echo "installing$$missing (Debian)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# PostgreSQL's server programs: the tests start throwaway clusters with them (initdb, pg_ctl).
# On PATH on this machine's image; elsewhere Debian's postgresql puts them in /usr/lib/postgresql.
postgres:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing postgresql (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi

# Formatting, and clippy with warnings as errors for the server and the browser builds.
lint:
	cargo fmt --check
	cargo fmt --check --manifest-path fuzz/Cargo.toml
	cargo clippy --features ssr --tests --examples -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features hydrate-admin -- -D warnings

# Unit tests (beside the code) and integration tests (tests/: a real server on an ephemeral port).
unit:
	cargo test --features ssr

# cargo-fuzz, and the C++ compiler libFuzzer is built with (Debian's g++ where there is none).
fuzz-tools:
	@command -v c++ >/dev/null || { echo "installing g++ (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; }
	@if [ "$$(cargo fuzz --version 2>/dev/null | awk '{print $$2}')" != "$(CARGO_FUZZ_VERSION)" ]; then \
	  echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION)"; \
	  cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION); fi

fuzz-build: fuzz-tools
	cd fuzz && $(FUZZ_BUILD)

# Each fuzz target for a bounded time (fuzz/run.sh): FUZZ_SMOKE_SECONDS in `make test`,
# FUZZ_SECONDS in `make fuzz`. A crash or a failed property fails the step and prints the path
# of the input that did it.
fuzz-smoke: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Release build of the server and the two browser bundles: the public one (every page but the
# admin area) and the admin area's. wasm-bindgen exports the adapters server functions use for
# streamed bodies whether or not anything streams; the public bundle has no server function,
# so they are removed from it (tools/strip_unused_exports.sh) and the bundle optimised again.
build: setup
	$(LEPTOS_ENV) LEPTOS_SITE_ROOT=$(ADMIN_SITE) LEPTOS_OUTPUT_NAME=$(ADMIN_BUNDLE) \
	  cargo leptos build --release --frontend-only --lib-features hydrate-admin
	$(LEPTOS_ENV) cargo leptos build --release
	cp $(ADMIN_SITE)/pkg/$(ADMIN_BUNDLE).js $(ADMIN_SITE)/pkg/$(ADMIN_BUNDLE).wasm $(SITE_ROOT)/pkg/
	tools/strip_unused_exports.sh $(SITE_ROOT)/pkg/statuscast.wasm
	@bench/bundle.sh $(SITE_ROOT)/pkg

# End-to-end tests in Debian's Chromium against the release build.
e2e:
	cd end2end && STATUSCAST_BIN=$(TARGET_DIR)/release/statuscast LEPTOS_SITE_ROOT=$(SITE_ROOT) npx playwright test

# statuscast and nchan side by side (installs nginx + libnginx-mod-nchan from Debian);
# writes bench/RESULTS.md. Takes a few minutes. BENCH_SIZES="1000 10000 19000" by default.
bench: setup chromium build
	$(LEPTOS_ENV) CARGO_TARGET_DIR=$(TARGET_DIR) bench/run.sh

# The hardening figures (findings 1-4 of the attack review) against the release build;
# bench/attack.sh OTHER_BINARY LABEL runs the same against another build, for before/after.
bench-attack: setup build
	bench/attack.sh $(TARGET_DIR)/release/statuscast current

clean:
	cargo clean
	rm -rf node_modules end2end/node_modules data
