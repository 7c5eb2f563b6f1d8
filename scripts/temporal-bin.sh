#!/usr/bin/env bash
# Finds or builds the `temporal` CLI (which embeds the dev server) and prints its absolute path on
# stdout; progress goes to stderr. Order: $TEMPORAL_CLI_PATH, `temporal` on PATH, a
# project-local build under .tools/bin, and a fresh `go install` of the pinned version into it.
# Idempotent: once .tools/bin/temporal exists, later runs only check it.
set -euo pipefail

VERSION=v1.5.1 # newest tag whose go.mod has no replace directive, which `go install` rejects
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL_BIN="$ROOT/.tools/bin/temporal"

say() { echo "temporal-bin: $*" >&2; }
usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  if usable "$TEMPORAL_CLI_PATH"; then
    say "using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH"
    echo "$TEMPORAL_CLI_PATH"
    exit 0
  fi
  say "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable temporal CLI"
  exit 1
fi

if on_path=$(command -v temporal 2>/dev/null) && usable "$on_path"; then
  say "using temporal on PATH: $on_path"
  echo "$on_path"
  exit 0
fi

if usable "$LOCAL_BIN"; then
  say "using project-local build: $LOCAL_BIN"
  echo "$LOCAL_BIN"
  exit 0
fi

if command -v go >/dev/null 2>&1; then
  say "building temporal CLI $VERSION with go install into .tools/bin (first build: about 4 minutes)..."
  mkdir -p "$ROOT/.tools/bin"
  start=$(date +%s)
  if GOBIN="$ROOT/.tools/bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >&2 &&
    usable "$LOCAL_BIN"; then
    say "built $LOCAL_BIN in $(($(date +%s) - start))s"
    echo "$LOCAL_BIN"
    exit 0
  fi
  say "go install failed (see above)"
fi

cat >&2 <<EOF
temporal-bin: no temporal CLI found and none could be built.
  Install one of:
    - Go >= 1.25, then: GOBIN=$ROOT/.tools/bin go install github.com/temporalio/cli/cmd/temporal@$VERSION
    - a temporal CLI binary on PATH (https://docs.temporal.io/cli#install)
    - or point TEMPORAL_CLI_PATH at an existing binary
EOF
exit 1
