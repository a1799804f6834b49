#!/usr/bin/env bash
# Contract tests: every operation's request, as the crate builds it, checked against Atlassian's
# official document by Stoplight Prism (a validator nobody here wrote). See tests/api/contract.rs.
#
#   .ci/contract.sh PATH-TO-OFFICIAL-DOCUMENT [TEST-ARGS...]
#   CONTRACT_PRODUCT=data-center .ci/contract.sh PATH-TO-DATA-CENTER-DOCUMENT
#       (bitbucket-data-center's requests, data-center/tests/contract.rs)
#
# TEST-ARGS go to the test binary: `--nocapture` shows what each request got back.
#
# Installs the pinned Prism (.ci/prism/package-lock.json) into .ci/prism/node_modules, serves
# the document with `/2.0` in front of its paths on a free loopback port, waits until Prism
# says it is listening, runs `cargo test --workspace --features axum --test api contract::`,
# and stops Prism by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh

OPENAPI="${1:?usage: .ci/contract.sh PATH-TO-OFFICIAL-DOCUMENT [TEST-ARGS...]}"
shift
PRISM_DIR=.ci/prism
WORK=target/contract
STARTUP_LIMIT=60 # seconds; Prism usually starts in about 5

# Prism's install and run phone home to Scarf unless told not to.
export SCARF_ANALYTICS=false
mkdir -p "$WORK"

# Install exactly the locked tree, unless it is already there (a rerun on the same checkout).
# --ignore-scripts: Prism needs none; the only one in the tree is Scarf's analytics.
install_locked "$PRISM_DIR" @stoplight/prism-cli Prism
pinned="$(node -p "require('./$PRISM_DIR/package.json').dependencies['@stoplight/prism-cli']")"

# Which crate's requests: Cloud's (the default) or Data Center's (its client takes the server's
# URL and adds `/rest`, the base path, itself).
case "${CONTRACT_PRODUCT:-cloud}" in
  # With the features of the README's test command (`.ci/run` has built that test binary
  # already; `-p bitbucket-cloud` alone would leave out the MCP gateway's `openapi` and rebuild
  # the crate).
  cloud) SPEC="$WORK/bitbucket-cloud.json"; URL_PATH=/2.0
    TEST=(cargo test --workspace --features axum --test api contract:: --) ;;
  data-center) SPEC="$WORK/bitbucket-data-center.json"; URL_PATH=
    TEST=(cargo test -p bitbucket-data-center --features full --test contract --) ;;
  *) echo "CONTRACT_PRODUCT is cloud or data-center" >&2; exit 2 ;;
esac

# Prism ignores the base path of `servers`, so its copy of the document carries it in the paths.
cargo xtask contract-spec --from "$OPENAPI" --out "$SPEC"

# A free port, chosen by the kernel (other checkouts may be running their own Prism).
port="$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
log="$WORK/prism.log"

prism_pid=
stop_prism() {
  if [ -n "$prism_pid" ] && kill -0 "$prism_pid" 2>/dev/null; then
    kill "$prism_pid" 2>/dev/null || true
    wait "$prism_pid" 2>/dev/null || true
  fi
  prism_pid=
}
trap stop_prism EXIT
trap 'exit 130' INT TERM

started=$SECONDS
# node runs Prism's entry point directly, so $! is Prism itself; --multiprocess=false keeps it
# one process (it forks a server otherwise when NODE_ENV=production).
node "$PRISM_DIR/node_modules/@stoplight/prism-cli/dist/index.js" mock \
  --host 127.0.0.1 --port "$port" --multiprocess=false \
  "$SPEC" >"$log" 2>&1 &
prism_pid=$!

wait_until_ready Prism "$prism_pid" "$log" "$STARTUP_LIMIT" \
  grep -q "Prism is listening on http://127.0.0.1:$port" "$log"
echo "Prism $pinned is listening on 127.0.0.1:$port (started in $((SECONDS - started)) s)"

# In the background so that a signal stops Prism at once (bash runs traps only between
# foreground commands); the tests then fail fast on the closed port.
status=0
BITBUCKET_CONTRACT_URL="http://127.0.0.1:$port$URL_PATH" BITBUCKET_DC_CONTRACT_URL="http://127.0.0.1:$port" \
  "${TEST[@]}" "$@" &
wait $! || status=$?
if [ "$status" -ne 0 ]; then
  echo "Prism's log of the run: $log" >&2
fi
stop_prism
exit "$status"
