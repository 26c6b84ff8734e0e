#!/usr/bin/env bash
# A full backup of the platform: the master database (accounts, the clinic registry, keys, Wolverine's nodes and
# messages) and every clinic database of Marten's pool (events, read models, each clinic's outbox). One file: a tar
# of pg_dump archives (custom format, compressed): master.dump, then <database id>.dump for each clinic database, and
# databases.txt listing them. Restorable with ops/restore.sh.
#
#   ops/backup.sh [FILE]      write the backup to FILE (default: $KB_BACKUP_DIR/<master>-<UTC time>.kbackup)
#
# Settings: ConnectionStrings__Marten (the master database) or KB_DB (ketaminebilling, on the cluster of
# ops/postgres.sh); KB_BACKUP_DIR (.data/backups); KB_TENANCY_SCHEMA (tenancy: where Marten's pool table is).
# The backup holds PHI: it is written readable by its owner only; keep copies encrypted and off this machine
# (docs/runbook.md, "Back up and restore").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/ops/pg-env.sh"
kb_pg_env "$ROOT"
umask 077

DIR="${KB_BACKUP_DIR:-$ROOT/.data/backups}"
FILE="${1:-$DIR/$PGDATABASE-$(date -u +%Y%m%dT%H%M%SZ).kbackup}"
TENANCY="${KB_TENANCY_SCHEMA:-tenancy}"
mkdir -p "$(dirname "$FILE")"
command -v pg_dump >/dev/null || { echo "[backup] pg_dump not found: apt-get install postgresql-client" >&2; exit 1; }

# Into a temporary folder and file first: a backup cut short never looks like a good one.
work="$(mktemp -d)"
partial="$FILE.partial"
trap 'rm -rf "$work" "$partial"' EXIT

dump() { # dump NAME: the database the PG* variables point at, into $work/NAME.dump, checked to list back
  echo "[backup] $PGDATABASE on ${PGHOST:-localhost}:${PGPORT:-5432} -> $1.dump" >&2
  pg_dump --format=custom --compress=6 --no-password --file="$work/$1.dump" "$PGDATABASE"
  # The archive must list back: a truncated or corrupt file fails here, not on the day of the restore.
  pg_restore --list "$work/$1.dump" >/dev/null
}

# The clinic databases, as the master database's pool table names them (read before the master is dumped).
pool="$(psql --no-password -qAt -F $'\t' -d "$PGDATABASE" -c \
  "select database_id, connection_string from $TENANCY.mt_database_pool order by database_id" 2>/dev/null || true)"
dump master
: > "$work/databases.txt"
while IFS=$'\t' read -r id connection; do
  [[ -n "$id" ]] || continue
  ( ConnectionStrings__Marten="$connection"; kb_pg_env "$ROOT"; dump "$id" )
  echo "$id" >> "$work/databases.txt"
done <<< "$pool"

tar -cf "$partial" -C "$work" .
mv "$partial" "$FILE"
trap 'rm -rf "$work"' EXIT
echo "[backup] done: $(du -h "$FILE" | cut -f1), the master database and $(wc -l < "$work/databases.txt") clinic database(s)" >&2
echo "$FILE"
