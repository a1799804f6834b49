#!/usr/bin/env bash
# The MCP gateway checked by MCP clients nobody here wrote: the official TypeScript SDK's client
# (.ci/mcp/check.mjs) over streamable HTTP and stdio, and the scenarios of the official
# conformance suite that apply to a tools-only server, against `bitbucket-cloud-mcp --local`.
#
#   .ci/mcp.sh
#
# Installs the pinned clients (.ci/mcp/package-lock.json) into .ci/mcp/node_modules, builds the
# gateway, starts it with the demo's agents (mcp/demo.toml) plus one that sees every tool (so
# the check knows which operations the build has) on a free loopback port, waits until it
# serves, runs the checks, and stops it by its pid. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh

CLIENTS=.ci/mcp
WORK=target/mcp-ci
STARTUP_LIMIT=60 # seconds; the gateway starts in well under one once built
# The conformance scenarios that test what this server is: initialize, ping, tools/list, a tool
# error, and DNS-rebinding protection. The others need features it does not have (resources,
# prompts, logging, completions, sampling, elicitation) or the suite's own test tools
# (test_image_content, ...); see mcp/README.md.
SCENARIOS=(server-initialize ping tools-list tools-call-error dns-rebinding-protection)

fail() {
  echo "error: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is not installed (the checks need node >= 20 and npm)"
mkdir -p "$WORK"

# Install exactly the locked tree, unless it is already there.
install_locked "$CLIENTS" @modelcontextprotocol/sdk "the MCP clients (SDK)"

cargo build -p bitbucket-cloud-mcp
bin="${CARGO_TARGET_DIR:-target}/debug/bitbucket-cloud-mcp"
[ -x "$bin" ] || fail "the gateway was not built at $bin"

cat mcp/demo.toml "$CLIENTS/everything.toml" >"$WORK/gateway.toml"
audit="$WORK/audit.jsonl"
log="$WORK/gateway.log"
: >"$audit"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Port 0: the kernel picks a free port; the gateway logs the one it got.
"$bin" --local --config "$WORK/gateway.toml" --listen 127.0.0.1:0 --audit-log "$audit" >"$log" 2>&1 &
pids+=($!)
gateway_pid=$!
wait_until_ready "the gateway" "$gateway_pid" "$log" "$STARTUP_LIMIT" grep -q "serving MCP on http:" "$log"
url="$(sed -n 's/.*serving MCP on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)"
echo "the gateway serves $url"

status=0
echo
echo "== the official TypeScript SDK client"
node "$CLIENTS/check.mjs" --url "$url" --bin "$bin" --audit "$audit" --spec spec/bitbucket.json || status=$?

echo
echo "== @modelcontextprotocol/conformance: ${SCENARIOS[*]}"
# The suite's client sends no key: a proxy adds the reviewer's, and forwards Host and Origin as
# received (the DNS-rebinding scenario depends on them).
proxy_log="$WORK/proxy.log"
node "$CLIENTS/auth-proxy.mjs" "${url%/mcp}" bbmcp_demo_reviewer >"$proxy_log" 2>&1 &
pids+=($!)
wait_until_ready "the key-adding proxy" "$!" "$proxy_log" 10 grep -q "^listening on " "$proxy_log"
port="$(sed -n 's/^listening on //p' "$proxy_log")"
conformance="$CLIENTS/node_modules/@modelcontextprotocol/conformance/dist/index.js"
for scenario in "${SCENARIOS[@]}"; do
  if node "$conformance" server --url "http://localhost:$port/mcp" --scenario "$scenario" >"$WORK/conformance-$scenario.log" 2>&1; then
    echo "  ok   $scenario"
  else
    status=1
    echo "  FAIL $scenario (its output: $WORK/conformance-$scenario.log)"
    tail -n 20 "$WORK/conformance-$scenario.log" | sed 's/^/       /'
  fi
done

stop_all
if [ "$status" -ne 0 ]; then
  echo >&2
  echo "error: the MCP gateway failed checks by independent clients (see above); the gateway's log: $log, its audit: $audit" >&2
  exit "$status"
fi
echo
echo "MCP checks passed"
