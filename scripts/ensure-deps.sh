#!/usr/bin/env bash
# Installs npm packages from the lockfile when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages from the lockfile" >&2
  # Not `npm ci`: the registry mirror here serves only the Linux builds of platform-specific optional
  # packages (@swc/core-darwin-*, …), so the lockfile cannot list them and `npm ci` calls it out of sync.
  # `npm install` installs exactly the locked versions and leaves the lockfile alone (CI checks that).
  npm install --no-audit --no-fund >&2
fi
