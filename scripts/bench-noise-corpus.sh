#!/usr/bin/env bash
# Builds the benchmark noise corpus (tests/fixtures/bench-noise): real criterion benchmarks run
# RUNS times on this machine with no code change in between, each run's `new/` results kept
# (benchmark.json, sample.json, estimates.json). Sources: upkeep's own benches and the `hex`
# crate's (a third-party crate with criterion benchmarks, fetched from crates.io).
#
#   scripts/bench-noise-corpus.sh                   # RUNS=6 by default
#   RUN_FROM=7 RUNS=6 scripts/bench-noise-corpus.sh  # six more runs
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="${CORPUS_OUT:-$root/tests/fixtures/bench-noise}"
runs=${RUNS:-6}
from=${RUN_FROM:-1}   # to add runs to an existing corpus
args=(--warm-up-time 1 --measurement-time 2 --noplot)

keep() { # keep SOURCE_NAME CRITERION_DIR RUN
  local name=$1 dir=$2 run=$3
  (cd "$dir" && find . -path '*/new/sample.json' | while read -r f; do
    d=$(dirname "$f")
    mkdir -p "$out/$name/run$run/$d"
    cp "$d/benchmark.json" "$d/sample.json" "$d/estimates.json" "$out/$name/run$run/$d/"
  done)
}

# upkeep's own benchmarks.
for run in $(seq "$from" $((from + runs - 1))); do
  cargo bench --bench plan --bench webhook --bench audit -- "${args[@]}" >/dev/null
  keep upkeep "$root/target/criterion" "$run"
done

# A third-party crate: hex 0.4.3 (9 criterion benchmarks).
tp=$(mktemp -d)
curl -sfL https://static.crates.io/crates/hex/hex-0.4.3.crate | tar xz -C "$tp"
for run in $(seq "$from" $((from + runs - 1))); do
  (cd "$tp/hex-0.4.3" && cargo bench --bench hex -- "${args[@]}" >/dev/null)
  keep hex "$tp/hex-0.4.3/target/criterion" "$run"
done
rm -rf "$tp"
echo "corpus: $(find "$out" -name sample.json | wc -l) sample sets in $out"
