#!/usr/bin/env bash
# Installs the real dotenv readers that tests/export_readers.rs checks `export` against, into
# the ignored cache folder .cache/readers at the repository root:
#   npm:  dotenv, @next/env (Next.js's loadEnvConfig), vite (loadEnv)  -> .cache/readers/node_modules
#   PyPI: python-dotenv                                                -> .cache/readers/python
# Idempotent: does nothing when the pinned versions are already there. A few seconds, ~40 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

dotenv_version=18.0.10
next_env_version=16.4.6
vite_version=8.4.0
# Vite 8 needs Node ^20.19 or >=22.12; on an older Node, Vite 7 reads .env files the same way.
vite_fallback_version=7.3.8
python_dotenv_version=1.2.4
cache=.cache/readers

installed() { # name version
  [[ -f $cache/node_modules/$1/package.json ]] &&
    grep -q "\"version\": \"$2\"" "$cache/node_modules/$1/package.json"
}

if ! installed dotenv "$dotenv_version" || ! installed @next/env "$next_env_version" ||
  ! { installed vite "$vite_version" || installed vite "$vite_fallback_version"; }; then
  command -v npm >/dev/null || {
    echo "install-readers: npm (Node.js 20.19+) is required to install dotenv, @next/env and vite" >&2
    exit 1
  }
  printf '==> %s\n' "installing dotenv@$dotenv_version @next/env@$next_env_version vite@$vite_version into $cache" >&2
  mkdir -p "$cache"
  # A package.json of its own, so npm installs here and not into a parent project.
  printf '{"name":"ampsecret-readers-cache","private":true}\n' >"$cache/package.json"
  npm_install() {
    (cd "$cache" && NPM_CONFIG_UPDATE_NOTIFIER=false npm install --no-audit --no-fund \
      --save-exact --loglevel=error "$@")
  }
  npm_install "dotenv@$dotenv_version" "@next/env@$next_env_version" "vite@$vite_version" ||
    npm_install "dotenv@$dotenv_version" "@next/env@$next_env_version" "vite@$vite_fallback_version"
fi

if [[ ! -f $cache/python/dotenv/version.py ]] ||
  ! grep -q "\"$python_dotenv_version\"" "$cache/python/dotenv/version.py"; then
  printf '==> %s\n' "installing python-dotenv==$python_dotenv_version into $cache/python" >&2
  rm -rf "$cache/python"
  python3 -m pip install -q --disable-pip-version-check --no-deps --target "$cache/python" \
    "python-dotenv==$python_dotenv_version"
fi
