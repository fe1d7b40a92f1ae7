#!/usr/bin/env bash
# Runs the desktop e2e tests against the built app, under a private Xvfb display, through
# tauri-driver (which drives WebKitWebDriver), inside a private D-Bus session with a real,
# unlocked GNOME Keyring (tests/keyring-session.sh: channel secrets go to the real Secret
# Service), with the payment sandbox (`feedesk sandbox serve`) running on a free port. Always
# cleans up the processes it started.
#
#   tests/e2e/run.sh                 # app: target/debug/feedesk-desktop (build it first: make e2e)
#   FEEDESK_APP=/path/to/app tests/e2e/run.sh
#   E2E_KEEP_TMP=1 ...               # keep the temp data folder and logs for inspection
#   E2E_DEBUG=1 ...                  # log every WebDriver request
#   E2E_TESTS="tests/e2e/x.test.mjs" # run only these test files
#   FEEDESK_CLI=/path/to/feedesk     # the CLI that serves the sandbox (default: beside the app)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Re-run inside a private D-Bus session with an unlocked keyring of its own (never the user's).
if [[ "${FEEDESK_KEYRING_SESSION_INNER:-}" != 1 ]]; then
  exec "$root/tests/keyring-session.sh" "${BASH_SOURCE[0]}" "$@"
fi
app="${FEEDESK_APP:-$root/target/debug/feedesk-desktop}"
cli="${FEEDESK_CLI:-$(dirname "$app")/feedesk}"
screenshots="${SCREENSHOT_DIR:-$root/tests/e2e/screenshots}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "e2e: '$1' not found. $2" >&2; exit 2; }; }
need Xvfb "Install the xvfb package (make deps)."
need WebKitWebDriver "Install the webkit2gtk-driver package (make deps)."
need node "Install Node.js 20+."
export PATH="$HOME/.cargo/bin:$PATH"
need tauri-driver "Run: cargo install tauri-driver --version '^2' --locked"
[[ -x "$app" ]] || { echo "e2e: app binary $app not found; build it with: make e2e" >&2; exit 2; }
[[ -x "$cli" ]] || { echo "e2e: CLI $cli not found (it serves the payment sandbox); build it with: make e2e" >&2; exit 2; }

tmp="$(mktemp -d -t feedesk-e2e.XXXXXX)"
xvfb_pid=""
driver_pid=""
sandbox_pid=""

cleanup() {
  local status=$?
  # tauri-driver runs in its own process group with WebKitWebDriver and the app under it.
  if [[ -n "$driver_pid" ]]; then
    kill -TERM -- "-$driver_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$driver_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$driver_pid" 2>/dev/null || true
  fi
  if [[ -n "$sandbox_pid" ]]; then
    kill -INT "$sandbox_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$sandbox_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  if [[ -n "$xvfb_pid" ]]; then
    kill -TERM "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$tmp/tauri-driver.log" ]]; then
    echo "--- tauri-driver / WebKitWebDriver / app log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/tauri-driver.log" >&2 || true
  fi
  if [[ $status -ne 0 && -s "$tmp/sandbox.log" ]]; then
    echo "--- sandbox log (last 20 lines) ---" >&2
    tail -n 20 "$tmp/sandbox.log" >&2 || true
  fi
  if [[ -n "${E2E_KEEP_TMP:-}" ]]; then echo "e2e: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# A private display: -displayfd makes Xvfb pick a free display number and report it.
Xvfb -displayfd 3 -screen 0 1440x900x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [[ -s "$tmp/display" ]] && break; sleep 0.1; done
[[ -s "$tmp/display" ]] || { echo "e2e: Xvfb did not start" >&2; cat "$tmp/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(head -n1 "$tmp/display")"
# Services the private session bus starts on demand (the desktop portal GTK asks for) need the
# display too, or they fail and retry noisily.
dbus-update-activation-environment DISPLAY 2>/dev/null || true

# Everything the app and WebKit write goes under the temp folder: the app's data folder and
# WebKit's storage (localStorage, caches), so a test never touches a user's data.
export FEEDESK_DATA_DIR="$tmp/data"
export XDG_DATA_HOME="$tmp/xdg-data" XDG_CONFIG_HOME="$tmp/xdg-config" XDG_CACHE_HOME="$tmp/xdg-cache"
mkdir -p "$FEEDESK_DATA_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
# Rendering: leave WebKit's defaults. With WebKitGTK 2.50 (Debian 12) under Xvfb,
# WEBKIT_DISABLE_COMPOSITING_MODE=1 or WEBKIT_DISABLE_DMABUF_RENDERER=1 make WebDriver's
# screenshot hang, and LIBGL_ALWAYS_SOFTWARE=1 makes it return a blank page; WebKit falls
# back to software rendering by itself. So they are cleared even when the caller set them.
unset WEBKIT_DISABLE_COMPOSITING_MODE WEBKIT_DISABLE_DMABUF_RENDERER LIBGL_ALWAYS_SOFTWARE
export NO_AT_BRIDGE=1
# Shows the test-only file path fields (roster wizard, channel key files, QR export) beside the
# native dialogs, which WebDriver cannot drive.
export FEEDESK_E2E=1
# Channel secrets go to the private keyring of this run, under a service of their own.
export FEEDESK_KEYRING_SERVICE=cn.feedesk.app.e2e

# The payment sandbox: WeChat Pay and Alipay on 127.0.0.1 with fresh test keys. Its one JSON
# line (base URLs, key folder, ids) is handed to the tests, which add accounts with those key
# files and pay orders through its control API.
"$cli" --json sandbox serve --port 0 --keys "$tmp/sandbox-keys" >"$tmp/sandbox.json" 2>"$tmp/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/sandbox.json" ]] && break; sleep 0.1; done
[[ -s "$tmp/sandbox.json" ]] || { echo "e2e: the payment sandbox did not start" >&2; cat "$tmp/sandbox.log" >&2; exit 1; }
export FEEDESK_SANDBOX="$(head -n1 "$tmp/sandbox.json")"

port="$(free_port)"
native_port="$(free_port)"
while [[ "$native_port" == "$port" ]]; do native_port="$(free_port)"; done
setsid tauri-driver --port "$port" --native-port "$native_port" \
  --native-driver "$(command -v WebKitWebDriver)" >"$tmp/tauri-driver.log" 2>&1 &
driver_pid=$!

mkdir -p "$screenshots"
echo "e2e: app=$app display=$DISPLAY driver=127.0.0.1:$port data=$FEEDESK_DATA_DIR sandbox=$(node -e 'console.log(JSON.parse(process.argv[1]).address)' "$FEEDESK_SANDBOX")"
WEBDRIVER_URL="http://127.0.0.1:$port" FEEDESK_APP="$app" SCREENSHOT_DIR="$screenshots" \
  node --test --test-concurrency=1 --test-reporter=spec --test-timeout=180000 ${E2E_TESTS:-"$root"/tests/e2e/*.test.mjs}
