#!/usr/bin/env bash
# Finds or builds a Go-built tool and prints its absolute path on stdout; progress goes to stderr.
#   go-tool.sh NAME PACKAGE VERSION ENV_VAR CHECK_ARG
# Order: $ENV_VAR, NAME on PATH, a project-local build under .tools/bin, and a fresh
# `go install PACKAGE@VERSION` into it. Idempotent: once .tools/bin/NAME exists, later runs only
# check it (by running it with CHECK_ARG, which must succeed offline).
set -euo pipefail

NAME=$1 PACKAGE=$2 VERSION=$3 ENV_VAR=$4 CHECK_ARG=$5
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL_BIN="$ROOT/.tools/bin/$NAME"

say() { echo "$NAME-bin: $*" >&2; }
usable() { [ -x "$1" ] && "$1" "$CHECK_ARG" >/dev/null 2>&1; }

given=${!ENV_VAR:-}
if [ -n "$given" ]; then
  if usable "$given"; then
    say "using $ENV_VAR=$given"
    echo "$given"
    exit 0
  fi
  say "$ENV_VAR=$given is not an executable $NAME"
  exit 1
fi

if on_path=$(command -v "$NAME" 2>/dev/null) && usable "$on_path"; then
  say "using $NAME on PATH: $on_path"
  echo "$on_path"
  exit 0
fi

if usable "$LOCAL_BIN"; then
  say "using project-local build: $LOCAL_BIN"
  echo "$LOCAL_BIN"
  exit 0
fi

if command -v go >/dev/null 2>&1; then
  say "building $NAME $VERSION with go install into .tools/bin (a first build takes minutes)..."
  mkdir -p "$ROOT/.tools/bin"
  start=$(date +%s)
  if GOBIN="$ROOT/.tools/bin" GOFLAGS=-mod=mod go install "$PACKAGE@$VERSION" >&2 && usable "$LOCAL_BIN"; then
    say "built $LOCAL_BIN in $(($(date +%s) - start))s"
    echo "$LOCAL_BIN"
    exit 0
  fi
  say "go install failed (see above)"
fi

cat >&2 <<MSG
$NAME-bin: no $NAME found and none could be built.
  Install one of:
    - Go >= 1.25, then: GOBIN=$ROOT/.tools/bin go install $PACKAGE@$VERSION
    - a $NAME binary on PATH
    - or point $ENV_VAR at an existing binary
MSG
exit 1
