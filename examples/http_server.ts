// HTTP server: JSON greetings on /hello, 404 elsewhere.
//
//   deno run --allow-net examples/http_server.ts [--listen URL]   (default http://127.0.0.1:8000)
//
// Try it: `curl 'http://127.0.0.1:8000/hello?name=Ada'`.

import process from "node:process";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

const mgr = new Manager();
const lsn = mgr.listen(listen, (conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage; // a view of the C struct, valid during this call
  if (hm.uri === "/hello") conn.replyJson({ hello: hm.queryVar("name") ?? "world" });
  else conn.reply(404, "not found\n", { "Content-Type": "text/plain" });
});

console.log(`http_server listening on http://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("http_server stopped");
