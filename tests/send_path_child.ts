// A child server for tests/send_path_test.ts (not a test itself): GET /big/N
// answers N bytes of `pattern(N)`, anything else its path. It prints
// "port N" when listening. On Deno it is run with and without --allow-ffi:
// the two send paths of the Deno backend (sendmsg(2) by FFI, Deno.Conn.write).
// Run as `deno run --allow-net tests/send_path_child.ts` or
// `node dist-test/tests/send_path_child.js`.

import { type HttpMessage, Manager, MG_EV_HTTP_MSG, MG_LL_NONE } from "../mod.ts";
import { pattern } from "./send_path_pattern.ts";

const mgr = new Manager();
mgr.logLevel = MG_LL_NONE;
const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const uri = (data as HttpMessage).uri;
  if (uri.startsWith("/big/")) c.reply(200, pattern(Number(uri.slice(5))));
  else c.reply(200, uri);
});
console.log(`port ${lsn.localAddr.split(":").pop()}`);
await mgr.run();
