// WebSocket echo server: every text or binary message comes back as it came.
//
//   deno run -A examples/ws_echo.ts [--listen URL]   (default http://127.0.0.1:8000)
//
// Connect to ws://HOST:PORT/ws (any path works), e.g. with `npx wscat -c ...`.

import process from "node:process";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG, MG_EV_WS_MSG, type WsMessage } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) {
    // Every request is a WebSocket handshake; anything else gets a 400.
    c.wsUpgrade(data as HttpMessage);
  } else if (ev === MG_EV_WS_MSG) {
    // `msg.data` is a view into WebAssembly memory, valid during this call:
    // sending it back right away copies nothing.
    const msg = data as WsMessage;
    c.wsSend(msg.data, msg.op);
  }
});

console.log(`ws_echo listening on ws://${lsn.localAddr}/ws`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("ws_echo stopped");
