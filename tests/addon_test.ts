// The native backend (src/native.ts + the Node-API addon of native/addon, built by
// `make addon`): HTTP getters and replies against fetch, a handler that throws,
// WebSocket echo against the `ws` client, and close(). On Node the addon waits
// with libuv (uv_poll_t); on Deno with its helper thread. Skipped, with the reason,
// when the addon is not built.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WS from "ws";
import {
  MG_EV_HTTP_MSG,
  MG_EV_WS_MSG,
  type NativeConnection,
  type NativeHttpMessage,
  NativeManager,
  type NativeWsMessage,
} from "../src/native.ts";

const ADDON = [
  "../native/addon/build/Release/wasmgoose_native.node",
  "../../native/addon/build/Release/wasmgoose_native.node",
]
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p));
const skip = ADDON === undefined ? "native addon not built (make addon)" : false;

function handler(c: NativeConnection, ev: number, data: unknown): void {
  if (ev === MG_EV_HTTP_MSG) {
    const hm = data as NativeHttpMessage;
    if (hm.uri === "/ws") return c.wsUpgrade(hm);
    if (hm.uri === "/throw") throw new Error("handler failure (expected by the test)");
    if (hm.uri === "/reply-then-throw") {
      c.reply(200, "answered\n");
      throw new Error("handler failure after its reply (expected by the test)");
    }
    if (hm.uri === "/echo") {
      return c.replyJson(
        {
          method: hm.method,
          uri: hm.uri,
          query: hm.query,
          a: hm.queryVar("a") ?? null,
          missing: hm.queryVar("zz") ?? null,
          proto: hm.proto,
          ct: hm.header("CONTENT-TYPE") ?? null,
          text: hm.text,
          bodyLen: hm.body.length,
          headers: hm.headers().length > 0,
        },
        201,
        { "X-Test": "yes" },
      );
    }
    c.reply(404, "nope\n");
  } else if (ev === MG_EV_WS_MSG) {
    const m = data as NativeWsMessage;
    c.wsSend(m.data, m.op);
  }
}

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const mgr = new NativeManager(undefined, { addon: ADDON });
  const lsn = mgr.listen("http://127.0.0.1:0", handler);
  const run = mgr.run();
  try {
    await fn(`127.0.0.1:${mgr.portOf(lsn)}`);
  } finally {
    mgr.close();
    await run; // close() resolves run()
  }
}

test("native addon: HTTP request getters and reply", { skip }, async () => {
  await withServer(async (base) => {
    const res = await fetch(`http://${base}/echo?a=b%20c&x=1`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "héllo",
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-test"), "yes");
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), {
      method: "POST",
      uri: "/echo",
      query: "a=b%20c&x=1",
      a: "b c",
      missing: null,
      proto: "HTTP/1.1",
      ct: "text/plain",
      text: "héllo",
      bodyLen: 6,
      headers: true,
    });
    const r404 = await fetch(`http://${base}/other`);
    assert.equal(r404.status, 404);
    assert.equal(await r404.text(), "nope\n");
  });
});

test(
  "native addon: a throwing handler gets 500 and the server keeps serving",
  { skip },
  async () => {
    const saved = console.error;
    console.error = () => {};
    try {
      await withServer(async (base) => {
        const bad = await fetch(`http://${base}/throw`);
        assert.equal(bad.status, 500);
        await bad.body?.cancel();
        // A handler that answered, then threw: its answer stands, no second response.
        const answered = await fetch(`http://${base}/reply-then-throw`);
        assert.equal(answered.status, 200);
        assert.equal(await answered.text(), "answered\n");
        const ok = await fetch(`http://${base}/echo`);
        assert.equal(ok.status, 201);
        await ok.body?.cancel();
      });
    } finally {
      console.error = saved;
    }
  },
);

test(
  "native addon: WebSocket echo with the ws client, text and 1 MiB binary",
  { skip },
  async () => {
    await withServer(async (base) => {
      const ws = new WS(`ws://${base}/ws`, { perMessageDeflate: false });
      const got: Array<{ data: Buffer; binary: boolean }> = [];
      await new Promise<void>((resolve, reject) => {
        ws.on("error", reject);
        ws.on("open", () => {
          ws.send("hello");
          ws.send(Buffer.alloc(1 << 20, 7));
        });
        ws.on("message", (data: Buffer, binary: boolean) => {
          got.push({ data, binary });
          if (got.length === 2) resolve();
        });
      });
      assert.equal(got[0].binary, false);
      assert.equal(got[0].data.toString(), "hello");
      assert.equal(got[1].binary, true);
      assert.equal(got[1].data.length, 1 << 20);
      assert.ok(got[1].data.every((b) => b === 7));
      ws.close();
      await new Promise((r) => ws.once("close", r));
    });
  },
);
