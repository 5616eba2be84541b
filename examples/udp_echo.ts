// UDP echo server: every datagram goes back to its sender, as one datagram.
//
//   deno run --allow-net examples/udp_echo.ts [--listen URL]   (default udp://127.0.0.1:1234)
//
// Try it: `nc -u 127.0.0.1 1234`, or `socat - UDP:127.0.0.1:1234`.
//
// A UDP listener gets one MG_EV_READ per datagram, with exactly that
// datagram in c.recv and its sender in c.remoteAddr; c.send() on the
// listener sends one datagram to that sender right away.

import process from "node:process";
import { Manager, MG_EV_READ } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "udp://127.0.0.1:1234";

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev) => {
  if (ev === MG_EV_READ) c.send(c.recv);
});

console.log(`udp_echo listening on udp://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("udp_echo stopped");
