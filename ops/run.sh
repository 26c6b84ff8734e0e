#!/usr/bin/env bash
# Sets up and starts KetamineBilling on this machine: PostgreSQL (started or reused), the schema, the demo
# data (once), then the app on http://127.0.0.1:${KB_PORT:-5080}. Ctrl+C stops the app.
#
# KB_BIND   the address to listen on (default 127.0.0.1: this machine only). KB_BIND=0.0.0.0 opens it to the
#           network: only behind a TLS proxy (docker-compose.yml's Caddy, docs/runbook.md), never plain on a LAN.
# The Data Protection keys are encrypted with .data/dataprotection.pfx (made here with openssl on first run; its
# password in .data/dataprotection.password) unless DataProtection__Certificate__Path is set.
#
# PostgreSQL: ConnectionStrings__Marten if set; else Docker Compose's postgres service if a Docker engine
# answers; else a project-local cluster under .data/postgres (see ops/postgres.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
PORT="${KB_PORT:-5080}"
BIND="${KB_BIND:-127.0.0.1}"
DB="${KB_DB:-ketaminebilling}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (dotnet on PATH): https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi

if [[ -z "${ConnectionStrings__Marten:-}" ]]; then
  ops/postgres.sh start
  ops/postgres.sh ensure-db "$DB"
  export ConnectionStrings__Marten="$(ops/postgres.sh url "$DB")"
else
  echo "[run] using ConnectionStrings__Marten from the environment"
fi

if [[ -z "${DataProtection__Certificate__Path:-}" ]]; then
  mkdir -p .data
  if [[ ! -f .data/dataprotection.password ]]; then
    (umask 077; openssl rand -base64 24 > .data/dataprotection.password)
  fi
  export DataProtection__Certificate__Path="$ROOT/.data/dataprotection.pfx"
  export DataProtection__Certificate__Password="$(cat .data/dataprotection.password)"
  ops/dataprotection-cert.sh "$DataProtection__Certificate__Path"
fi

echo "[run] building"
dotnet build src/KetamineBilling -c Debug -nologo -v q -clp:NoSummary

APP=(dotnet "$ROOT/src/KetamineBilling/bin/Debug/net10.0/KetamineBilling.dll")
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export ASPNETCORE_CONTENTROOT="$ROOT/src/KetamineBilling"

echo "[run] applying the schema (Marten event store and documents, Wolverine's durable inbox/outbox)"
(cd src/KetamineBilling && "${APP[@]}" resources setup >/dev/null)

if [[ "$ASPNETCORE_ENVIRONMENT" == "Development" ]]; then
  export Demo__Seed=true
  export Demo__Password="${KB_DEMO_PASSWORD:-Demo-pass-2026}"
  # Statement notices: to a real mail server when Mail__Smtp__Host is set; else as .eml files in .data/mail.
  if [[ -z "${Mail__Smtp__Host:-}" ]]; then export Mail__PickupDirectory="${Mail__PickupDirectory:-$ROOT/.data/mail}"; fi
  # The clearinghouse drop folder: {clinic}/outbox gets the 837 and 276 files, {clinic}/inbox is imported every minute.
  export Clearinghouse__DropFolder="${Clearinghouse__DropFolder:-$ROOT/.data/clearinghouse}"
fi
export App__PublicBaseUrl="${App__PublicBaseUrl:-http://$BIND:$PORT}"

cat <<INFO

  KetamineBilling on http://$BIND:$PORT
    API reference   http://$BIND:$PORT/reference
    Health          http://$BIND:$PORT/health/ready
INFO
if [[ "$ASPNETCORE_ENVIRONMENT" == "Development" ]]; then
  cat <<INFO
    Demo logins (password: ${Demo__Password}):
      billing@demo.test         BillingAdmin
      finance@demo.test         Finance
      employer@demo.test        Employer (Acme Logistics)
      hr@contoso.demo.test      Employer (Contoso Foods)
      admin@demo.test           Administrator (users, second-factor policy, PHI access audit)
    Statement notices (Statements, Run statements) are written to ${Mail__PickupDirectory:-the mail server}
    Clearinghouse drop folder (837/276 out, 999/277CA/277/835 in): ${Clearinghouse__DropFolder}/{clinic}/outbox, inbox
    A token:  curl -s -X POST $BIND:$PORT/api/auth/token -H 'Content-Type: application/json' \\
                -d '{"username":"billing@demo.test","password":"${Demo__Password}"}'
INFO
fi
echo "  Ctrl+C stops the app (PostgreSQL keeps running: ops/postgres.sh stop)."
echo

cd src/KetamineBilling
exec "${APP[@]}" --urls "http://$BIND:$PORT"
