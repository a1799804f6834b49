// Checks bitbucket-cloud-mcp with the official MCP TypeScript SDK's client (not ours), over
// streamable HTTP and over stdio, against the gateway's embedded local Bitbucket (--local).
// Run by .ci/mcp.sh, which starts the gateway; see there.
//
//   node check.mjs --url http://127.0.0.1:PORT/mcp --bin PATH --audit FILE --spec FILE
//
// What it checks:
// - each demo agent's tools/list is what its rules in mcp/demo.toml allow, computed here from
//   the OpenAPI document (spec/bitbucket.json) by the README's definitions, independently of
//   the gateway's code; every tool has a schema, a description and method-derived hints;
// - allowed calls reach the local Bitbucket; denied ones send nothing (its request log);
// - a missing or wrong key is refused (HTTP 401);
// - every call leaves one audit line with the expected fields and decision.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    bin: { type: "string" },
    audit: { type: "string" },
    spec: { type: "string" },
  },
});
for (const name of ["url", "bin", "audit", "spec"]) {
  if (!opts[name]) {
    console.error(`usage: node check.mjs --url URL --bin PATH --audit FILE --spec FILE (missing --${name})`);
    process.exit(2);
  }
}

const KEYS = {
  reviewer: "bbmcp_demo_reviewer",
  "release-bot": "bbmcp_demo_release_bot",
  everything: "bbmcp_ci_everything",
};

let failures = 0;
function check(condition, what, detail = "") {
  if (condition) {
    console.log(`  ok   ${what}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${what}${detail ? `\n       ${detail}` : ""}`);
  }
}
function sameList(actual, expected, what) {
  const a = [...actual].sort();
  const e = [...expected].sort();
  const missing = e.filter((n) => !a.includes(n));
  const extra = a.filter((n) => !e.includes(n));
  check(missing.length === 0 && extra.length === 0, what, `missing: ${missing.join(", ") || "none"}; extra: ${extra.join(", ") || "none"}`);
}

// The operations of the document, and the rules of the README applied to them.
const spec = JSON.parse(readFileSync(opts.spec, "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch", "head"];
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!METHODS.includes(method)) continue;
    operations.push({
      name: op.operationId,
      method: method.toUpperCase(),
      path,
      tags: op.tags ?? [],
      deprecated: op.deprecated === true,
      scopes: (op.security ?? []).flatMap((s) => s.oauth2 ?? []),
    });
  }
}
const ADMIN = ["repository:admin", "repository:delete", "project:admin", "account:write", "pipeline:variable", "runner:write", "team:write", "webhook"];
const has = (op, param) => op.path.split("/").includes(`{${param}}`);
const read = (op) => op.method === "GET" || op.method === "HEAD";
const write = (op) => read(op) || (["POST", "PUT", "PATCH"].includes(op.method) && !op.scopes.some((s) => ADMIN.includes(s)));
const RULES = {
  // preset read-only; read on workspace acme; get_current_user.
  reviewer: (op) => read(op) && (has(op, "workspace") || op.name === "get_current_user"),
  // areas Pullrequests, Refs, Pipelines; write on project acme/WEB; delete_branch on
  // acme/website; deny decline_pull_request.
  "release-bot": (op) =>
    op.tags.some((t) => ["Pullrequests", "Refs", "Pipelines"].includes(t)) &&
    has(op, "workspace") &&
    (has(op, "repo_slug") || has(op, "project_key")) &&
    (write(op) || op.name === "delete_branch") &&
    op.name !== "decline_pull_request",
};

