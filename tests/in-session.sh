#!/usr/bin/env bash
# Runs inside `dbus-run-session`: starts an unlocked gnome-keyring in a throwaway HOME, then
# the test runner in a fresh kernel session keyring. Called by tests/run.sh.
set -euo pipefail

keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
# gnome-keyring keeps its files under HOME; a fresh one gives a fresh, empty login keyring.
# --unlock reads the password from stdin, creates the login keyring and unlocks it.
eval "$(printf 'test-password' | HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/.local/share" \
  gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL AMPSECRET_TEST_SECRET_SERVICE=1

runner=(cargo test --all-targets)
if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --all-targets --no-fail-fast)
fi
exec keyctl session - "${runner[@]}" "$@"
