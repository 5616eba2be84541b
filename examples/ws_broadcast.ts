// WebSocket broadcast: a timer pushes the time to every open WebSocket each
// second; GET / serves a page that shows what arrives.
//
//   deno run -A examples/ws_broadcast.ts [--listen URL]   (default http://127.0.0.1:8000)

import process from "node:process";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>wasmgoose broadcast</title></head>
<body><h1>Server time</h1><ul id="log"></ul>
<script>
  const ws = new WebSocket("ws://" + location.host + "/ws");
  ws.onmessage = (e) => {
    const li = document.createElement("li");
    li.textContent = e.data;
    document.getElementById("log").prepend(li);
  };
  ws.onclose = () => document.title = "disconnected";
</script></body></html>
`;

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  if (hm.uri === "/ws") c.wsUpgrade(hm);
  else if (hm.uri === "/") c.reply(200, PAGE, { "Content-Type": "text/html; charset=utf-8" });
  else c.reply(404, "not found\n");
});

// A repeating C timer of the Manager: freed when the Manager closes.
mgr.timerAdd(1000, () => {
  const now = new Date().toISOString();
  for (const c of mgr.connections) if (c.isWebsocket) c.wsSend(now);
}, { repeat: true });

console.log(`ws_broadcast listening on http://${lsn.localAddr}/ (WebSocket: /ws)`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("ws_broadcast stopped");
