#!/usr/bin/env bash
# The whole test suite, on a fresh machine, with no input: installs what the tests need,
# then runs them inside a private D-Bus session with an unlocked gnome-keyring (the Secret
# Service) and a kernel session keyring (keyutils).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# --- System packages -----------------------------------------------------------------------
apt_packages=()
command -v dbus-run-session >/dev/null || apt_packages+=(dbus dbus-bin)
command -v gnome-keyring-daemon >/dev/null || apt_packages+=(gnome-keyring)
command -v secret-tool >/dev/null || apt_packages+=(libsecret-tools)
command -v keyctl >/dev/null || apt_packages+=(keyutils)
# Shells and man for the completion and man-page tests.
command -v bash >/dev/null || apt_packages+=(bash)
command -v zsh >/dev/null || apt_packages+=(zsh)
command -v fish >/dev/null || apt_packages+=(fish)
command -v man >/dev/null || apt_packages+=(man-db groff-base)
# Real git and SSH keys for the team-vault tests.
command -v git >/dev/null || apt_packages+=(git)
command -v ssh-keygen >/dev/null || apt_packages+=(openssh-client)
if ((${#apt_packages[@]})); then
  log "installing ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# --- The SSM emulator (moto's server, from PyPI) ------------------------------------------
# Used from PATH when installed; otherwise installed into a virtual environment in the ignored
# .cache/ folder (a system Python refuses installs outside one: PEP 668), whose moto_server
# alone goes on PATH (the tests' python3 stays the system's).
if ! command -v moto_server >/dev/null; then
  if [[ ! -x .cache/moto/bin/moto_server ]]; then
    log "installing moto[server] into .cache/moto"
    if ! python3 -m venv .cache/moto 2>/dev/null; then
      # Debian and Ubuntu ship venv's pip bootstrap separately.
      rm -rf .cache/moto
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv .cache/moto
    fi
    .cache/moto/bin/python -m pip install -q --disable-pip-version-check 'moto[server]==5.2.1'
  fi
  mkdir -p .cache/bin
  ln -sf ../moto/bin/moto_server .cache/bin/moto_server
  export PATH="$PWD/.cache/bin:$PATH"
fi

# --- Amplify's real CLI (ampx, from npm), cached in the ignored .cache/ folder ---------------
bash tests/install-ampx.sh

# --- The real dotenv readers (npm dotenv, @next/env, vite; PyPI python-dotenv), in .cache/ ----
bash tests/install-readers.sh

# --- Lint, then the tests ------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "running the tests in a private D-Bus session with gnome-keyring"
exec dbus-run-session -- bash tests/in-session.sh "$@"
