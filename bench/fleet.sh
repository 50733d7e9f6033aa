#!/usr/bin/env bash
# Times the engine on simulated fleets: `conv plan` of SITES sites x 20 services (fresh state)
# and `conv apply` of the same through 4 stages (no latency, no failures, no bake), for
# each size in SIZES, interleaving RUNS rounds so that the machine's slow spells spread over
# every size. Prints one line per run; BENCHMARKS.md reports the ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p conv-cli -p conv-bench
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=${SIZES:-1000 10000 50000}
apply_sizes=${APPLY_SIZES:-1000 10000 50000}
for n in $sizes; do "$target/release/conv-gen-fleet" "$n" 20 "$work/f$n"; done
for round in $(seq "${RUNS:-3}"); do
  for n in $sizes; do
    rm -rf "$work/f$n/.conv"
    /usr/bin/time -f "%e %M" -o "$work/t" "$target/release/conv" plan "$work/f$n" >/dev/null 2>&1
    read -r t m < "$work/t"
    echo "round $round: plan  $n sites x 20 services: ${t} s, $((m / 1024)) MB"
  done
  for n in $apply_sizes; do
    rm -rf "$work/f$n/.conv"
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$target/release/conv" apply "$work/f$n" --yes >/dev/null 2>&1
    read -r t u s m < "$work/t"
    echo "round $round: apply $n sites x 20 services: ${t} s (cpu ${u} + ${s} s), $((m / 1024)) MB"
  done
done
