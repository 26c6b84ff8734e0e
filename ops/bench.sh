#!/usr/bin/env bash
# Benchmarks: starts PostgreSQL (the local cluster) with a fresh database of its own (kb_bench), a Release build of the
# app as a Production node on :KB_BENCH_PORT (5097), and runs tests/KetamineBilling.Bench against both. Writes
# docs/benchmarks.md and docs/benchmarks.json. KB_BENCH_SECONDS (10) per load level, KB_BENCH_CLAIMS (10000) in the 835,
# KB_BENCH_EVENTS (1000000) in the store for scenarios 5-7; KB_BENCH_HEAP_LIMIT (none, or hex bytes) for the app's GC
# heap, KB_BENCH_APP_ENV (e.g. DOTNET_gcServer=0) for more of its settings; KB_BENCH_ONLY=commands runs the baseline and
# scenario 2 only, KB_BENCH_ONLY=memory the 835, the bulk load and rebuild-all with memory by phase; neither writes the report.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
PORT="${KB_BENCH_PORT:-5097}"
DB="${KB_BENCH_DB:-kb_bench}"
export KB_USER_PASSWORD="${KB_USER_PASSWORD:-Bench-pass-1}"

KB_PG_MODE=local ops/postgres.sh start
KB_PG_MODE=local ops/postgres.sh ensure-db "$DB" --recreate
CONNECTION="$(KB_PG_MODE=local ops/postgres.sh url "$DB")"
# The app's pool as a production node would set it (runbook): at most 24 connections from the pool, a few more for
# the daemon and Wolverine's agents, under the 30 the goal allows.
APP_CONNECTION="${CONNECTION/Maximum Pool Size=40/Maximum Pool Size=24}"
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
# The app as ops/Dockerfile sets up a node (ADR 0011): server GC with no heap limit, two malloc arenas. Only the app's
# process: the harness holds the million events it bulk-loads in memory. KB_BENCH_HEAP_LIMIT (hex bytes) tries a limit.
APP_HEAP="${KB_BENCH_HEAP_LIMIT:-none}"
(cd "$APP_DIR" && dotnet KetamineBilling.dll resources setup >/dev/null)
(cd "$APP_DIR" && dotnet KetamineBilling.dll add-user bench@bench.local BillingAdmin --name "Bench" >/dev/null)

mkdir -p "$ROOT/.data"
HEAP_ENV=(); [ "$APP_HEAP" != none ] && HEAP_ENV=(DOTNET_GCHeapHardLimit="$APP_HEAP")
(cd "$APP_DIR" && exec env "${HEAP_ENV[@]}" ${KB_BENCH_APP_ENV:-} MALLOC_ARENA_MAX=2 dotnet KetamineBilling.dll --urls "http://127.0.0.1:$PORT") > "$ROOT/.data/bench-app.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null || true' EXIT
for _ in $(seq 1 90); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the app did not become ready; see .data/bench-app.log" >&2; exit 1; }

echo "== benchmarks"
dotnet tests/KetamineBilling.Bench/bin/Release/net10.0/KetamineBilling.Bench.dll "http://127.0.0.1:$PORT" "$CONNECTION" "$APP" "$ROOT/docs"
