#!/usr/bin/env bash
# Times `conv check` on adversarial shapes of 100 KB, 1 MB and 10 MB (bench/src/bin/
# conv-adversarial.rs) and prints a Markdown table: median of 3 runs (wall time), and seconds
# per MB at 10 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p conv-cli -p conv-bench
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| shape | 100 KB | 1 MB | 10 MB | per MB at 10 MB |"
echo "|---|---|---|---|---|"
for shape in ${SHAPES:-long-line chains many-decls huge-list deep let-chain errors unknown-names tagged-records}; do
  row="| $shape |"
  for bytes in 100000 1000000 10000000; do
    file="$work/$shape-$bytes.conv"
    "$target/release/conv-adversarial" "$shape" "$bytes" "$file"
    times=()
    for _ in 1 2 3; do
      # `conv check` exits 1 on programs with errors; only the time matters here.
      start=$(date +%s.%N)
      "$target/release/conv" check "$file" >/dev/null 2>&1 || true
      end=$(date +%s.%N)
      times+=("$(awk "BEGIN { printf \"%.3f\", $end - $start }")")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    row="$row ${median} s |"
    last=$median
  done
  echo "$row $(awk "BEGIN { printf \"%.2f s\", $last / 10 }") |"
done
