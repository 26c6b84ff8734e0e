#!/usr/bin/env bash
# Runs every test project against real PostgreSQL and prints "N passed, N failed, N skipped" from the
# results. PostgreSQL: Testcontainers when a Docker engine answers (the tests start it), else the local
# cluster (ops/postgres.sh) with a database of its own, dropped and recreated on each run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RESULTS="$ROOT/.data/test-results"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"

if [[ -z "${KB_TEST_CONNECTION:-}" ]]; then
  if [[ -n "${ConnectionStrings__Marten:-}" ]]; then
    export KB_TEST_CONNECTION="$ConnectionStrings__Marten"
  else
    # The local cluster is also the fallback when Docker answers but Testcontainers cannot be used.
    KB_PG_MODE=local ops/postgres.sh start
    KB_PG_MODE=local ops/postgres.sh ensure-db "${KB_TEST_DB:-kb_test}" --recreate
    export KB_TEST_CONNECTION="$(KB_PG_MODE=local ops/postgres.sh url "${KB_TEST_DB:-kb_test}")"
  fi
fi

echo "== chromium for the browser tests (Debian's package; Playwright never downloads a browser here)"
if ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: install it with 'sudo apt-get install chromium'" >&2; exit 1
  fi
fi

echo "== third-party X12 reader for the tests (node-x12)"
(cd tests/x12-reader && npm ci --no-audit --no-fund --loglevel=error)

echo "== build"
dotnet build KetamineBilling.sln -c Debug -nologo -v q -clp:NoSummary

echo "== generated code is current"
ops/codegen.sh check

passed=0; failed=0; skipped=0; ran=0
status=0
for project in $(grep -l "<IsTestProject>true</IsTestProject>" tests/*/*.csproj); do
  name="$(basename "$project" .csproj)"
  echo "== $name"
  set +e
  dotnet test --project "$project" --no-build --report-xunit-xml --report-xunit-xml-filename "$name.xml" \
    --results-directory "$RESULTS" --output Detailed
  code=$?
  set -e
  report="$RESULTS/$name.xml"
  if [[ ! -f "$report" ]]; then
    echo "no results from $name (exit code $code)"; status=1; continue
  fi
  # xunit's own report: <assembly total= passed= failed= skipped= errors=>
  read -r p f s e < <(python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
a = ET.parse(sys.argv[1]).getroot().find("assembly")
print(a.get("passed"), a.get("failed"), a.get("skipped"), a.get("errors", "0"))
PY
)
  passed=$((passed + p)); failed=$((failed + f + e)); skipped=$((skipped + s)); ran=$((ran + p + f))
  # A failure is repeated here, next to the summary, so that the tail of a CI log always says which test failed and why.
  python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for test in root.iter("test"):
    if test.get("result") != "Fail":
        continue
    failure = test.find("failure")
    message = (failure.findtext("message") or "").strip() if failure is not None else ""
    trace = (failure.findtext("stack-trace") or "").strip() if failure is not None else ""
    print(f"FAILED {test.get('name')} ({test.get('time')} s)")
    for line in message.splitlines()[:40]:
        print(f"    {line}")
    for line in trace.splitlines()[:12]:
        print(f"    {line}")
for error in root.iter("error"):
    print(f"ERROR {error.get('type')} {error.get('name')}")
    failure = error.find("failure")
    if failure is not None:
        for line in (failure.findtext("message") or "").strip().splitlines()[:20]:
            print(f"    {line}")
PY
  [[ $code -eq 0 ]] || status=1
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
if [[ $ran -eq 0 ]]; then echo "no test ran" >&2; exit 1; fi
if [[ $failed -gt 0 || $status -ne 0 ]]; then exit 1; fi
