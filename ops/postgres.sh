#!/usr/bin/env bash
# PostgreSQL for KetamineBilling: a project-local cluster under .data/postgres, or Docker Compose's
# `postgres` service when a Docker engine answers.
#
#   ops/postgres.sh start            start (or reuse) the cluster
#   ops/postgres.sh stop             stop the local cluster
#   ops/postgres.sh status           say whether it runs, and where
#   ops/postgres.sh url [DB]         the application's connection string for database DB
#   ops/postgres.sh ensure-db DB [--recreate]
#                                    create the application role and database DB (owned by that role), with the
#                                    two clinic databases beside it: DB_shared and DB_group
#   ops/postgres.sh create-db DB [--recreate]
#                                    database DB alone (owned by the application role): a clinic group's own database
#   ops/postgres.sh drop-db DB...    drop databases (their connections closed first)
#   ops/postgres.sh checkpoint       a CHECKPOINT now (the benchmark's, after it copies a store: the WAL written)
#
# Settings: KB_PG_PORT (5433), KB_DB (ketaminebilling), KB_DB_USER (kb_app), KB_DB_PASSWORD (kb_app_dev),
# KB_PG_MODE (auto|local|docker).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${KB_PG_PORT:-5433}"
APP_USER="${KB_DB_USER:-kb_app}"
APP_PASSWORD="${KB_DB_PASSWORD:-kb_app_dev}"
DEFAULT_DB="${KB_DB:-ketaminebilling}"
# KB_PG_BASE: another folder for another cluster (the fault tests start and restart one of their own).
BASE="${KB_PG_BASE:-$ROOT/.data}"

log() { echo "[postgres] $*" >&2; }

docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  local sock="/var/run/docker.sock"
  if [[ "${DOCKER_HOST:-}" == unix://* ]]; then sock="${DOCKER_HOST#unix://}"; fi
  if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != unix://* ]]; then
    timeout 2 docker info >/dev/null 2>&1
    return
  fi
  [[ -S "$sock" ]] || return 1
  # A socket that accepts but never answers would hang docker for minutes: ping with a 1 s limit.
  curl -fsS --max-time 1 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

mode() {
  case "${KB_PG_MODE:-auto}" in
    local|docker) echo "${KB_PG_MODE}" ;;
    *) if docker_answers; then echo docker; else echo local; fi ;;
  esac
}

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      log "PostgreSQL binaries missing: installing them with apt-get"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    fi
  fi
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    log "no PostgreSQL binaries found in /usr/lib/postgresql/*/bin; install PostgreSQL 15+ (apt-get install postgresql)"
    exit 1
  fi
  echo "$dir"
}

# initdb refuses to run as root: as root the cluster belongs to the postgres user, whose home must be
# able to reach the data folder; otherwise the cluster lives under /var/lib/postgresql.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    (cd / && su postgres -s /bin/bash -c "$*")
  else
    bash -c "$*"
  fi
}

cluster_dir() {
  local dir="$BASE/postgres"
  if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$BASE"
    if ! (cd / && su postgres -s /bin/bash -c "test -x '$BASE'") 2>/dev/null; then
      dir="/var/lib/postgresql/ketaminebilling-$(echo "${KB_PG_BASE:-$ROOT}" | md5sum | cut -c1-8)"
    fi
  fi
  echo "$dir"
}

DATA="$(cluster_dir)"
RUNDIR="$DATA-run"

local_running() {
  [[ -f "$DATA/postmaster.pid" ]] || return 1
  local bin; bin="$(pg_bin)"
  as_owner "'$bin/pg_ctl' -D '$DATA' status" >/dev/null 2>&1
}

start_local() {
  local bin; bin="$(pg_bin)"
  if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$DATA" "$RUNDIR"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$DATA" "$RUNDIR"; fi
  chmod 700 "$DATA"
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    log "initialising a cluster in $DATA"
    # Local socket: trust (only this machine's owner reaches it); TCP: passwords (scram-sha-256).
    as_owner "'$bin/initdb' -D '$DATA' -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  if local_running; then
    log "reusing the cluster on 127.0.0.1:$PORT ($DATA)"
    return
  fi
  rm -f "$DATA/postmaster.pid"
  log "starting the cluster on 127.0.0.1:$PORT ($DATA)"
  if ! as_owner "'$bin/pg_ctl' -D '$DATA' -l '$RUNDIR/postgres.log' -w -t 60 -o \"-p $PORT -h 127.0.0.1 -k '$RUNDIR' -c max_connections=200\" start" >/dev/null; then
    tail -n 5 "$RUNDIR/postgres.log" >&2 || true
    log "PostgreSQL did not start; if port $PORT is taken, choose another with KB_PG_PORT"
    exit 1
  fi
}

