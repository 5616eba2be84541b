// Raw TCP echo server: every byte a client sends comes back.
//
//   deno run --allow-net examples/tcp_echo.ts [--listen URL]   (default tcp://127.0.0.1:1234)
//
// Try it: `nc 127.0.0.1 1234`, or `socat - TCP:127.0.0.1:1234`.

import process from "node:process";
import { Manager, MG_EV_READ } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "tcp://127.0.0.1:1234";

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev) => {
  if (ev === MG_EV_READ) {
    // c.recv is what arrived and was not consumed yet (Mongoose's c->recv):
    // a view into WebAssembly memory, so sending it back copies nothing.
    c.send(c.recv);
    c.consume(c.recv.length);
  }
});

console.log(`tcp_echo listening on tcp://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("tcp_echo stopped");
