#!/usr/bin/env bash
# A full backup of the app's database (events, read models, accounts, keys, Wolverine's durable messages):
# pg_dump's custom format (-Fc: compressed, restorable table by table with ops/restore.sh).
#
#   ops/backup.sh [FILE]      write the backup to FILE (default: $KB_BACKUP_DIR/ketaminebilling-<UTC time>.dump)
#
# Settings: ConnectionStrings__Marten (the app's connection string) or KB_DB (ketaminebilling, on the cluster of
# ops/postgres.sh); KB_BACKUP_DIR (.data/backups). The backup holds PHI: it is written readable by its owner only;
# keep copies encrypted and off this machine (docs/runbook.md, "Back up and restore").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/ops/pg-env.sh"
kb_pg_env "$ROOT"
umask 077

DIR="${KB_BACKUP_DIR:-$ROOT/.data/backups}"
FILE="${1:-$DIR/$PGDATABASE-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$FILE")"
command -v pg_dump >/dev/null || { echo "[backup] pg_dump not found: apt-get install postgresql-client" >&2; exit 1; }

# Into a temporary file first: a backup cut short never looks like a good one.
partial="$FILE.partial"
trap 'rm -f "$partial"' EXIT
echo "[backup] $PGDATABASE on ${PGHOST:-localhost}:${PGPORT:-5432} -> $FILE" >&2
pg_dump --format=custom --compress=6 --no-password --file="$partial" "$PGDATABASE"
# The archive must list back: a truncated or corrupt file fails here, not on the day of the restore.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$FILE"
trap - EXIT
echo "[backup] done: $(du -h "$FILE" | cut -f1) ($(pg_restore --list "$FILE" | grep -c 'TABLE DATA') tables)" >&2
echo "$FILE"
