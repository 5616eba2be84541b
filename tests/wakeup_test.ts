// mg_wakeup: Manager.wakeup(id, data) and Manager.wakeupPort() for workers.
// An HTTP handler hands the work to a worker (node:worker_threads, which
// Deno offers too); the worker posts its result to the Manager's wakeup
// port; MG_EV_WAKEUP carries it to the connection, which replies. Results
// for connections that are gone are dropped. Runs on Deno and Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Worker } from "node:worker_threads";
import {
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_HTTP_MSG,
  MG_EV_READ,
  MG_EV_WAKEUP,
} from "../mod.ts";

const TIMEOUT_MS = 10_000;
const decoder = new TextDecoder();

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + TIMEOUT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** tests/wakeup_worker.ts on Deno, its compiled .js on Node. */
function workerUrl(): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./wakeup_worker${ext}`, import.meta.url);
}

test("HTTP requests answered by a worker through MG_EV_WAKEUP", async () => {
  const mgr = new Manager();
  const worker = new Worker(workerUrl());
  try {
    const port = mgr.wakeupPort();
    worker.postMessage({ port }, [port as never]);
    const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
      if (ev === MG_EV_HTTP_MSG) {
        const n = Number(new URLSearchParams((data as HttpMessage).query).get("n") ?? "1");
        worker.postMessage({ id: c.id, n }); // the reply comes later
      } else if (ev === MG_EV_WAKEUP) {
        c.reply(200, data as Uint8Array, { "Content-Type": "text/plain" });
      }
    });
    const base = `http://${lsn.localAddr}`;
    // Several at once, on separate connections: each gets its own result
    const ns = [20, 25, 10, 27];
    const bodies = await Promise.all(
      ns.map(async (n) => {
        const res = await fetch(`${base}/fib?n=${n}`);
        assert.equal(res.status, 200);
        return await res.text();
      }),
    );
    assert.deepEqual(bodies, ns.map((n) => `fib(${n}) = ${fib(n)}`));
  } finally {
    mgr.close();
    await worker.terminate();
  }
});

test("a worker's result for a closed connection is dropped; mgr.wakeup returns false", async () => {
  const mgr = new Manager();
  const worker = new Worker(workerUrl());
  try {
    const port = mgr.wakeupPort();
    worker.postMessage({ port }, [port as never]);
    let wakeups = 0, closedId = 0, liveReply = "";
    const lsn = mgr.listen("tcp://127.0.0.1:0", (c, ev) => {
      if (ev === MG_EV_READ) {
        const text = decoder.decode(c.recv);
        c.consume(c.recv.length);
        worker.postMessage({ id: c.id, n: 5, delay: text === "slow" ? 300 : 0 });
      } else if (ev === MG_EV_WAKEUP) {
        wakeups++;
        c.send("ok");
      } else if (ev === MG_EV_CLOSE && c.isClient === false && !c.isListening) {
        closedId = c.id;
      }
    });
    const addr = lsn.localAddr.split(":");
    // This client asks, then goes away before the worker answers
    const gone = net.connect({ host: addr[0], port: Number(addr[1]) }, () => gone.write("slow"));
    await new Promise((r) => setTimeout(r, 50));
    gone.destroy();
    await waitFor(() => closedId !== 0, "the server side to close");
    await new Promise((r) => setTimeout(r, 500)); // the worker's answer arrived and was dropped
    assert.equal(wakeups, 0);
    assert.equal(mgr.wakeup(closedId, "late"), false);
    assert.equal(mgr.wakeup(0, "x"), false);
    // The Manager goes on: a live connection gets its wakeup
    const live = net.connect({ host: addr[0], port: Number(addr[1]) }, () => live.write("fast"));
    live.setEncoding("utf8");
    live.on("data", (d: string) => (liveReply += d));
    await waitFor(() => liveReply === "ok", "the live reply");
    assert.equal(wakeups, 1);
    live.destroy();
  } finally {
    mgr.close();
    await worker.terminate();
  }
});

test("mgr.wakeup from the main thread: string and bytes, delivered to that connection only", async () => {
  const mgr = new Manager();
  try {
    const got: Array<[number, string]> = [];
    const lsn = mgr.listen("tcp://127.0.0.1:0", (c, ev, data) => {
      if (ev === MG_EV_WAKEUP) {
        assert.ok(data instanceof Uint8Array);
        got.push([c.id, decoder.decode(data as Uint8Array)]);
      }
    });
    // The listener is a connection too
    assert.equal(mgr.wakeup(lsn.id, "héllo"), true);
    assert.equal(mgr.wakeup(lsn.id, new Uint8Array([0x61, 0, 0x62])), true);
    assert.equal(mgr.wakeup(lsn.id), true);
    assert.deepEqual(got, [[lsn.id, "héllo"], [lsn.id, "a\0b"], [lsn.id, ""]]);
    assert.equal(mgr.wakeup(lsn.id + 1000, "nobody"), false);
    // A port message with a bad shape is ignored
    const port = mgr.wakeupPort();
    port.postMessage("not an object");
    port.postMessage({ id: lsn.id, data: "via port" });
    await waitFor(() => got.length === 4, "the port message");
    assert.deepEqual(got[3], [lsn.id, "via port"]);
    port.close();
  } finally {
    mgr.close();
  }
  assert.throws(() => mgr.wakeup(1, "x"), /closed/);
});
