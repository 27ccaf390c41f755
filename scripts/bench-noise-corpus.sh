#!/usr/bin/env bash
# Builds a benchmark noise corpus: real criterion benchmarks run RUNS times on this machine with
# no code change in between, each run's `new/` results kept (benchmark.json, sample.json,
# estimates.json). Sources: upkeep's own benches and the `hex` crate's (a third-party crate with
# criterion benchmarks, fetched from crates.io). Everything is compiled before the first run,
# and the two sources take turns run by run, so slow drift on the machine reaches both alike.
# Run it on an otherwise idle machine: anything else running is measured too.
#
#   scripts/bench-noise-corpus.sh                         # 12 runs, criterion's default timings
#   CORPUS_OUT=/tmp/c RUNS=3 CRITERION_ARGS="--warm-up-time 1 --measurement-time 2" \
#     scripts/bench-noise-corpus.sh                       # shorter, elsewhere
#   RUN_FROM=13 RUNS=6 scripts/bench-noise-corpus.sh      # six more runs
#   ASLR=on scripts/bench-noise-corpus.sh                 # address layout randomised per run
#
# By default the benchmarks run with address-space randomisation off (`setarch -R`), as the
# reusable workflow runs them on Linux: a fresh layout per process moves data across
# alignments, which showed as run-to-run clusters (`faster_hex_encode` run alone: 867 to 975 ns
# at the 5th percentile over eight runs with it, 866 to 880 ns without; in whole runs its
# clusters remain).
#
# tests/fixtures/bench-noise was made by the first version of this script (all upkeep runs,
# then all hex runs, `--warm-up-time 1 --measurement-time 2`); tests/fixtures/bench-noise-quiet
# by the second (these defaults, ASLR on); tests/fixtures/bench-noise-steady by this one with
# its defaults; tests/fixtures/bench-noise-short by this one with
#   CORPUS_OUT=tests/fixtures/bench-noise-short RUNS=36 \
#     CRITERION_ARGS="--warm-up-time 1 --measurement-time 1" scripts/bench-noise-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="${CORPUS_OUT:-$root/tests/fixtures/bench-noise-steady}"
runs=${RUNS:-12}
from=${RUN_FROM:-1}
read -r -a args <<< "${CRITERION_ARGS:-} --noplot"

keep() { # keep SOURCE_NAME CRITERION_DIR RUN
  local name=$1 dir=$2 run=$3
  (cd "$dir" && find . -path '*/new/sample.json' | while read -r f; do
    d=$(dirname "$f")
    mkdir -p "$out/$name/run$run/$d"
    cp "$d/benchmark.json" "$d/sample.json" "$d/estimates.json" "$out/$name/run$run/$d/"
  done)
}

ours=(--bench plan --bench webhook --bench audit)
tp=$(mktemp -d)
trap 'rm -rf "$tp"' EXIT
curl -sfL https://static.crates.io/crates/hex/hex-0.4.3.crate | tar xz -C "$tp"
hex="$tp/hex-0.4.3"
cargo bench "${ours[@]}" --no-run
(cd "$hex" && cargo bench --bench hex --no-run)

steady=()
if [ "${ASLR:-off}" = off ] && command -v setarch >/dev/null; then
  steady=(setarch "$(uname -m)" -R)
fi

for run in $(seq "$from" $((from + runs - 1))); do
  echo "run $run: upkeep $(date +%T)" >&2
  "${steady[@]}" cargo bench "${ours[@]}" -- "${args[@]}" >/dev/null
  keep upkeep "$root/target/criterion" "$run"
  echo "run $run: hex $(date +%T)" >&2
  (cd "$hex" && "${steady[@]}" cargo bench --bench hex -- "${args[@]}" >/dev/null)
  keep hex "$hex/target/criterion" "$run"
done
echo "corpus: $(find "$out" -name sample.json | wc -l) sample sets in $out"
