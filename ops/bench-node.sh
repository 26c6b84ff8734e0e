#!/usr/bin/env bash
# One app node of the benchmarks, in the foreground: ops/bench.sh starts the first one with it, and the harness starts
# the second one and restarts a node it killed with the same command, so every node runs with the same settings.
#
#   ops/bench-node.sh PORT      the Release build as a node on http://127.0.0.1:PORT, its output appended to
#                               .data/bench-app-PORT.log (a restarted node's log follows the killed one's)
#
# The node as ops/Dockerfile sets one up (ADR 0011): server GC with no heap limit, two malloc arenas;
# KB_BENCH_HEAP_LIMIT (hex bytes) tries a heap limit, KB_BENCH_APP_ENV (e.g. DOTNET_gcServer=0) more settings. Only the
# nodes run with them, not the harness: it holds the million events it bulk-loads in memory. The
# rest comes from the environment ops/bench.sh exports: ConnectionStrings__Marten, ASPNETCORE_ENVIRONMENT and the
# Data Protection certificate. The script becomes the node (exec): the id of the process started is the node's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${1:?usage: ops/bench-node.sh PORT}"
HEAP_ENV=(); [ "${KB_BENCH_HEAP_LIMIT:-none}" != none ] && HEAP_ENV=(DOTNET_GCHeapHardLimit="$KB_BENCH_HEAP_LIMIT")
mkdir -p "$ROOT/.data"
cd "$ROOT/src/KetamineBilling/bin/Release/net10.0"
# KB_BENCH_APP_ENV is a list of NAME=value words: unquoted on purpose.
# shellcheck disable=SC2086
exec env "${HEAP_ENV[@]}" ${KB_BENCH_APP_ENV:-} MALLOC_ARENA_MAX=2 dotnet KetamineBilling.dll --urls "http://127.0.0.1:$PORT" \
  >>"$ROOT/.data/bench-app-$PORT.log" 2>&1
