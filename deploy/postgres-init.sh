#!/bin/bash
# Runs once, when the Postgres volume is first initialised: Herald's own role and database,
# next to the databases Temporal's auto-setup creates for itself.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE herald LOGIN PASSWORD '${HERALD_DB_PASSWORD:-herald}';
CREATE DATABASE herald OWNER herald;
SQL
