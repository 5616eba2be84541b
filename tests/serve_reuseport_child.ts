// Two serve() on one port with reusePort: connections reach both. Used by
// tests/serve_stream_test.ts: on Node directly, on Deno in a child process
// run with --unstable-net (which reusePort needs there). Not a test file.

import assert from "node:assert/strict";
import { serve } from "../mod.ts";

/** Starts two servers on one port and checks that both get connections. */
export async function twoServersSharePort(): Promise<void> {
  const opts = { hostname: "127.0.0.1", onListen: () => {}, reusePort: true };
  const a = serve({ ...opts, port: 0 }, () => new Response("a"));
  const b = serve({ ...opts, port: a.addr.port }, () => new Response("b"));
  try {
    assert.equal(b.addr.port, a.addr.port);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const r = await fetch(`http://127.0.0.1:${a.addr.port}/`, {
        headers: { connection: "close" },
      });
      seen.add(await r.text());
    }
    assert.deepEqual([...seen].sort(), ["a", "b"]);
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
}

if ((import.meta as { main?: boolean }).main === true) {
  await twoServersSharePort();
  console.log("both servers answered");
}
