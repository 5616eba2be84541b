// wasmgoose for every HTTP workload of `make bench`, with one Mongoose-style
// handler: GET / hello JSON, the API workloads (the shared api.mjs, the same code
// node:http, Deno.serve and Bun.serve run), GET /ws WebSocket echo and, when
// STATIC_DIR is set and the Connection has serveDir, GET /static/* files.
// One file for every runtime and both backends:
//   deno run -A bench/servers/wasmgoose_api.mjs PORT [wasm|native]   (loads mod.ts / src/native.ts)
//   node bench/servers/wasmgoose_api.mjs PORT [wasm|native]          (loads dist/…)
//   bun bench/servers/wasmgoose_api.mjs PORT [wasm|native]           (loads dist/…, node:net)
// "native" is the Node-API addon (make addon): the same core with its epoll driver.
// Listens on 127.0.0.1 only.
import process from "node:process";
import { api } from "./api.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const backend = process.argv[3] ?? "wasm";
const staticDir = process.env.STATIC_DIR;
const deno = globalThis.Deno !== undefined;
// Computed specifiers, so that Deno does not also pre-load the other builds.
const entry = backend === "native"
  ? deno ? "../../src/native.ts" : "../../dist/src/native.js"
  : deno
  ? "../../mod.ts"
  : "../../dist/mod.js";
const mod = await import(entry);
const { MG_EV_HTTP_MSG, MG_EV_WS_MSG } = mod;
const Manager = backend === "native" ? mod.NativeManager : mod.Manager;

const HELLO = new TextEncoder().encode('{"message":"Hello, World!"}');
const JSON_HEADERS = Object.freeze({ "Content-Type": "application/json" });

/** One handler for every connection: no per-request closures beyond the body getter. */
function handler(c, ev, data) {
  if (ev === MG_EV_HTTP_MSG) {
    const uri = data.uri;
    if (uri === "/") return c.reply(200, HELLO, JSON_HEADERS);
    if (uri === "/ws") return c.wsUpgrade(data);
    if (staticDir && uri.startsWith("/static/") && typeof c.serveDir === "function") {
      return c.serveDir(data, { rootDir: staticDir });
    }
    const [status, text] = api(
      data.method,
      uri,
      data.query,
      data.header("content-type"),
      () => data.body,
    );
    c.reply(status, text, JSON_HEADERS);
  } else if (ev === MG_EV_WS_MSG) {
    c.wsSend(data.data, data.op);
  }
}

const mgr = new Manager();
mgr.listen(`http://127.0.0.1:${port}`, handler, { events: [MG_EV_HTTP_MSG, MG_EV_WS_MSG] });
await mgr.run();
