// A child server for tests/limits_test.ts (not a test itself): `/slow`
// answers after 600 ms, anything else at once. It prints "port N" when
// listening and "got /slow" when that request arrives, then runs until a
// signal (graceful shutdown). Run as `deno run -A tests/limits_child.ts` or
// `node dist-test/tests/limits_child.js`.

import { type HttpMessage, Manager, MG_EV_HTTP_MSG, MG_LL_NONE } from "../mod.ts";

const mgr = new Manager();
mgr.logLevel = MG_LL_NONE;
const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  if (hm.uri === "/slow") {
    console.log("got /slow");
    setTimeout(() => c.reply(200, "slow done"), 600);
  } else {
    c.reply(200, "ok");
  }
});
console.log(`port ${lsn.localAddr.split(":").pop()}`);
await mgr.run();
console.log("stopped");
