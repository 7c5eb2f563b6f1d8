#!/usr/bin/env bash
# Prints the path of the schemathesis CLI (`st`), installing it from PyPI into a virtualenv under
# .tools/ first when missing. The version is pinned so a new release cannot change the CI verdict.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=4.32.5
venv=.tools/schemathesis-$version
say() { echo "schemathesis: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if [ ! -x "$venv/bin/st" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "python3 with venv is missing; installing the Debian package python3-venv"
    as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 || {
      say "could not install python3-venv: install it yourself (apt-get install python3-venv)"
      exit 1
    }
  fi
  say "installing schemathesis $version from PyPI into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || { say "could not make a virtualenv: apt-get install python3-venv"; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" >&2 || {
    say "could not install schemathesis $version from PyPI"
    rm -rf "$venv"
    exit 1
  }
fi
echo "$PWD/$venv/bin/st"
