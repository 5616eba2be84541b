// SNTP client: asks a time server once and prints its time.
//
//   deno run --allow-net examples/sntp_client.ts [URL]   (default udp://time.google.com:123)
//
// Exits 0 with the time, 1 on an error or after 5 seconds without an answer.

import process from "node:process";
import { Manager, MG_EV_ERROR, MG_EV_SNTP_TIME } from "../mod.ts";

const url = process.argv[2] ?? "udp://time.google.com:123";
const mgr = new Manager();
let status = 1;

const c = mgr.sntpConnect(url, (c, ev, data) => {
  if (ev === MG_EV_SNTP_TIME) {
    const ms = data as number; // the server's time, epoch milliseconds
    console.log(`SNTP time from ${url}: ${new Date(ms).toISOString()}`);
    console.log(`local clock offset: ${Date.now() - ms} ms`);
    status = 0;
    c.close();
    mgr.close();
  } else if (ev === MG_EV_ERROR) {
    console.error(`SNTP error: ${data}`);
    mgr.close();
  }
});
c.sntpRequest(); // leaves as soon as the connection is set up

mgr.timerAdd(5000, () => {
  console.error(`no answer from ${url} within 5 s`);
  mgr.close();
});
await mgr.run();
process.exit(status);
