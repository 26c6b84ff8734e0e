#!/usr/bin/env bash
# Screenshots of the admin UI's main pages into docs/screenshots/, from the app with the demo data, in Debian's
# chromium. Starts its own app on KB_SCREENSHOT_PORT (5099) against a fresh database of its own (kb_screenshots).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${KB_SCREENSHOT_PORT:-5099}"
DB="${KB_SCREENSHOT_DB:-kb_screenshots}"

command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

KB_PG_MODE=local ops/postgres.sh start
KB_PG_MODE=local ops/postgres.sh ensure-db "$DB" --recreate
export ConnectionStrings__Marten="$(KB_PG_MODE=local ops/postgres.sh url "$DB")"

dotnet build KetamineBilling.sln -nologo -v q -clp:NoSummary
ASPNETCORE_ENVIRONMENT=Development Demo__Seed=true Logging__Console=false ASPNETCORE_URLS="http://127.0.0.1:$PORT" Mail__PickupDirectory="$ROOT/.data/screenshots-mail" \
  dotnet run --project src/KetamineBilling --no-build --no-launch-profile > "$ROOT/.data/screenshots-app.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null || true' EXIT
for _ in $(seq 1 90); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "the app did not become ready; see .data/screenshots-app.log" >&2; exit 1; }

dotnet run --project tests/KetamineBilling.Screenshots --no-build -- "http://127.0.0.1:$PORT" "$ROOT/docs/screenshots"
