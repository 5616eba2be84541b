// CPU-heavy work off the event loop: GET /fib?n=35 is computed by a Worker;
// the result comes back to the connection as MG_EV_WAKEUP (mg_wakeup), and
// the handler replies. The server keeps answering other requests meanwhile.
//
//   deno run --allow-net --allow-read examples/worker_wakeup.ts [--listen URL]
//   (default http://127.0.0.1:8000)        then: curl 'http://127.0.0.1:8000/fib?n=35'

import process from "node:process";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG, MG_EV_WAKEUP } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

const mgr = new Manager();
const worker = new Worker(new URL("./fib_worker.ts", import.meta.url), { type: "module" });
// The worker posts { id, data } to this port: mgr.wakeup(id, data) here.
const port = mgr.wakeupPort();
worker.postMessage({ port }, [port]);

const JSON_TYPE = Object.freeze({ "Content-Type": "application/json" });
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) {
    const hm = data as HttpMessage;
    if (hm.uri !== "/fib") return c.reply(404, "try /fib?n=30\n");
    const n = Number(new URLSearchParams(hm.query).get("n") ?? "30");
    worker.postMessage({ id: c.id, n }); // no reply yet: it comes with the wakeup
  } else if (ev === MG_EV_WAKEUP) {
    c.reply(200, data as Uint8Array, JSON_TYPE); // the worker's JSON
  }
});

console.log(`worker_wakeup listening on http://${lsn.localAddr}/fib?n=30`);
await mgr.run(); // until Ctrl-C or SIGTERM
worker.terminate();
console.log("worker_wakeup stopped");
