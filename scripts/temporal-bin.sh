#!/usr/bin/env bash
# Finds or builds the `temporal` CLI (which embeds the dev server) and prints its absolute path;
# TEMPORAL_CLI_PATH overrides. See go-tool.sh for the search order.
set -euo pipefail
# v1.5.1: the newest tag whose go.mod has no replace directive, which `go install` rejects.
exec bash "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh" temporal github.com/temporalio/cli/cmd/temporal v1.5.1 TEMPORAL_CLI_PATH --version
