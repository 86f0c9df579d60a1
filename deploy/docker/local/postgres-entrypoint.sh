#!/usr/bin/env bash
# Entrypoint of the local PostgreSQL image (postgres.Dockerfile): on an empty PGDATA, initialises
# the cluster the way the official postgres image does for the variables deploy/compose.yaml sets
# (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB), then runs the command (postgres) in its place.
set -euo pipefail

: "${PGDATA:?PGDATA is not set}"
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD must be set to initialise $PGDATA" >&2
    exit 1
  fi
  echo "postgres-entrypoint: initialising $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  # The password reaches initdb through a pipe, never a file or the command line.
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Other containers connect over the compose network, with a password.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [[ $POSTGRES_DB != postgres ]]; then
    # Single-user mode: no server listens while the cluster is set up.
    printf 'CREATE DATABASE "%s";\n' "${POSTGRES_DB//\"/\"\"}" |
      postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi

exec "$@"
