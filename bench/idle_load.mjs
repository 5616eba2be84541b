#!/usr/bin/env node
// Idle keep-alive connections for the footprint measurement of `make bench`.
//
//   node bench/idle_load.mjs PORT [--conns=10000] [--batch=500]
//
// Opens `conns` TCP connections to 127.0.0.1:PORT, `batch` at a time; on each it
// sends one `GET / HTTP/1.1` (keep-alive) and reads the whole response, then
// leaves the connection open and idle. When every connection has answered (or
// failed) it prints one JSON line { opened, answered, errors, firstError } and
// keeps the connections open until it is sent SIGTERM or stdin closes.
// The harness runs it in a shell with a raised `ulimit -n`.
// SPDX-License-Identifier: MIT
import net from "node:net";
import process from "node:process";

const port = Number(process.argv[2]);
const opt = (k, d) => {
  const a = process.argv.find((x) => x.startsWith(`--${k}=`));
  return a ? Number(a.split("=")[1]) : d;
};
const total = opt("conns", 10000);
const batch = opt("batch", 500);
if (!port) throw new Error("usage: idle_load.mjs PORT [--conns=N] [--batch=N]");

const REQ = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
const sockets = [];
let opened = 0, answered = 0, errors = 0, firstError = "";

function one() {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let buf = "";
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      if (ok) answered++;
      else {
        errors++;
        if (!firstError) firstError = why;
      }
      resolve();
    };
    s.setNoDelay(true);
    s.on("connect", () => {
      opened++;
      s.write(REQ);
    });
    s.on("data", (d) => {
      if (done) return;
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, end + 2));
      if (!m || buf.length - end - 4 >= Number(m[1])) finish(/^HTTP\/1\.1 200/.test(buf), "status");
    });
    s.on("error", (e) => finish(false, e.code ?? e.message));
    s.on("close", () => finish(false, "closed by the server"));
    sockets.push(s);
  });
}

for (let i = 0; i < total; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, total - i) }, one));
}
process.stdout.write(JSON.stringify({ opened, answered, errors, firstError }) + "\n");

const quit = () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
};
process.on("SIGTERM", quit);
process.stdin.on("end", quit);
process.stdin.resume();
