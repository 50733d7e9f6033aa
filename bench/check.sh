#!/usr/bin/env bash
# Times `conv check` and `conv eval --format json` on generated programs of 1k, 10k and 50k
# services x 5 environments, and prints a Markdown table (median of 5 runs, peak memory).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p conv-cli -p conv-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| services x envs | source | conv check | conv eval --format json | peak memory (check) |"
echo "|---|---|---|---|---|"
for n in ${SIZES:-1000 10000 50000}; do
  ./target/release/conv-gen "$n" 5 "$work/p$n"
  size=$(du -k "$work/p$n/main.conv" | cut -f1)
  measure() {
    local times=() mem=0
    for _ in 1 2 3 4 5; do
      /usr/bin/time -f "%e %M" -o "$work/t" ./target/release/conv "$@" "$work/p$n" >/dev/null 2>&1
      read -r t m < "$work/t"
      times+=("$t"); mem=$m
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
    echo "$median $mem"
  }
  read -r check_t check_m <<<"$(measure check)"
  read -r eval_t _ <<<"$(measure eval --format json)"
  echo "| $n x 5 | $(awk "BEGIN { printf \"%.1f\", $size / 1024 }") MB | ${check_t} s | ${eval_t} s | $((check_m / 1024)) MB |"
done
