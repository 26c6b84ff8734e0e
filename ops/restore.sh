#!/usr/bin/env bash
# Restores a backup made by ops/backup.sh into the app's database. Stop the app (every node) first.
#
#   ops/restore.sh FILE [--force]
#
# A database that already holds tables is refused unless --force (or KB_RESTORE_FORCE=1): then what is in
# it is dropped and replaced by the backup. Without --force the restore runs in one transaction: all or nothing.
# Settings: ConnectionStrings__Marten or KB_DB (ketaminebilling), as ops/backup.sh. An empty database to
# restore into: ops/postgres.sh ensure-db NAME.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/ops/pg-env.sh"
FILE="${1:-}"
FORCE="${KB_RESTORE_FORCE:-0}"
[[ "${2:-}" == "--force" ]] && FORCE=1
if [[ -z "$FILE" || ! -f "$FILE" ]]; then
  echo "usage: $0 FILE [--force]   (FILE: a backup made by ops/backup.sh)" >&2
  exit 2
fi
kb_pg_env "$ROOT"
command -v pg_restore >/dev/null || { echo "[restore] pg_restore not found: apt-get install postgresql-client" >&2; exit 1; }
pg_restore --list "$FILE" >/dev/null || { echo "[restore] $FILE is not a readable pg_dump archive" >&2; exit 1; }

tables="$(psql --no-password -qAt -d "$PGDATABASE" -c "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')")"
args=(--no-owner --no-privileges --exit-on-error --no-password --dbname="$PGDATABASE")
if [[ "$tables" != "0" ]]; then
  if [[ "$FORCE" != "1" ]]; then
    echo "[restore] refused: $PGDATABASE on ${PGHOST:-localhost}:${PGPORT:-5432} is not empty ($tables tables)." >&2
    echo "[restore] restore into an empty database (ops/postgres.sh ensure-db NAME), or replace this one with --force." >&2
    exit 3
  fi
  echo "[restore] --force: replacing what $PGDATABASE holds" >&2
  args+=(--clean --if-exists)
fi
echo "[restore] $FILE -> $PGDATABASE on ${PGHOST:-localhost}:${PGPORT:-5432}" >&2
pg_restore "${args[@]}" --single-transaction "$FILE"
echo "[restore] done; start the app (it checks the schema), then check /health/ready" >&2
