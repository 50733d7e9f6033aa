#!/usr/bin/env bash
# Times `conv check` and `conv eval --format json` on two shapes of generated programs and
# prints a Markdown table per shape: the range (fastest to slowest) of 5 interleaved runs of
# each command, and the peak memory of check.
#   releases of 10 (conv-gen SERVICES 5): 1k, 10k, 50k services
#   the peer workload (conv-gen-peer SERVICES): one release per service, stages from a shared
#   function with a comprehension
# SIZES="1000 10000" picks sizes; SHAPES="peer" picks shapes (default: "releases peer").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p conv-cli -p conv-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for shape in ${SHAPES:-releases peer}; do
  echo
  echo "shape: $shape"
  echo "| services | source | conv check | conv eval --format json | peak memory (check) |"
  echo "|---|---|---|---|---|"
  for n in ${SIZES:-1000 10000 50000}; do
    dir="$work/$shape-$n"
    if [ "$shape" = peer ]; then ./target/release/conv-gen-peer "$n" "$dir"; else ./target/release/conv-gen "$n" 5 "$dir"; fi
    size=$(du -k "$dir/main.conv" | cut -f1)
    check_times=() eval_times=() mem=0
    # Interleaved, so that a slow spell of the machine falls on both commands alike.
    for _ in 1 2 3 4 5; do
      /usr/bin/time -f "%e %M" -o "$work/t" ./target/release/conv check "$dir" >/dev/null 2>&1
      read -r t m < "$work/t"; check_times+=("$t"); mem=$m
      /usr/bin/time -f "%e %M" -o "$work/t" ./target/release/conv eval --format json "$dir" >/dev/null 2>&1
      read -r t _ < "$work/t"; eval_times+=("$t")
    done
    range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd' ' | awk '{ print ($1 == $2) ? $1 " s" : $1 " to " $2 " s" }'; }
    echo "| $n | $(awk "BEGIN { printf \"%.1f\", $size / 1024 }") MB | $(range "${check_times[@]}") | $(range "${eval_times[@]}") | $((mem / 1024)) MB |"
  done
done
