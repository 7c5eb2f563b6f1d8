#!/usr/bin/env bash
# Prints the path of a command that comes from a Debian package, installing the package first when the
# command is missing (needs root, or sudo). Usage: debian-tool.sh <command> <package>
#   e.g. debian-tool.sh promtool prometheus      debian-tool.sh chromium chromium
set -euo pipefail
command=$1
package=$2
say() { echo "debian-tool: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if ! command -v "$command" >/dev/null 2>&1; then
  say "$command is missing; installing the Debian package $package"
  # RUNLEVEL=1 keeps invoke-rc.d from starting the service some packages ship (prometheus does): only the tool is wanted.
  as_root apt-get update -qq >&2 &&
    as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "$package" >&2 || {
    say "could not install $package: install it yourself (apt-get install $package) and put $command on the PATH"
    exit 1
  }
fi
command -v "$command"
