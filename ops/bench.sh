#!/usr/bin/env bash
# Benchmarks: starts PostgreSQL (the local cluster) with a fresh database of its own (kb_bench), a Release build of the
# app as a Production node on :KB_BENCH_PORT (5097, ops/bench-node.sh), and runs tests/KetamineBilling.Bench against
# both. Writes docs/benchmarks.md and docs/benchmarks.json. KB_BENCH_SECONDS (10) per load level, KB_BENCH_CLAIMS
# (10000) in the 835, KB_BENCH_EVENTS (1000000) in the store for scenarios 5-7; KB_BENCH_HEAP_LIMIT (none, or hex bytes)
# for the app's GC heap, KB_BENCH_APP_ENV (e.g. DOTNET_gcServer=0) for more of its settings; KB_BENCH_ONLY=commands runs
# the baseline and scenario 2 only, KB_BENCH_ONLY=memory the 835, the bulk load and rebuild-all with memory by phase;
# neither writes the report. KB_BENCH_ONLY=nodes runs the single-row baseline and the two-node scenario (about 11
# minutes, its loads KB_BENCH_NODE_SECONDS (30) each): the harness starts a second node on :KB_BENCH_PORT2 (5098) after measuring the first alone, stops, kills and
# restarts nodes, and writes docs/benchmarks-nodes.md. Every node the run started is stopped when it ends.
# KB_BENCH_ONLY=clinics runs the single-row baseline and issue 16's many clinics (about 15 minutes), and writes
# docs/benchmarks-clinics.md: KB_BENCH_CLINICS (200) clinics in the shared database, a second installation
# (${KB_BENCH_DB}_dbs) with KB_BENCH_CLINIC_DBS (20) clinic databases (${KB_BENCH_DB}_c01...), one clinic each, each
# layout at rest for KB_BENCH_IDLE_SECONDS (30) after KB_BENCH_SETTLE_SECONDS (15); the async projections' lag per
# clinic with KB_BENCH_LOAD_CLINICS (10) clinics at work, KB_BENCH_CLIENTS_PER_CLINIC (2) clients each, for
# KB_BENCH_SECONDS then KB_BENCH_LAG_SECONDS (30); a clinic of KB_BENCH_CLINIC_EVENTS (20000) events and one of ten times
# as many rebuilt. The run's extra databases are dropped when it ends.
# Every account acts for a clinic (ADR 0016): the run onboards the bench clinic (in the shared database) first.
# From a git worktree, KB_PG_BASE=<main checkout>/.data uses the main checkout's local cluster (ops/postgres.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
PORT="${KB_BENCH_PORT:-5097}"
PORT2="${KB_BENCH_PORT2:-5098}"
DB="${KB_BENCH_DB:-kb_bench}"
ONLY="${KB_BENCH_ONLY:-}"
export KB_USER_PASSWORD="${KB_USER_PASSWORD:-Bench-pass-1}"

KB_PG_MODE=local ops/postgres.sh start
KB_PG_MODE=local ops/postgres.sh ensure-db "$DB" --recreate
CONNECTION="$(KB_PG_MODE=local ops/postgres.sh url "$DB")"
# The app's pool as a production node would set it (runbook): at most 24 connections from the pool, a few more for
# the daemon and Wolverine's agents, under the 30 the goal allows.
APP_CONNECTION="${CONNECTION/Maximum Pool Size=40/Maximum Pool Size=24}"
# KB_BENCH_CONNECTION_OPTIONS: more Npgsql settings for the app's pool, to compare (e.g. "Max Auto Prepare=100").
APP_CONNECTION="${APP_CONNECTION}${KB_BENCH_CONNECTION_OPTIONS:+;$KB_BENCH_CONNECTION_OPTIONS}"
export ConnectionStrings__Marten="$APP_CONNECTION"

echo "== Release build"
dotnet build tests/KetamineBilling.Bench -c Release -nologo -v q -clp:NoSummary

APP_DIR="$ROOT/src/KetamineBilling/bin/Release/net10.0"
export ASPNETCORE_ENVIRONMENT=Production
# A Production node needs its Data Protection certificate: the one ops/run.sh makes under .data/.
if [[ -z "${DataProtection__Certificate__Path:-}" ]]; then
  mkdir -p "$ROOT/.data"
  [[ -f "$ROOT/.data/dataprotection.password" ]] || (umask 077; openssl rand -base64 24 > "$ROOT/.data/dataprotection.password")
  export DataProtection__Certificate__Path="$ROOT/.data/dataprotection.pfx"
  export DataProtection__Certificate__Password="$(cat "$ROOT/.data/dataprotection.password")"
  "$ROOT/ops/dataprotection-cert.sh" "$DataProtection__Certificate__Path"
