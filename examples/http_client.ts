// HTTP client: one request with request(), then print the status, the
// Content-Type and the body.
//
//   deno run --allow-net examples/http_client.ts [URL] [--post JSON]
//   (default URL http://127.0.0.1:8000/hello?name=client)
//
// https:// works too (the runtime does TLS); add `ca` for a self-signed server.

import process from "node:process";
import { closeIdleConnections, request } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--post");
const body = at >= 0 ? args[at + 1] : undefined;
const url = args.find((a, i) => !a.startsWith("--") && (at < 0 || i !== at + 1)) ??
  "http://127.0.0.1:8000/hello?name=client";

try {
  const res = await request(url, {
    timeout: 5000, // ms for the whole response
    ...(body === undefined
      ? {} // GET
      : { method: "POST", body, headers: { "Content-Type": "application/json" } }),
  });
  console.log(`${res.status} ${res.statusText}`);
  console.log(`content-type: ${res.headers.get("content-type")}`);
  console.log(res.text());
} catch (e) {
  console.error(`http_client: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  closeIdleConnections(); // the kept-alive connection would hold the process 2 s
}
