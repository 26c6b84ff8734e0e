#!/usr/bin/env bash
# Restores a backup made by ops/backup.sh. Stop the app (every node) first.
#
#   ops/restore.sh FILE [--force]
#
# The master database goes into ConnectionStrings__Marten's (or KB_DB's) database; each clinic database into the
# database beside it named <master>_<database id> on the same server (ops/postgres.sh ensure-db NAME makes the master
# with its _shared and _group; another clinic database: create it first). The pool table is then pointed at those
# databases. A database that already holds tables is refused unless --force (or KB_RESTORE_FORCE=1): then what is in
# it is dropped and replaced by the backup. Without --force each database is restored in one transaction.
# A backup of one database (a plain pg_dump archive, from before clinics had databases of their own) is restored
# into the master database alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/ops/pg-env.sh"
FILE="${1:-}"
FORCE="${KB_RESTORE_FORCE:-0}"
TENANCY="${KB_TENANCY_SCHEMA:-tenancy}"
[[ "${2:-}" == "--force" ]] && FORCE=1
if [[ -z "$FILE" || ! -f "$FILE" ]]; then
  echo "usage: $0 FILE [--force]   (FILE: a backup made by ops/backup.sh)" >&2
  exit 2
fi
kb_pg_env "$ROOT"
command -v pg_restore >/dev/null || { echo "[restore] pg_restore not found: apt-get install postgresql-client" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if tar -tf "$FILE" 2>/dev/null | grep -q 'master.dump'; then
  tar -xf "$FILE" -C "$work"
else
  cp "$FILE" "$work/master.dump"
  : > "$work/databases.txt"
fi
for archive in "$work"/*.dump; do
  pg_restore --list "$archive" >/dev/null || { echo "[restore] $(basename "$archive") in $FILE is not a readable pg_dump archive" >&2; exit 1; }
done

MASTER="$PGDATABASE"
tables() { psql --no-password -qAt -d "$1" -c "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')"; }
# Every target is checked before anything is written.
for db in "$MASTER" $(sed "s/^/${MASTER}_/" "$work/databases.txt"); do
  count="$(tables "$db")" || { echo "[restore] database $db does not exist: create it (ops/postgres.sh ensure-db $MASTER)" >&2; exit 4; }
  if [[ "$count" != "0" && "$FORCE" != "1" ]]; then
    echo "[restore] refused: $db on ${PGHOST:-localhost}:${PGPORT:-5432} is not empty ($count tables)." >&2
    echo "[restore] restore into empty databases (ops/postgres.sh ensure-db NAME), or replace these with --force." >&2
    exit 3
  fi
done

restore() { # restore ARCHIVE DATABASE
  local args=(--no-owner --no-privileges --exit-on-error --no-password --dbname="$2")
  if [[ "$(tables "$2")" != "0" ]]; then
    echo "[restore] --force: replacing what $2 holds" >&2
    args+=(--clean --if-exists)
  fi
  echo "[restore] $(basename "$1") -> $2 on ${PGHOST:-localhost}:${PGPORT:-5432}" >&2
  pg_restore "${args[@]}" --single-transaction "$1"
}

restore "$work/master.dump" "$MASTER"
while read -r id; do
  [[ -n "$id" ]] || continue
  restore "$work/$id.dump" "${MASTER}_$id"
  # The pool now points at the restored database (same server and account as the master).
  connection="Host=${PGHOST:-localhost};Port=${PGPORT:-5432};Database=${MASTER}_$id;Username=${PGUSER:-postgres};Password=${PGPASSWORD:-}"
  echo "update $TENANCY.mt_database_pool set connection_string = :'connection' where database_id = :'id';" |
    psql --no-password -qAt -d "$MASTER" -v ON_ERROR_STOP=1 -v id="$id" -v connection="$connection" >/dev/null
done < "$work/databases.txt"
echo "[restore] done; start the app (it checks the schema), then check /health/ready" >&2
