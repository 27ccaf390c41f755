#!/usr/bin/env bash
# A/A spread of upkeep's own criterion benchmarks under several set-ups, taking turns run by
# run so slow drift on the machine reaches every set-up alike (issue 24, "reduce the noise you
# own"). Each set-up is a directory of prebuilt bench binaries (`cargo bench --no-run`, copied
# aside) plus how to run them; every run's `new/` results are kept under OUT/SETUP/runN, the
# layout tests/fixtures/bench-noise* use, and scripts/bench-spread.py summarises them.
#
#   SETUPS="system:/tmp/a mimalloc:/tmp/b" RUNS=8 OUT=/tmp/own-noise scripts/bench-own-noise.sh
#
# A set-up named `*-pinned` runs under `taskset -c 1`; one named `*-tmpfs` with TMPDIR=/dev/shm
# (the SQLite benchmarks' files in memory). All run with address-space randomisation off, as
# the reusable workflow runs benchmarks.
set -euo pipefail
out=${OUT:?OUT: where the runs go}
runs=${RUNS:-8}
read -r -a args <<< "${CRITERION_ARGS:---warm-up-time 1 --measurement-time 1} --noplot"
steady=()
if command -v setarch >/dev/null; then steady=(setarch "$(uname -m)" -R); fi
for run in $(seq 1 "$runs"); do
  for setup in ${SETUPS:?SETUPS: name:dir ...}; do
    name=${setup%%:*}
    dir=${setup#*:}
    wrap=("${steady[@]}")
    case "$name" in *-pinned) wrap+=(taskset -c 1) ;; esac
    env_extra=()
    case "$name" in *-tmpfs) env_extra=(TMPDIR=/dev/shm) ;; esac
    home=$(mktemp -d)
    echo "run $run: $name $(date +%T)" >&2
    for bin in "$dir"/*; do
      env "${env_extra[@]}" CRITERION_HOME="$home" "${wrap[@]}" "$bin" --bench "${args[@]}" >/dev/null
    done
    (cd "$home" && find . -path '*/new/sample.json' | while read -r f; do
      d=$(dirname "$f")
      mkdir -p "$out/$name/run$run/$d"
      cp "$d/benchmark.json" "$d/sample.json" "$d/estimates.json" "$out/$name/run$run/$d/"
    done)
    rm -rf "$home"
  done
done
echo "kept: $(find "$out" -name sample.json | wc -l) sample sets in $out" >&2
