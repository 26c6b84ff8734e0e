# Sourced by ops/backup.sh and ops/restore.sh: the app's database as libpq settings (PGHOST, PGPORT,
# PGDATABASE, PGUSER, PGPASSWORD), from ConnectionStrings__Marten when set, else from ops/postgres.sh url
# "$KB_DB" (the local cluster or Docker Compose's postgres service).

kb_pg_env() {
  local root="$1" connection="${ConnectionStrings__Marten:-}"
  if [[ -z "$connection" ]]; then
    connection="$("$root/ops/postgres.sh" url "${KB_DB:-ketaminebilling}")"
  fi
  local part key value
  IFS=';' read -r -a parts <<<"$connection"
  for part in "${parts[@]}"; do
    [[ "$part" == *=* ]] || continue
    key="$(echo "${part%%=*}" | tr '[:upper:]' '[:lower:]' | tr -d ' ')"
    value="${part#*=}"
    case "$key" in
      host|server) export PGHOST="$value" ;;
      port) export PGPORT="$value" ;;
      database|db) export PGDATABASE="$value" ;;
      username|userid|user) export PGUSER="$value" ;;
      password) export PGPASSWORD="$value" ;;
    esac
  done
  [[ -n "${PGDATABASE:-}" ]] || { echo "no database in the connection string" >&2; exit 1; }
}
