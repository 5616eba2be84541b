// Backpressure keeps memory bounded: a 1 GiB response that the handler
// generates in pieces (refilled on MG_EV_WRITE while `sendLen` is low) to a
// client that reads slowly, and a 1 GiB upload from a fast writer into a slow
// handler that pauses reads with `isFull`. The process RSS (server and
// client are both in this process) is sampled throughout and must stay within
// 200 MiB of its start. BACKPRESSURE_MIB overrides the size (default 1024).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { execFile } from "node:child_process";
import {
  Connection,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_HTTP_MSG,
  MG_EV_READ,
  MG_EV_WRITE,
  MG_LL_NONE,
} from "../mod.ts";

const MiB = 1048576;
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process
  ?.env ?? {};
const SIZE = Number(env.BACKPRESSURE_MIB ?? 1024) * MiB;
const BOUND = 200 * MiB;
const PIECE = 256 * 1024;
const LOW = 1 * MiB;

function rss(): number {
  const g = globalThis as {
    Deno?: { memoryUsage(): { rss: number } };
    process?: { memoryUsage(): { rss: number } };
  };
  return g.Deno !== undefined ? g.Deno.memoryUsage().rss : g.process!.memoryUsage().rss;
}

/** Samples RSS every 20 ms; `stop()` returns the peak. */
function rssWatch(): { start: number; stop: () => number } {
  const start = rss();
  let peak = start;
  const t = setInterval(() => peak = Math.max(peak, rss()), 20);
  return {
    start,
    stop: () => {
      clearInterval(t);
      return Math.max(peak, rss());
    },
  };
}

test(`backpressure: a ${SIZE / MiB} MiB generated response to a slow reader`, async () => {
  const piece = new Uint8Array(PIECE).fill(0x61);
  const left = new Map<number, number>(); // bytes still to generate, by connection id
  const refill = (c: Connection) => {
    let n = left.get(c.id);
    if (n === undefined) return;
    while (n > 0 && c.sendLen < LOW) {
      const k = Math.min(n, PIECE);
      c.send(k === PIECE ? piece : piece.subarray(0, k));
      n -= k;
    }
    if (n > 0) left.set(c.id, n);
    else left.delete(c.id);
  };
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG && (data as HttpMessage).uri === "/big") {
      c.send(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\nConnection: close\r\n\r\n`);
      left.set(c.id, SIZE);
      refill(c);
    } else if (ev === MG_EV_WRITE) {
      refill(c);
      if (!left.has(c.id) && c.sendLen === 0 && !c.isDraining) c.drain();
    } else if (ev === MG_EV_CLOSE) {
      left.delete(c.id);
    }
  });
  const port = Number(lsn.localAddr.split(":").pop());
  const watch = rssWatch();
  try {
    // curl in its own process, reading at a limited rate: only the server's
    // memory is in this process
    const got = await new Promise<number>((resolve, reject) => {
      execFile(
        "curl",
        [
          "-s",
          "-o",
          "/dev/null",
          "--limit-rate",
          "256M",
          "-w",
          "%{size_download}",
          `http://127.0.0.1:${port}/big`,
        ],
        { timeout: 120_000 },
        (err, stdout) => err ? reject(err) : resolve(Number(stdout)),
      );
    });
    const peak = watch.stop();
    if (env.BACKPRESSURE_LOG) {
      console.log(`RSS ${(watch.start / MiB).toFixed(0)} -> peak ${(peak / MiB).toFixed(0)} MiB`);
    }
    assert.equal(got, SIZE, "the whole response arrived");
    assert.ok(
      peak - watch.start < BOUND,
      `RSS stayed bounded: ${(watch.start / MiB).toFixed(0)} -> peak ${
        (peak / MiB).toFixed(0)
      } MiB`,
    );
  } finally {
    watch.stop();
    mgr.close();
  }
});

test(`backpressure: a ${SIZE / MiB} MiB upload from a fast writer into a slow handler`, async (t) => {
  // Reading a raw connection's bytes needs Connection.consume (src/net.ts)
  if (!("consume" in Connection.prototype)) {
    t.skip("Connection.consume is not in this build (raw receive API)");
    return;
  }
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  let received = 0;
  const lsn = mgr.listen("tcp://127.0.0.1:0", (c, ev) => {
    if (ev === MG_EV_CLOSE && !c.isListening) received += c.recvLen; // the tail
    if (ev !== MG_EV_READ || c.isFull || c.recvLen < MiB) return;
    // A slow handler: once 1 MiB is buffered, reads pause while it "works"
    // for a few ms, then it takes the data and reads resume
    c.isFull = true;
    setTimeout(() => {
      if (!c.isAlive) return;
      const n = c.recvLen;
      received += n;
      (c as unknown as { consume(n: number): void }).consume(n);
      c.isFull = false;
    }, 2);
  }, { events: [MG_EV_READ, MG_EV_CLOSE] });
  const port = Number(lsn.localAddr.split(":").pop());
  const watch = rssWatch();
  try {
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port });
      const chunk = Buffer.alloc(MiB, 0x62);
      let sent = 0;
      const pump = () => { // as fast as the socket takes it
        while (sent < SIZE) {
          sent += MiB;
          if (!s.write(chunk)) return void s.once("drain", pump);
        }
        s.end();
      };
      s.on("connect", pump);
      s.on("error", reject);
      s.on("close", () => resolve());
    });
    const deadline = Date.now() + 30_000;
    while (received < SIZE && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const peak = watch.stop();
    if (env.BACKPRESSURE_LOG) {
      console.log(`RSS ${(watch.start / MiB).toFixed(0)} -> peak ${(peak / MiB).toFixed(0)} MiB`);
    }
    assert.equal(received, SIZE, "every byte reached the handler");
    assert.ok(
      peak - watch.start < BOUND,
      `RSS stayed bounded: ${(watch.start / MiB).toFixed(0)} -> peak ${
        (peak / MiB).toFixed(0)
      } MiB`,
    );
  } finally {
    watch.stop();
    mgr.close();
  }
});
