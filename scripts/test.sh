#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs npm packages if needed, finds or builds the
# temporal CLI, makes sure a PostgreSQL server is running and promtool (Debian prometheus) is installed,
# installs schemathesis (PyPI) into .tools/, finds or builds mailpit (the SMTP server the email tests
# send to), then runs jest. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
export TEMPORAL_CLI_PATH="${TEMPORAL_CLI_PATH:-$(bash scripts/temporal-bin.sh)}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(bash scripts/postgres.sh)}"
export PROMTOOL_PATH="${PROMTOOL_PATH:-$(bash scripts/debian-tool.sh promtool prometheus)}"
export SCHEMATHESIS_PATH="${SCHEMATHESIS_PATH:-$(bash scripts/schemathesis.sh)}"
export MAILPIT_PATH="${MAILPIT_PATH:-$(bash scripts/mailpit-bin.sh)}"
# PGlite loads its file-system layer with a dynamic import(), which jest only allows with this flag.
export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning ${NODE_OPTIONS:-}"
exec npx jest "$@"
