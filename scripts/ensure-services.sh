#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on loopback, for the tests of the
# postgres and redis backends (CI's `ensure_services` step):
#
# - PostgreSQL on 127.0.0.1:$PG_PORT (default 5432), trust auth, with a
#   database `test`: when down, the machine's cluster on that port is
#   started (pg_ctlcluster); when PostgreSQL is not installed, it is
#   installed (apt-get); when there is still no server, a throwaway cluster
#   (initdb, trust auth) is started on the port.
# - Redis on 127.0.0.1:$REDIS_PORT (default 6379): installed when missing,
#   started when down (no persistence).
#
# Exits 1, saying which, when a service still does not answer: the tests
# of a backend that cannot be reached must fail, never skip.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
# Where a throwaway PostgreSQL cluster lives, when one is needed.
PG_SCRATCH=${PG_SCRATCH:-/var/tmp/scim-ci-postgres-$PG_PORT}

log() { echo "ensure-services: $*" >&2; }
fail() { log "$*"; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade "$@" >/dev/null
}

wait_for() { # seconds, then a command that succeeds when ready
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt "$@"; }

ensure_postgres() {
  if ! pg_up; then
    if [ -z "$(pg_bin)" ] || ! command -v pg_isready >/dev/null; then
      log "PostgreSQL is not installed: installing it"
      apt_install postgresql
    fi
  fi
  if ! pg_up && command -v pg_lsclusters >/dev/null; then
    # The machine's cluster on this port (Debian: /etc/postgresql/V/main).
    local cluster
    cluster=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1 " " $2; exit }')
    if [ -n "$cluster" ]; then
      log "PostgreSQL is down: pg_ctlcluster $cluster start"
      # shellcheck disable=SC2086
      as_root pg_ctlcluster --skip-systemctl-redirect $cluster start || true
      wait_for 30 pg_up || true
    fi
  fi
  if ! pg_up; then
    local bin
    bin=$(pg_bin)
    [ -n "$bin" ] || fail "PostgreSQL's initdb is not installed and could not be"
    log "no PostgreSQL on port $PG_PORT: a throwaway cluster in $PG_SCRATCH"
    as_root rm -rf "$PG_SCRATCH"
    as_root mkdir -p "$PG_SCRATCH"
    as_root chown postgres:postgres "$PG_SCRATCH"
    as_root runuser -u postgres -- "$bin/initdb" -D "$PG_SCRATCH/data" -A trust -U postgres --no-sync >/dev/null
    as_root runuser -u postgres -- "$bin/pg_ctl" -D "$PG_SCRATCH/data" -w -l "$PG_SCRATCH/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SCRATCH" start >/dev/null
  fi
  wait_for 30 pg_up || fail "PostgreSQL on 127.0.0.1:$PG_PORT is unreachable: the postgres tests cannot run"
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE test" >/dev/null
  fi
  psql "postgres://postgres@127.0.0.1:$PG_PORT/test" -qAtc 'SELECT 1' >/dev/null \
    || fail "cannot connect to postgres://postgres@127.0.0.1:$PG_PORT/test"
  log "PostgreSQL $(psql_admin -c 'SHOW server_version') answers on 127.0.0.1:$PG_PORT"
}

ensure_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "Redis is not installed: installing it"
    apt_install redis-server
  fi
  if ! redis_up; then
    log "Redis is down: starting it on port $REDIS_PORT"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  wait_for 30 redis_up || fail "Redis on 127.0.0.1:$REDIS_PORT is unreachable: the redis tests cannot run"
  local version
  version=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
  log "Redis $version answers on 127.0.0.1:$REDIS_PORT"
}

ensure_postgres
ensure_redis
