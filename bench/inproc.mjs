// In-process cost of one request: the JavaScript + WebAssembly work of a wasmgoose
// server without sockets, on Deno or Node. One of the bench servers is loaded, a
// fake connection is accepted into its Manager, and a request is fed to it N times
// through the backend sink (what a socket read would do); writes to the fake
// connection are counted and dropped. Deterministic to about ±2%, so it shows
// changes of 20 ns that wrk cannot (docs/performance.md).
//
//   deno run -A bench/inproc.mjs router /int/12345 [N]
//   node bench/inproc.mjs serve /query/few?q=a&limit=1 [N] [browser]  (after `make dist`)
//   deno run -A bench/inproc.mjs router json-large   (a workload of workloads.mjs, with its body)
// "browser": the request carries a browser's dozen headers instead of wrk's one.
//
// Servers: router (servers/wasmgoose_router.mjs), serve (servers/wasmgoose_serve.mjs),
// api (servers/wasmgoose_api.mjs). Prints µs per request (median of 5 batches).
// SPDX-License-Identifier: MIT

const isDeno = globalThis.Deno !== undefined;
const proc = globalThis.process;
const args = isDeno ? [...globalThis.Deno.args] : proc.argv.slice(2);
const [which = "router", path = "/", n = "200000", headerSet = "wrk"] = args;
const N = Number(n);
const FILES = {
  router: "./servers/wasmgoose_router.mjs",
  serve: "./servers/wasmgoose_serve.mjs",
  api: "./servers/wasmgoose_api.mjs",
};
const { WORKLOADS } = await import("./workloads.mjs");
const work = WORKLOADS[path];
if (!(which in FILES) || !(path.startsWith("/") || work !== undefined) || !(N > 0)) {
  console.error("usage: inproc.mjs router|serve|api /path|workload [requests] [wrk|browser]");
  (isDeno ? globalThis.Deno : proc).exit(2);
}
const src = isDeno ? "../src/" : "../dist/src/", ext = isDeno ? ".ts" : ".js";
const mod = await import(isDeno ? "../mod.ts" : "../dist/mod.js");
const { managerSink } = await import(src + "manager" + ext);
const { connInternals } = await import(src + "connection" + ext);
const { DenoBackend } = await import(src + "host/deno" + ext);
const { NodeBackend } = await import(src + "host/node" + ext);

// Writes to the fake connection are dropped (counted)
const FAKE = 999999; // a TCP host id (UDP ones have a high bit set, src/host/udp.ts)
let writes = 0;
for (const B of [DenoBackend, NodeBackend]) {
  const write = B.prototype.write;
  B.prototype.write = function (hid, ptr, len) {
    if (hid !== FAKE) return write.call(this, hid, ptr, len);
    writes++;
    return len;
  };
}
// The server's listener and Manager, as it creates them
let lsn, mgr;
const listen = mod.Manager.prototype.listen;
mod.Manager.prototype.listen = function (...a) {
  lsn = listen.apply(this, a);
  mgr = this;
  return lsn;
};
// Port 0, and no "listening" line
if (isDeno) globalThis.Deno.args.splice(0, globalThis.Deno.args.length, "0");
else proc.argv.splice(2, proc.argv.length - 2, "0");
const log = console.log;
console.log = () => {};
import(FILES[which]);
for (let i = 0; i < 100 && mgr === undefined; i++) await new Promise((r) => setTimeout(r, 20));
console.log = log;
if (mgr === undefined) throw new Error(`${FILES[which]} did not listen`);

const sink = managerSink(mgr);
const [, lsnC] = connInternals(lsn);
const c = sink.accept(lsnC, FAKE, "10.0.0.1:1234", "127.0.0.1:80");
// wrk sends one header; "browser" sends the dozen a browser does
const HEADERS = headerSet === "browser"
  ? "Host: localhost:8000\r\nConnection: keep-alive\r\n" +
    'sec-ch-ua: "Chromium";v="156", "Not.A/Brand";v="99"\r\nsec-ch-ua-mobile: ?0\r\n' +
    'sec-ch-ua-platform: "Linux"\r\nUpgrade-Insecure-Requests: 1\r\n' +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/156.0.0.0 Safari/537.36\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
    "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\n" +
    "Sec-Fetch-Dest: document\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
    "Accept-Language: en-US,en;q=0.9\r\n"
  : "Host: localhost:8000\r\nUser-Agent: inproc\r\n";
const body = work?.body === undefined ? "" : work.body;
const extra = body === ""
  ? ""
  : `Content-Type: ${work.contentType}\r\nContent-Length: ${
    new TextEncoder().encode(body).length
  }\r\n`;
const req = new TextEncoder().encode(
  `${work?.method ?? "GET"} ${work?.path ?? path} HTTP/1.1\r\n${HEADERS}${extra}\r\n${body}`,
);
// A handler that awaits (a body reader) answers after this request's event:
// wait for each answer before the next request (else requests pile up in the
// connection's buffer unanswered)
const wait = which === "serve" && body !== "";
async function run(count) {
  for (let i = 0; i < count; i++) {
    const w = writes;
    sink.recv(c, req, 0, req.length);
    if (wait) {
      for (let k = 0; writes === w && k < 100; k++) await 0;
    } else if ((i & 63) === 63) await 0; // let promise-based handlers finish
  }
  await new Promise((r) => setTimeout(r, 0));
}
await run(20000); // warm-up (and compile)
const w0 = writes;
const times = [];
for (let b = 0; b < 5; b++) {
  const t0 = performance.now();
  await run(N);
  times.push(((performance.now() - t0) * 1000) / N);
}
times.sort((a, b) => a - b);
const answered = writes - w0;
log(
  `${which} ${path}: ${times[2].toFixed(3)} µs/request (median of 5 × ${N}; ` +
    `${answered === 5 * N ? "every request answered" : `ONLY ${answered} of ${5 * N} answered`})`,
);
mgr.close();
(isDeno ? globalThis.Deno : proc).exit(answered === 5 * N ? 0 : 1);
