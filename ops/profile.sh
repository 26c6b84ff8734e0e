#!/usr/bin/env bash
# Profiles the commands of benchmark scenario 2 (issue 17, ADR 0017): runs `KB_BENCH_ONLY=commands ops/bench.sh` with
# KB_BENCH_TRACE set, so that the 16-client load is traced by dotnet-trace (thread-time samples of the app) and watched
# by dotnet-counters and the whole machine sampled by perf while it runs, then prints where the CPU went by process,
# library and function (the app's and PostgreSQL's), the trace's top methods (exclusive and inclusive) and the counters'
# means. The tools are installed as global .NET tools when missing. Output in .data/profile (KB_PROFILE_DIR); the run's
# figures (throughput, CPU a command of the app and of PostgreSQL) are in its output. About 3 minutes.
set -eu

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${KB_PROFILE_DIR:-$ROOT/.data/profile}"
TOOLS="$HOME/.dotnet/tools"
export PATH="$TOOLS:$PATH"
for tool in dotnet-trace dotnet-counters; do
  command -v "$tool" >/dev/null || dotnet tool install -g "$tool" --version 10.0.750501 >/dev/null
done
rm -rf "$OUT" && mkdir -p "$OUT"
# KB_PROFILE_ONLY=memory profiles the first minute of rebuild-all instead (after the bulk load of KB_BENCH_EVENTS).
PROFILED=commands; [ "${KB_PROFILE_ONLY:-commands}" = memory ] && PROFILED=rebuild

command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
# W^X off for the profile only: with it on, the JIT's code is double-mapped and perf cannot name the app's methods.
KB_BENCH_APP_ENV="${KB_BENCH_APP_ENV:-} DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0" KB_BENCH_ONLY="${KB_PROFILE_ONLY:-commands}" KB_BENCH_TRACE="$OUT" ops/bench.sh | tee "$OUT/bench.log"

echo "== CPU samples by process and library (perf, every process on the machine)"
perf report -i "$OUT/$PROFILED.perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 | tee "$OUT/cpu-by-process.txt"
echo "== the app's top functions by CPU (self)"
perf report -i "$OUT/$PROFILED.perf.data" --no-children --comm '.NET TP Worker' --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 | tee "$OUT/cpu-app.txt"
echo "== PostgreSQL's top functions by CPU (self)"
perf report -i "$OUT/$PROFILED.perf.data" --no-children --comm postgres --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 | tee "$OUT/cpu-postgres.txt"

echo "== the app's top methods by exclusive time (thread-time samples: threads waiting count too)"
dotnet-trace report "$OUT/$PROFILED.nettrace" topN -n "${KB_PROFILE_TOP:-40}" | tee "$OUT/top-exclusive.txt"
echo "== by inclusive time"
dotnet-trace report "$OUT/$PROFILED.nettrace" topN -n "${KB_PROFILE_TOP:-40}" --inclusive | tee "$OUT/top-inclusive.txt"
echo "== counters, mean over the load"
python3 - "$OUT/$PROFILED-counters.csv" <<'EOF' | tee "$OUT/counters.txt"
import csv, sys, collections
sums = collections.defaultdict(list)
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        try:
            sums[(row["Provider"], row["Counter Name"])].append(float(row["Mean/Increment"]))
        except (KeyError, ValueError):
            pass
for (provider, name), values in sorted(sums.items()):
    print(f"{provider:32} {name:70} {sum(values) / len(values):14.2f}")
EOF
