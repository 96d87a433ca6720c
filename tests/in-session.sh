#!/usr/bin/env bash
# Runs inside `dbus-run-session`: starts an unlocked gnome-keyring in a throwaway HOME, then
# the test runner in a fresh kernel session keyring. Called by tests/run.sh.
set -euo pipefail

keyring_home=$(mktemp -d)
moto_pid=
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  rm -rf "$keyring_home"
}
trap cleanup EXIT
# gnome-keyring keeps its files under HOME; a fresh one gives a fresh, empty login keyring.
# --unlock reads the password from stdin, creates the login keyring and unlocks it.
eval "$(printf 'test-password' | HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/.local/share" \
  gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL AMPSECRET_TEST_SECRET_SERVICE=1

# One SSM emulator for the whole run, on a free loopback port, stopped by its PID. Tests use
# distinct app ids, so they can share it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
if command -v moto_server >/dev/null; then moto=(moto_server); else moto=(python3 -m moto.server); fi
"${moto[@]}" -H 127.0.0.1 -p "$port" >"$keyring_home/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null && break
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null && break
  sleep 0.2
done
export AMPSECRET_TEST_MOTO_URL="http://127.0.0.1:$port"

# Tests that call the library in-process (quick set-up of large vaults) record trust under
# the config folder: a throwaway one, removed with the rest, not the user's ~/.config.
export XDG_CONFIG_HOME="$keyring_home/config"

# --workspace: the test kit's own unit tests (tests/kit) run too.
runner=(cargo test --workspace --lib --bins --tests)
if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --lib --bins --tests --no-fail-fast)
fi
keyctl session - "${runner[@]}" "$@"
