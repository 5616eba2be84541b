// The host's I/O buffers (src/host/deno.ts on Deno: a small per-connection read
// buffer that switches to a pooled large one while reads fill it, pooled write
// buffers; src/host/node.ts on Node): request bodies and responses of sizes
// around every buffer boundary arrive intact, on keep-alive connections that
// alternate small and large messages, two at a time so that pooled buffers
// change hands. Runs on Deno and Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Raw } from "./raw_client.ts";
import { type Connection, type HttpMessage, Manager, MG_EV_HTTP_MSG } from "../mod.ts";

// Around 2 KiB (the small buffers), 16 KiB (the pooled ones) and beyond
const SIZES = [0, 5, 2047, 2048, 2049, 3, 16383, 16384, 16385, 7, 200000, 1, 40000, 2];

/** Byte i of a message of the given seed: a pattern that shows shifts and drops. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

function sum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = (s * 33 + b[i]) >>> 0;
  return s;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

test("bodies and responses around the buffer sizes arrive intact on keep-alive connections", async () => {
  const mgr = new Manager();
  // Answers a body of `?out=N` bytes (seed `?seed=S`), with the length and
  // checksum of the request body in headers.
  const lsn = mgr.listen("http://127.0.0.1:0", (c: Connection, ev: number, hm: unknown) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const m = hm as HttpMessage;
    const q = new URLSearchParams(m.query);
    const body = m.body;
    c.reply(200, pattern(Number(q.get("out")), Number(q.get("seed"))), {
      "X-Len": String(body.length),
      "X-Sum": String(sum(body)),
    });
  }, { events: [MG_EV_HTTP_MSG] });
  const port = Number(lsn.localAddr.split(":").pop());
  const running = mgr.run();
  const clients = [new Raw(port), new Raw(port)];
  try {
    for (let i = 0; i < SIZES.length; i++) {
      // Both connections at once, each with its own sizes and contents
      await Promise.all(clients.map(async (raw, k) => {
        const inSize = SIZES[(i + k * 5) % SIZES.length];
        const outSize = SIZES[(i + k * 3 + 1) % SIZES.length];
        const seed = i * 2 + k;
        const body = pattern(inSize, seed + 100);
        raw.write(
          `POST /?out=${outSize}&seed=${seed} HTTP/1.1\r\nHost: x\r\n` +
            `Content-Length: ${inSize}\r\n\r\n`,
        );
        raw.write(body);
        const rs = await raw.waitResponses(i + 1);
        assert.equal(rs.length, i + 1, `response ${i} on connection ${k}`);
        const r = rs[i];
        assert.equal(r.status, 200);
        assert.equal(r.headers.get("x-len"), String(inSize), `request body ${inSize} B`);
        assert.equal(r.headers.get("x-sum"), String(sum(body)), `request body ${inSize} B`);
        assert.equal(r.body.length, outSize, `response body ${outSize} B`);
        assert.ok(r.body === latin1(pattern(outSize, seed)), `response body ${outSize} B intact`);
      }));
    }
    for (const raw of clients) assert.equal(raw.closed, false);
  } finally {
    for (const raw of clients) raw.destroy();
    mgr.close();
    await running;
  }
});
