#!/usr/bin/env bash
# Wolverine's pre-generated handler code (src/KetamineBilling/Internal/Generated), used in Static
# mode (Production, the Docker image). Stale code in Static mode fails silently (a new endpoint answers
# 404), so ops/test.sh runs `check`, which fails when the committed code differs from a fresh generation.
#
#   ops/codegen.sh write   regenerate and rebuild (run after adding or changing an endpoint or handler)
#   ops/codegen.sh check   generate into a scratch folder and compare with the committed code
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$ROOT/src/KetamineBilling"
GENERATED="$PROJECT/Internal/Generated"
# Code generation reads the configuration but opens no connection.
export ConnectionStrings__Marten="${ConnectionStrings__Marten:-Host=127.0.0.1;Database=codegen;Username=codegen}"
export Logging__Console=false

generate() {
  dotnet run --project "$PROJECT" --no-build --no-launch-profile -- codegen write >/dev/null
}

case "${1:-check}" in
  write)
    # The old code goes before the build (stale code may not compile), and comes back if the build fails.
    backup="$(mktemp -d)"
    [ -d "$GENERATED" ] && cp -r "$GENERATED" "$backup/"
    trap 'status=$?; if [ $status -ne 0 ] && [ -d "$backup/Generated" ]; then rm -rf "$GENERATED"; cp -r "$backup/Generated" "$GENERATED"; echo "build failed: the previous generated code is back" >&2; fi; rm -rf "$backup"' EXIT
    rm -rf "$GENERATED"
    dotnet build "$PROJECT" -nologo -v q -clp:NoSummary
    Codegen__OutputPath="$GENERATED" generate
    dotnet build "$PROJECT" -nologo -v q -clp:NoSummary
    echo "generated code written to ${GENERATED#$ROOT/}"
    ;;
  check)
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    Codegen__OutputPath="$scratch" generate
    if ! diff -r -q "$GENERATED" "$scratch" >/dev/null 2>&1; then
      diff -r "$GENERATED" "$scratch" | head -n 40 >&2 || true
      echo "Generated code in ${GENERATED#$ROOT/} is stale: run ops/codegen.sh write and commit the result." >&2
      exit 1
    fi
    echo "generated code is current"
    ;;
  *) echo "usage: $0 write|check" >&2; exit 2 ;;
esac
