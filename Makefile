# FeeDesk developer and CI entry points. `make run` opens the app; `make test` runs everything.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# System packages the desktop build and the tests need (Debian 12 / Ubuntu 22.04+ names): the
# one list, used by developers and by CI (.ci/run calls `make deps-apt`).
APT_PACKAGES := build-essential pkg-config curl ca-certificates file xz-utils git python3 \
  libssl-dev libwebkit2gtk-4.1-dev webkit2gtk-driver xvfb xauth librsvg2-dev libxdo-dev \
  libayatana-appindicator3-dev gnome-keyring dbus-x11 libsecret-1-dev fonts-noto-cjk \
  poppler-utils python3-aiosmtpd

TAURI := ui/node_modules/.bin/tauri
# The test build: custom-protocol (serves ui/dist, not the Vite dev server) and the test
# identifier from tauri.conf.test.json (merged by tauri-build through TAURI_CONFIG), so WebKit
# storage of a test run never mixes with a user's. tests/e2e/run.sh adds temp
# FEEDESK_DATA_DIR/XDG folders. The e2e app is built by `cargo test --workspace --no-run`
# (cargo builds bins for integration tests): `cargo build` would resolve dependency features
# differently and compile the whole GTK/WebKit/Tauri stack a second time.
TEST_BUILD := TAURI_CONFIG="$$(cat src-tauri/tauri.conf.test.json)"
DESKTOP_FEATURES := --features feedesk-desktop/custom-protocol
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: help deps deps-apt deps-driver ui run test lint e2e bundle bench bench-desktop

help:
	@echo "make run     build the UI and open the FeeDesk desktop app"
	@echo "make test    lint, core tests (cargo test --workspace), then the desktop e2e tests"
	@echo "make lint    cargo fmt --check, clippy with warnings as errors, the UI type check"
	@echo "make e2e     build the app (debug) and drive its real window under Xvfb"
	@echo "make bundle  build the .deb installer (target/release/bundle/deb/)"
	@echo "make bench   roster import, billing, receipts, reconciliation and reminders benchmarks"
	@echo "make bench-desktop  cold start and 100k-member scrolling of the release app (after make bundle)"
	@echo "make deps    install what is missing (apt packages, npm packages, tauri-driver)"

deps: deps-apt ui/node_modules/.package-lock.json deps-driver

# Fast when everything is present: one dpkg-query per package, no apt.
deps-apt:
	@if ! command -v dpkg-query >/dev/null; then \
	  echo "deps: not a Debian-like system; install the equivalents of: $(APT_PACKAGES)"; exit 0; fi; \
	missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "deps: missing packages:$$missing (run as root: apt-get install$$missing)"; exit 1; fi; \
	echo "deps: installing$$missing"; \
	$$sudo apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing

# npm ci rewrites node_modules/.package-lock.json, so this reruns only when the lockfile changes.
ui/node_modules/.package-lock.json: ui/package-lock.json ui/package.json
	cd ui && npm ci --no-audit --no-fund
	@touch $@

deps-driver:
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

ui: ui/node_modules/.package-lock.json
	cd ui && npm run build

run:
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "run: no display here; use 'xvfb-run make run' (headless) or the CLI: cargo run -- --help"; exit 1; fi
	@$(MAKE) --no-print-directory deps ui
	cargo run -p feedesk-desktop --features custom-protocol

# The core tests run inside a private D-Bus session with a real, unlocked GNOME Keyring, so the
# channel-secret tests use the real Secret Service (tests/keyring-session.sh).
test: deps ui lint
	$(TEST_BUILD) tests/keyring-session.sh cargo test --workspace $(DESKTOP_FEATURES)
	$(MAKE) --no-print-directory e2e

# Formatting, clippy on every target with warnings as errors, and the UI's TypeScript check.
lint: ui/node_modules/.package-lock.json
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cd ui && npm run --silent typecheck

# The e2e tests run inside their own private D-Bus session and GNOME Keyring too (run.sh wraps
# itself in tests/keyring-session.sh), with the payment sandbox served by the debug CLI
# (target/debug/feedesk, built by the same `cargo test --no-run`).
e2e: deps ui
	$(TEST_BUILD) cargo test --workspace $(DESKTOP_FEATURES) --no-run
	tests/e2e/run.sh

bundle: deps
	$(TAURI) build --bundles deb
	@ls -1 target/release/bundle/deb/*.deb

bench:
	cargo bench --bench roster_import
	cargo bench --bench billing
	cargo bench --bench receipts
	cargo bench --bench reconcile
	cargo bench --bench reminders

# Cold start to first dashboard paint and members-page scrolling with 100k members, through
# the real window of the release app (built by `make bundle`). BENCH_MEMBERS / BENCH_LAUNCHES
# override the defaults (100000 / 5). Prints a Markdown table.
bench-desktop: deps ui
	@[[ -x target/release/feedesk-desktop ]] || $(MAKE) --no-print-directory bundle
	cargo build --release --bin feedesk
	FEEDESK_APP="$(CURDIR)/target/release/feedesk-desktop" E2E_TESTS=tests/e2e/bench.mjs tests/e2e/run.sh
