// wasmgoose WebSocket echo server for `make bench` (the "WebSocket echo" workload).
// One file for both runtimes: on Deno it loads ../../mod.ts, on Node the compiled
// ../../dist/mod.js (`make dist`). GET /ws is upgraded and every message is echoed
// back as is (same opcode, text or binary); GET / answers the hello JSON.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
//   deno run -A bench/servers/wasmgoose_ws.mjs 18006
//   node bench/servers/wasmgoose_ws.mjs 18007

import process from "node:process";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
// A computed specifier, so that Deno does not also pre-load the other runtime's build.
const entry = globalThis.Deno ? "../../mod.ts" : "../../dist/mod.js";
const { Manager, MG_EV_HTTP_MSG, MG_EV_WS_MSG } = await import(entry);

const HELLO = new TextEncoder().encode('{"message":"Hello, World!"}');
const JSON_HEADERS = Object.freeze({ "Content-Type": "application/json" });

/** One handler for every connection: no per-message closures or copies. */
function handler(c, ev, data) {
  if (ev === MG_EV_WS_MSG) {
    c.wsSend(data.data, data.op); // a view into WASM memory: echoed without a JS copy
  } else if (ev === MG_EV_HTTP_MSG) {
    if (data.uri === "/ws") c.wsUpgrade(data);
    else if (data.uri === "/") c.reply(200, HELLO, JSON_HEADERS);
    else c.reply(404, "Not Found\n");
  }
}

const mgr = new Manager();
mgr.listen(`http://127.0.0.1:${port}`, handler, { events: [MG_EV_HTTP_MSG, MG_EV_WS_MSG] });
await mgr.run();
