#!/usr/bin/env bash
# Measures the compile budget of issue 11 (debug builds, non-incremental):
#
#   1. the crate alone after `touch src/lib.rs`, with its default features and with `full`
#      (every operation): wall time and the peak memory of rustc;
#   2. a clean `cargo build` of a scratch project depending on this crate (default features),
#      side by side with one depending on octocrab 0.49, each with its own target directory,
#      alternating, so both see the same machine.
#
#   scripts/compile-budget.sh [--runs N] [--no-octocrab]
#
# Reports medians of N runs (3 by default). The machine must be otherwise idle for the figures
# to mean anything: the script prints the load average before and after. Goals (issue 11):
# default <= 15 s, full <= 25 s, peak rustc memory with full <= 1.2 GB, clean build <= 0.8x
# octocrab's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

runs=3
octocrab=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --no-octocrab) octocrab=0; shift ;;
    *) echo "usage: $0 [--runs N] [--no-octocrab]" >&2; exit 2 ;;
  esac
done

export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
WORK="${BUDGET_DIR:-$ROOT/target/compile-budget}"
mkdir -p "$WORK"
TIMES="$WORK/time.txt"

# One timed command: prints "wall-seconds peak-kilobytes cpu-seconds" (CPU: user + system, of
# every process it ran; less sensitive than wall time to what else the machine runs).
timed() {
  /usr/bin/time -f '%e %M %U %S' -o "$TIMES" "$@" >"$WORK/last.log" 2>&1 || {
    echo "failed: $*" >&2
    tail -n 30 "$WORK/last.log" >&2
    exit 1
  }
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$TIMES"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The crate alone.
export CARGO_TARGET_DIR="$WORK/crate-target"
for features in default full; do
  flags=()
  [ "$features" = full ] && flags=(--features full)
  cargo build -p bitbucket-cloud --lib "${flags[@]}" >"$WORK/last.log" 2>&1
  : >"$WORK/crate-$features.txt"
  for _ in $(seq "$runs"); do
    touch src/lib.rs
    timed cargo build -p bitbucket-cloud --lib "${flags[@]}" >>"$WORK/crate-$features.txt"
  done
  secs=$(cut -d' ' -f1 "$WORK/crate-$features.txt" | median)
  cpu=$(cut -d' ' -f3 "$WORK/crate-$features.txt" | median)
  peak=$(cut -d' ' -f2 "$WORK/crate-$features.txt" | sort -n | tail -n1)
  printf 'crate alone, %-7s features: %6.1f s wall, %6.1f s CPU (medians of %s), peak rustc memory %s MB\n' \
    "$features" "$secs" "$cpu" "$runs" "$((peak / 1024))"
done

# 2. Clean builds side by side.
if [ "$octocrab" = 1 ]; then
  scratch() { # name, dependency line
    mkdir -p "$WORK/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n%s\n\n[workspace]\n' \
      "$1" "$2" >"$WORK/$1/Cargo.toml"
    echo 'fn main() {}' >"$WORK/$1/src/main.rs"
    (cd "$WORK/$1" && cargo fetch >/dev/null 2>&1)
  }
  scratch with-bitbucket "bitbucket-cloud = { path = \"$ROOT\" }"
  scratch with-octocrab 'octocrab = "=0.49"'
  : >"$WORK/clean-ours.txt"
  : >"$WORK/clean-octocrab.txt"
  for _ in $(seq "$runs"); do
    for project in with-bitbucket with-octocrab; do
      rm -rf "$WORK/$project/target"
      out="$WORK/clean-ours.txt"
      [ "$project" = with-octocrab ] && out="$WORK/clean-octocrab.txt"
      (cd "$WORK/$project" && CARGO_TARGET_DIR="$WORK/$project/target" timed cargo build --offline) >>"$out"
    done
  done
  ours=$(cut -d' ' -f1 "$WORK/clean-ours.txt" | median)
  theirs=$(cut -d' ' -f1 "$WORK/clean-octocrab.txt" | median)
  ours_cpu=$(cut -d' ' -f3 "$WORK/clean-ours.txt" | median)
  theirs_cpu=$(cut -d' ' -f3 "$WORK/clean-octocrab.txt" | median)
  printf 'clean build, default features: %6.1f s wall (%6.1f s CPU); octocrab 0.49: %6.1f s wall (%6.1f s CPU)\n' \
    "$ours" "$ours_cpu" "$theirs" "$theirs_cpu"
  printf 'ratio to octocrab: %.2f wall, %.2f CPU (medians of %s, alternating)\n' \
    "$(echo "$ours / $theirs" | bc -l)" "$(echo "$ours_cpu / $theirs_cpu" | bc -l)" "$runs"
fi

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