stop_local() {
  local bin; bin="$(pg_bin)"
  if local_running; then
    as_owner "'$bin/pg_ctl' -D '$DATA' -m fast -w stop" >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

compose() { (cd "$ROOT" && KB_PG_PORT="$PORT" docker compose "$@"); }

start_docker() {
  log "starting Docker Compose's postgres service on 127.0.0.1:$PORT"
  compose up -d --wait postgres >&2
}

# psql as the superuser, through the local socket or inside the container.
admin_psql() {
  if [[ "$(mode)" == docker ]]; then
    compose exec -T postgres psql -v ON_ERROR_STOP=1 -U postgres -d postgres -qAt "$@"
  else
    local bin; bin="$(pg_bin)"
    local args=""
    for a in "$@"; do args+=" $(printf '%q' "$a")"; done
    as_owner "'$bin/psql' -v ON_ERROR_STOP=1 -h '$RUNDIR' -p $PORT -U postgres -d postgres -qAt $args"
  fi
}

# A database and its two clinic databases (ADR 0016): DB is the master (the clinic registry, accounts, the
# nodes), DB_shared holds the clinics by default, DB_group a clinic group of its own.
ensure_db() {
  local db="${1:-$DEFAULT_DB}" recreate="${2:-}"
  ensure_one_db "$db" "$recreate"
  ensure_one_db "${db}_shared" "$recreate"
  ensure_one_db "${db}_group" "$recreate"
}

ensure_one_db() {
  local db="${1:-$DEFAULT_DB}" recreate="${2:-}"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "database name '$db' must match [a-z_][a-z0-9_]*"; exit 1; }
  [[ "$APP_USER" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "KB_DB_USER must match [a-z_][a-z0-9_]*"; exit 1; }
  local pw="${APP_PASSWORD//\'/\'\'}"
  # The application role is not a superuser: it owns its database and the schemas it creates.
  admin_psql -c "DO \$\$BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER') THEN
      CREATE ROLE $APP_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pw';
    ELSE
      ALTER ROLE $APP_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pw';
    END IF;
  END\$\$;" >/dev/null
  if [[ "$recreate" == "--recreate" ]]; then
    admin_psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  fi
  if [[ -z "$(admin_psql -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
    admin_psql -c "CREATE DATABASE $db OWNER $APP_USER ENCODING 'UTF8'" >/dev/null
    admin_psql -c "REVOKE ALL ON DATABASE $db FROM PUBLIC; GRANT ALL ON DATABASE $db TO $APP_USER" >/dev/null
    log "created database $db owned by $APP_USER"
  fi
}

drop_db() {
  local db
  for db in "$@"; do
    [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "database name '$db' must match [a-z_][a-z0-9_]*"; exit 1; }
    admin_psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  done
}

url() {
  local db="${1:-$DEFAULT_DB}"
  echo "Host=127.0.0.1;Port=$PORT;Database=$db;Username=$APP_USER;Password=$APP_PASSWORD;Maximum Pool Size=40"
}

cmd="${1:-status}"; shift || true
case "$cmd" in
  start)
    if [[ "$(mode)" == docker ]]; then start_docker; else start_local; fi ;;
  stop)
    if [[ "$(mode)" == docker ]]; then compose stop postgres >&2; else stop_local; fi ;;
  status)
    if [[ "$(mode)" == docker ]]; then compose ps postgres
    elif local_running; then echo "running on 127.0.0.1:$PORT (data: $DATA)"
    else echo "stopped (data: $DATA)"; exit 3; fi ;;
  url) url "${1:-}" ;;
  ensure-db) ensure_db "${1:-}" "${2:-}" ;;
  create-db) ensure_one_db "${1:?usage: $0 create-db DB [--recreate]}" "${2:-}" ;;
  drop-db) drop_db "$@" ;;
  checkpoint) admin_psql -c "checkpoint" ;;
  *) echo "usage: $0 start|stop|status|url [DB]|ensure-db DB [--recreate]|create-db DB [--recreate]|drop-db DB...|checkpoint" >&2; exit 2 ;;
esac
