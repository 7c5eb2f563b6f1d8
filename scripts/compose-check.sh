#!/usr/bin/env bash
# Validates docker-compose.yml with `docker compose config` (no Docker engine needed). Uses the
# Docker CLI plugin or a docker-compose binary when present; otherwise builds Compose v2 from the Go
# module proxy into .tools/bin once (about 2.5 minutes), since these machines reach no download site.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPOSE_VERSION=v2.32.4
cd "$ROOT"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2'; then
  compose=(docker-compose)
else
  if [ ! -x .tools/bin/docker-compose ]; then
    echo "compose-check: building Docker Compose $COMPOSE_VERSION into .tools/bin" >&2
    mkdir -p .tools/compose .tools/bin
    GOBIN="$ROOT/.tools/compose" go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" >&2
    mv .tools/compose/cmd .tools/bin/docker-compose
  fi
  compose=(.tools/bin/docker-compose)
fi
"${compose[@]}" -f docker-compose.yml config --quiet
echo "compose-check: docker-compose.yml is valid (${compose[*]})" >&2