fi
(cd "$APP_DIR" && dotnet KetamineBilling.dll resources setup >/dev/null)
(cd "$APP_DIR" && dotnet KetamineBilling.dll add-clinic bench "Bench Clinic" >/dev/null)
# The clinics' run onboards clinics through the API: an administrator too.
ROLES=BillingAdmin
[[ "$ONLY" == clinics ]] && ROLES=BillingAdmin,Administrator
(cd "$APP_DIR" && dotnet KetamineBilling.dll add-user bench@bench.local "$ROLES" --name "Bench" --clinics bench >/dev/null)

# The clinics' run: a second installation (its own master database and pool) whose clinics each have a database of
# their own, created by the superuser like ensure-db, owned by the application role, then added by add-clinic.
EXTRA_DBS=()
drop_extra_dbs() {
  if (( ${#EXTRA_DBS[@]} > 0 )); then
    KB_PG_MODE=local ops/postgres.sh drop-db "${EXTRA_DBS[@]}" || echo "could not drop ${EXTRA_DBS[*]}" >&2
  fi
}
if [[ "$ONLY" == clinics ]]; then
  DBS="${DB}_dbs"
  CLINIC_DBS="${KB_BENCH_CLINIC_DBS:-20}"
  EXTRA_DBS=("$DBS" "${DBS}_shared" "${DBS}_group")
  for i in $(seq -f %02g 1 "$CLINIC_DBS"); do EXTRA_DBS+=("${DB}_c$i"); done
  trap drop_extra_dbs EXIT
  echo "== a second installation: $DBS with $CLINIC_DBS clinic databases"
  KB_PG_MODE=local ops/postgres.sh ensure-db "$DBS" --recreate
  for i in $(seq -f %02g 1 "$CLINIC_DBS"); do KB_PG_MODE=local ops/postgres.sh create-db "${DB}_c$i" --recreate; done
  DBS_CONNECTION="${APP_CONNECTION/Database=$DB;/Database=$DBS;}"
  (cd "$APP_DIR" && ConnectionStrings__Marten="$DBS_CONNECTION" dotnet KetamineBilling.dll resources setup >/dev/null)
  started=$(date +%s%N)
  for i in $(seq -f %02g 1 "$CLINIC_DBS"); do
    (cd "$APP_DIR" && ConnectionStrings__Marten="$DBS_CONNECTION" dotnet KetamineBilling.dll add-clinic "c$i" "Bench Clinic c$i" \
      --database "c$i" --connection "${APP_CONNECTION/Database=$DB;/Database=${DB}_c$i;}" >/dev/null)
  done
  elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  KB_BENCH_DBS_ONBOARD_SECONDS="$(printf '%d.%03d' $((elapsed_ms / 1000)) $((elapsed_ms % 1000)))"
  export KB_BENCH_DBS_CONNECTION="$DBS_CONNECTION" KB_BENCH_CLINIC_DBS="$CLINIC_DBS" KB_BENCH_DBS_ONBOARD_SECONDS
fi

# Every node of the run, the harness's included (it appends the ones it starts), is stopped when the run ends: a
# node's process still running a KetamineBilling.dll, asked to stop, then killed if it has not within 20 s.
NODE_PIDS="$ROOT/.data/bench-nodes.pid"
: > "$NODE_PIDS"
export KB_BENCH_NODE_PIDS="$NODE_PIDS" KB_BENCH_NODE="$ROOT/ops/bench-node.sh"
export KB_BENCH_URL2="http://127.0.0.1:$PORT2"
is_node() { grep -qas KetamineBilling.dll "/proc/$1/cmdline"; }
stop_nodes() {
  local pid pids=()
  while read -r pid; do is_node "$pid" && pids+=("$pid") && kill "$pid" 2>/dev/null; done < "$NODE_PIDS"
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 40); do is_node "$pid" || break; sleep 0.5; done
    is_node "$pid" && kill -9 "$pid" 2>/dev/null
  done
  return 0
}
trap 'stop_nodes; drop_extra_dbs' EXIT

: > "$ROOT/.data/bench-app-$PORT.log"
: > "$ROOT/.data/bench-app-$PORT2.log"
ops/bench-node.sh "$PORT" &
APP=$!
echo "$APP" >> "$NODE_PIDS"
for _ in $(seq 1 90); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the app did not become ready; see .data/bench-app-$PORT.log" >&2; exit 1; }

echo "== benchmarks"
dotnet tests/KetamineBilling.Bench/bin/Release/net10.0/KetamineBilling.Bench.dll "http://127.0.0.1:$PORT" "$CONNECTION" "$APP" "$ROOT/docs"