async function http(agent, key = KEYS[agent]) {
  const client = new Client({ name: "bitbucket-cloud-mcp-ci", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

const localLog = new URL("/local/requests", opts.url);
async function served() {
  const response = await fetch(localLog);
  return response.json();
}
function auditLines() {
  return readFileSync(opts.audit, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
const text = (result) => result.content?.find((c) => c.type === "text")?.text ?? "";

async function main() {
  const auditBefore = auditLines().length;
  let calls = 0; // audit lines this script causes

  console.log("tools/list over streamable HTTP");
  const everything = await http("everything");
  const build = (await everything.listTools()).tools.map((t) => t.name);
  await everything.close();
  check(build.length > 0, `the build offers ${build.length} operations as tools`);
  const expected = {};
  for (const [agent, rule] of Object.entries(RULES)) {
    expected[agent] = operations.filter((op) => !op.deprecated && rule(op) && build.includes(op.name)).map((op) => op.name);
    const client = await http(agent);
    const { tools } = await client.listTools();
    sameList(tools.map((t) => t.name), expected[agent], `${agent} sees exactly the ${expected[agent].length} tools its rules allow`);
    const byName = Object.fromEntries(operations.map((op) => [op.name, op]));
    const bad = tools.filter((t) => {
      const op = byName[t.name];
      return (
        t.inputSchema?.type !== "object" ||
        !t.description ||
        t.annotations?.readOnlyHint !== read(op) ||
        t.annotations?.destructiveHint !== (op.method === "DELETE" || op.method === "PUT") ||
        t.annotations?.idempotentHint !== ["GET", "HEAD", "PUT", "DELETE"].includes(op.method)
      );
    });
    check(bad.length === 0, `${agent}'s tools have schemas, descriptions and method hints`, bad.map((t) => t.name).join(", "));
    await client.close();
  }

  console.log("calls over streamable HTTP");
  const reviewer = await http("reviewer");
  let before = (await served()).length;
  let result = await reviewer.callTool({ name: "list_pull_requests", arguments: { workspace: "acme", repo_slug: "website", max_items: 1 } });
  calls += 1;
  check(!result.isError && result.structuredContent?.count === 1, "an allowed list returns max_items items", text(result).slice(0, 200));
  check((await served()).length === before + 1, "it reached the local Bitbucket once");

  before = (await served()).length;
  result = await reviewer.callTool({ name: "get_repository", arguments: { workspace: "elsewhere", repo_slug: "app" } });
  calls += 1;
  check(result.isError && /denied/.test(text(result)), "a call outside the reviewer's workspace is denied", text(result));
  result = await reviewer.callTool({ name: "merge_pull_request", arguments: { workspace: "acme", repo_slug: "website", pull_request_id: 1 } });
  calls += 1;
  check(result.isError && /not one of your tools/.test(text(result)), "a tool the reviewer is not shown cannot be called", text(result));
  await reviewer.close();

  const bot = await http("release-bot");
  result = await bot.callTool({ name: "get_branch", arguments: { workspace: "acme", repo_slug: "api", name: "main" } });
  calls += 1;
  check(result.isError && /nothing was sent/.test(text(result)), "the release bot is denied outside project WEB", text(result));
  const after = await served();
  check(after.length === before, "denied calls sent nothing to Bitbucket", JSON.stringify(after.slice(before)));
  result = await bot.callTool({ name: "create_branch", arguments: { workspace: "acme", repo_slug: "website", body: { name: "ci/check", target: { hash: "main" } } } });
  calls += 1;
  check(!result.isError && result.structuredContent?.name === "ci/check", "the release bot creates a branch in project WEB", text(result).slice(0, 300));
  await bot.close();

  console.log("keys");
  for (const [what, headers] of [
    ["a missing key", {}],
    ["a wrong key", { Authorization: "Bearer bbmcp_not_a_key" }],
  ]) {
    const response = await fetch(opts.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "ci", version: "1" } } }),
    });
    calls += 1;
    check(response.status === 401, `${what} is refused with 401`, `got ${response.status}`);
  }
  let refused = false;
  try {
    await http("reviewer", "bbmcp_not_a_key");
  } catch {
    refused = true;
  }
  calls += 1;
  check(refused, "the SDK client cannot connect with a wrong key");

  console.log("audit");
  const lines = auditLines().slice(auditBefore);
  check(lines.length === calls, `one audit line per call (${calls})`, `got ${lines.length}`);
  const fields = ["time", "agent", "decision", "requests", "duration_ms"];
  check(lines.every((l) => fields.every((f) => f in l)), "every line has time, agent, decision, requests, duration_ms");
  const toolLines = lines.filter((l) => l.tool);
  check(
    JSON.stringify(toolLines.map((l) => [l.agent, l.tool, l.decision])) ===
      JSON.stringify([
        ["reviewer", "list_pull_requests", "allowed"],
        ["reviewer", "get_repository", "denied"],
        ["reviewer", "merge_pull_request", "denied"],
        ["release-bot", "get_branch", "denied"],
        ["release-bot", "create_branch", "allowed"],
      ]),
    "tool calls are recorded with agent, tool and decision",
    JSON.stringify(toolLines),
  );
  check(toolLines[0].resource === "acme/website" && toolLines[0].status === 200 && toolLines[0].requests === 1, "an allowed call records resource, status and requests", JSON.stringify(toolLines[0]));
  check(lines.filter((l) => l.error === "unauthorized").length === 3, "refused keys are recorded, without the key");
  check(!readFileSync(opts.audit, "utf8").includes("bbmcp_"), "no key appears in the audit log");

  console.log("stdio");
  const stdio = new Client({ name: "bitbucket-cloud-mcp-ci", version: "1.0.0" });
  await stdio.connect(
    new StdioClientTransport({ command: opts.bin, args: ["--local", "--stdio", "--agent", "reviewer"], env: { ...process.env, RUST_LOG: "warn" }, stderr: "inherit" }),
  );
  const { tools } = await stdio.listTools();
  sameList(tools.map((t) => t.name), expected.reviewer, "over stdio, the reviewer sees the same tools");
  result = await stdio.callTool({ name: "list_repositories", arguments: { workspace: "acme" } });
  check(!result.isError && result.structuredContent?.count === 3, "over stdio, a call returns Bitbucket's answer", text(result).slice(0, 200));
  await stdio.close();
}

main()
  .catch((error) => {
    failures += 1;
    console.log(`  FAIL ${error?.stack ?? error}`);
  })
  .finally(() => {
    if (failures > 0) {
      console.log(`\n${failures} check(s) failed`);
      process.exit(1);
    }
    console.log("\nall checks passed");
  });
