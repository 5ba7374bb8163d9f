#!/usr/bin/env bash
# Counts the instructions each safe-layer operation costs against the same operation through
# raw Api calls (benchmark group 1), with valgrind's callgrind: instruction counts do not
# depend on machine noise. Each operation runs N and 2N times in separate processes; the
# difference is the cost of N operations, set-up excluded. Everything the process executes is
# counted, the driver's worker threads included.
#
#   benches/callgrind.sh [N]      (default N = 2000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
cargo bench --bench overhead --no-run -q 2>/dev/null
bin=$(ls -t target/release/deps/overhead-* | grep -v '\.d$' | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # op variant iterations -> total instructions
  OVERHEAD_LOOP="$1:$2:$3" valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
    "$bin" >/dev/null 2>"$tmp/log" || { cat "$tmp/log"; exit 1; }
  sed -n 's/^summary: //p' "$tmp/out"
}

echo "| operation | level-zero (instructions) | raw Api (instructions) | safe / raw |"
echo "|---|---|---|---|"
for op in alloc_free_4k alloc_free_1m copy_4k_sync event_signal_wait args_launch_sync handoff_4k tracking_copy_4k tracking_launch; do
  per=()
  for v in safe raw; do
    a=$(count "$op" "$v" "$n")
    b=$(count "$op" "$v" $((2 * n)))
    per+=($(( (b - a) / n )))
  done
  ratio=$(awk -v s="${per[0]}" -v r="${per[1]}" 'BEGIN { printf "%.3f", s / r }')
  echo "| $op | ${per[0]} | ${per[1]} | ${ratio}× |"
done
