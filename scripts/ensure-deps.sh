#!/usr/bin/env bash
# Installs npm packages from the lockfile when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages from the lockfile" >&2
  # `npm install` rather than `npm ci`: the registry mirror has not always served every platform's
  # optional builds (@swc/core-darwin-*, …), and `npm ci` refuses a lockfile missing them. With the
  # lockfile complete, `npm install` installs exactly the locked versions (CI checks it is unchanged).
  npm install --no-audit --no-fund >&2
fi
