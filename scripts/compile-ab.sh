#!/usr/bin/env bash
# Measures what a change does to a user's clean build: clean `cargo build`s (debug,
# non-incremental) of two scratch projects, one depending on the crate at commit A and one at
# commit B (each from its own worktree, with its own target directory), alternating, so both
# see the same machine.
#
#   scripts/compile-ab.sh A B [runs]      e.g. scripts/compile-ab.sh HEAD~1 HEAD 3
#
# Prints each build's wall and CPU seconds, then the medians. The machine must be otherwise
# idle: the script prints the load average before and after. The worktrees are removed at the
# end; the scratch projects stay under target/compile-ab.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
[ $# -ge 2 ] || { echo "usage: $0 A B [runs]" >&2; exit 2; }
runs="${3:-3}"
a=$(git rev-parse --short "$1")
b=$(git rev-parse --short "$2")
WORK="${AB_DIR:-$ROOT/target/compile-ab}"
mkdir -p "$WORK"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

trees=()
cleanup() { for t in "${trees[@]}"; do git worktree remove --force "$t" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
for commit in "$a" "$b"; do
  tree="$WORK/tree-$commit"
  [ -d "$tree" ] || git worktree add -q --detach "$tree" "$commit"
  trees+=("$tree")
  mkdir -p "$WORK/with-$commit/src"
  printf '[package]\nname = "with-%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nbitbucket-cloud = { path = "%s" }\n\n[workspace]\n' \
    "$commit" "$tree" >"$WORK/with-$commit/Cargo.toml"
  echo 'fn main() {}' >"$WORK/with-$commit/src/main.rs"
  (cd "$WORK/with-$commit" && cargo fetch >/dev/null 2>&1)
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$runs"); do
  for commit in "$a" "$b"; do
    rm -rf "$WORK/with-$commit/target"
    (cd "$WORK/with-$commit" && CARGO_TARGET_DIR="$WORK/with-$commit/target" \
      /usr/bin/time -o "$WORK/time.txt" -f '%e %U %S' cargo build >"$WORK/last.log" 2>&1) || {
      tail -n 30 "$WORK/last.log" >&2
      exit 1
    }
    read -r wall user sys <"$WORK/time.txt"
    cpu=$(echo "$user + $sys" | bc)
    echo "$commit $wall $cpu" | tee -a "$WORK/runs-$a-$b.txt"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for commit in "$a" "$b"; do
  wall=$(tail -n $((2 * runs)) "$WORK/runs-$a-$b.txt" | awk -v c="$commit" '$1 == c { print $2 }' | median)
  cpu=$(tail -n $((2 * runs)) "$WORK/runs-$a-$b.txt" | awk -v c="$commit" '$1 == c { print $3 }' | median)
  printf '%s: %6.2f s wall, %6.2f s CPU (medians of %s)\n' "$commit" "$wall" "$cpu" "$runs"
done
