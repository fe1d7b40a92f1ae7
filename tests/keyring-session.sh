#!/usr/bin/env bash
# Runs a command (default: cargo test) inside a private D-Bus session with a real, unlocked
# GNOME Keyring Secret Service, so the keyring tests talk to the real thing (in CI too):
#   tests/keyring-session.sh cargo test --workspace
# The keyring's files live in a temp folder, never in the user's own keyrings; the daemon
# exits with the session bus. Needs dbus-run-session (dbus) and gnome-keyring-daemon
# (gnome-keyring); `make deps` installs them. FEEDESK_KEYRING_TESTS=1 tells the tests a
# keyring is expected, so a keyring failure fails them instead of skipping.
set -euo pipefail

if [[ $# -eq 0 ]]; then set -- cargo test; fi

if [[ "${FEEDESK_KEYRING_SESSION_INNER:-}" != 1 ]]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || {
      echo "keyring-session: $tool is missing (apt-get install dbus gnome-keyring)" >&2
      exit 1
    }
  done
  export FEEDESK_KEYRING_SESSION_INNER=1
  exec dbus-run-session -- "$0" "$@"
fi

keyring_home=$(mktemp -d -t feedesk-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
# --unlock reads the password on stdin and creates the login keyring with it if needed.
echo -n "feedesk-test-keyring" |
  XDG_DATA_HOME="$keyring_home" XDG_RUNTIME_DIR="$keyring_home" \
    gnome-keyring-daemon --unlock --components=secrets >/dev/null
export FEEDESK_KEYRING_TESTS=1
status=0
"$@" || status=$?
exit "$status"
