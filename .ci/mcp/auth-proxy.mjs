// A loopback HTTP proxy that adds one agent's bearer key to every request and forwards it,
// headers (Host and Origin included) and body as received, to the gateway. For checkers that
// cannot send headers of their own (@modelcontextprotocol/conformance).
//
//   node auth-proxy.mjs TARGET_URL KEY    prints "listening on PORT" once ready
import http from "node:http";

const [target, key] = process.argv.slice(2);
if (!target || !key) {
  console.error("usage: node auth-proxy.mjs TARGET_URL KEY");
  process.exit(2);
}
const upstream = new URL(target);

const server = http.createServer((request, response) => {
  const headers = { ...request.headers, authorization: `Bearer ${key}` };
  const forwarded = http.request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      path: request.url,
      method: request.method,
      headers,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  forwarded.on("error", (error) => {
    response.writeHead(502, { "content-type": "text/plain" });
    response.end(`auth-proxy: ${error.message}`);
  });
  request.pipe(forwarded);
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on ${server.address().port}`);
});
