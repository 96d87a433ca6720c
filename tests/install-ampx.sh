#!/usr/bin/env bash
# Installs Amplify's real CLI (`ampx`, npm @aws-amplify/backend-cli) into the ignored cache
# folder .cache/ampx at the repository root, for tests/ampx.rs. Idempotent: does nothing when
# .cache/ampx/node_modules/.bin/ampx already exists. About 50 s and 770 MB the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.10.0
cache=.cache/ampx

if [[ -x $cache/node_modules/.bin/ampx ]]; then
  exit 0
fi
command -v npm >/dev/null || {
  echo "install-ampx: npm (Node.js 18+) is required to install @aws-amplify/backend-cli" >&2
  exit 1
}
printf '==> %s\n' "installing @aws-amplify/backend-cli@$version into $cache" >&2
mkdir -p "$cache"
# A package.json of its own, so npm installs here and not into a parent project.
printf '{"name":"ampsecret-ampx-cache","private":true}\n' >"$cache/package.json"
(
  cd "$cache"
  NPM_CONFIG_UPDATE_NOTIFIER=false npm install --no-audit --no-fund --save-exact \
    --loglevel=error "@aws-amplify/backend-cli@$version"
)
test -x "$cache/node_modules/.bin/ampx"
