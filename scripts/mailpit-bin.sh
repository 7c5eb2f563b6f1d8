#!/usr/bin/env bash
# Finds or builds mailpit (a real SMTP server with an HTTP API, for the email tests) and prints its
# absolute path; MAILPIT_PATH overrides. See go-tool.sh for the search order.
set -euo pipefail
# `mailpit version` asks GitHub for the latest release and fails offline; --help does not.
exec bash "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh" mailpit github.com/axllent/mailpit v1.27.11 MAILPIT_PATH --help
