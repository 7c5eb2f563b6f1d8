#!/usr/bin/env bash
# Makes sure a local PostgreSQL server runs and has a role the tests can create databases with;
# prints that role's URL. Installs PostgreSQL from Debian packages when it is missing (needs root).
set -euo pipefail

ROLE=herald_test
PASSWORD=herald_test
say() { echo "postgres: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# Look for the server itself: a machine with only the psql client has pg_lsclusters too.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "the PostgreSQL server is not installed; installing it from Debian packages"
  as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || {
    say "could not install PostgreSQL: install it (apt-get install postgresql) or set TEST_DATABASE_URL"
    exit 1
  }
fi

read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1) || true
if [ -z "${version:-}" ]; then
  version=$(ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1 | cut -d/ -f5)
  say "creating cluster $version/main"
  as_root pg_createcluster "$version" main >&2
  read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
fi
if [ "$status" != online ]; then
  say "starting cluster $version/$cluster on port $port"
  as_root pg_ctlcluster "$version" "$cluster" start >&2
fi

psql_admin() { as_root runuser -u postgres -- psql -p "$port" -tAq "$@"; }
if [ "$(psql_admin -c "select 1 from pg_roles where rolname = '$ROLE'")" != 1 ]; then
  say "creating role $ROLE"
  psql_admin -c "create role $ROLE login createdb password '$PASSWORD'" >&2
fi
# DROP DATABASE ... WITH (FORCE) on a scratch database must also end an autovacuum worker that
# happens to be in it, which needs pg_signal_backend (granting it twice is harmless).
psql_admin -c "grant pg_signal_backend to $ROLE" >/dev/null 2>&1 || say "could not grant pg_signal_backend to $ROLE"
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$port/postgres"
