// Soak: N keep-alive requests (pipelined over a few connections) and M new
// connections (one request each, closed by the server) against a Manager in
// this process, then the C heap, the WebAssembly memory, the process RSS and
// the open file descriptors are compared with their values after a warm-up.
// `runSoak` is used by tests/soak_test.ts (short) and, run directly, by
// `make soak` (long; SOAK_REQUESTS / SOAK_CONNS override, default 2,000,000
// and 200,000). Runs on Deno and Node (node:net clients).

import * as net from "node:net";
import { readdirSync } from "node:fs";
import { Buffer } from "node:buffer";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG, MG_LL_NONE } from "../mod.ts";

/** Measurements of one soak run.
 *
 * @example
 * ```ts
 * const r: SoakResult = await runSoak(1000, 100, 0.1);
 * ```
 */
export interface SoakResult {
  requests: number;
  connections: number;
  seconds: number;
  before: Sample;
  after: Sample;
  /** Connections left in the Manager besides its listener. */
  leftover: number;
}

/** One measurement.
 *
 * @example
 * ```ts
 * const before: Sample = (await runSoak(1000, 100, 0.1)).before;
 * ```
 */
export interface Sample {
  rss: number;
  heapTop: number;
  memoryBytes: number;
  fds: number;
  cConnections: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fdCount(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1; // not Linux
  }
}

function rss(): number {
  const g = globalThis as {
    Deno?: { memoryUsage(): { rss: number } };
    process?: { memoryUsage(): { rss: number } };
  };
  return g.Deno !== undefined ? g.Deno.memoryUsage().rss : g.process!.memoryUsage().rss;
}

async function sample(mgr: Manager): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(20);
  }
  const s = mgr.stats();
  return {
    rss: rss(),
    heapTop: s.heapTop,
    memoryBytes: s.memoryBytes,
    fds: fdCount(),
    cConnections: s.connections,
  };
}

const REQ = Buffer.from("GET / HTTP/1.1\r\nHost: soak\r\n\r\n");
const REQ_CLOSE = Buffer.from("GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n");

/** `total` requests over `conns` keep-alive connections, `depth` in flight each. */
async function keepAlive(
  port: number,
  total: number,
  conns: number,
  depth: number,
  respLen: number,
) {
  let left = total;
  const batch = Buffer.concat(Array.from({ length: depth }, () => REQ));
  const one = async () => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
    await new Promise<void>((res, rej) => {
      s.once("connect", () => res());
      s.once("error", rej);
    });
    let got = 0, want = 0;
    let wake: (() => void) | null = null;
    let failed: Error | null = null;
    s.on("data", (d: Buffer) => {
      got += d.length;
      if (got >= want && wake) wake();
    });
    s.on("error", (e) => {
      failed = e;
      wake?.();
    });
    s.on("close", () => {
      failed ??= new Error("closed by the server");
      wake?.();
    });
    while (left > 0) {
      const n = Math.min(depth, left);
      left -= n;
      want += n * respLen;
      s.write(n === depth ? batch : batch.subarray(0, n * REQ.length));
      if (got < want) await new Promise<void>((r) => wake = r);
      wake = null;
      if (failed) throw failed;
      if (got !== want) throw new Error(`got ${got} bytes, expected ${want}`);
    }
    s.destroy();
  };
  await Promise.all(Array.from({ length: conns }, one));
}

/** `total` new connections, `par` at a time: one request each, the server closes. */
async function newConns(port: number, total: number, par: number) {
  let left = total;
  const one = async () => {
    while (left > 0) {
      left--;
      await new Promise<void>((res, rej) => {
        const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
        let head = "";
        s.on("connect", () => s.write(REQ_CLOSE));
        s.on("data", (d: Buffer) => {
          if (head.length < 12) head += d.toString("latin1");
        });
        s.on("error", rej);
        s.on("close", () => {
          s.destroy();
          if (head.startsWith("HTTP/1.1 200")) res();
          else rej(new Error(`bad response: ${JSON.stringify(head)}`));
        });
      });
    }
  };
  await Promise.all(Array.from({ length: par }, one));
}

/**
 * Runs the soak after a warm-up of `warmup` times its size (JIT, buffers,
 * the allocators' first growth); `log` gets progress lines. *
 * @example
 * ```ts
 * const r = await runSoak(100_000, 10_000, 1, console.log);
 * ```
 */
export async function runSoak(
  requests: number,
  connections: number,
  warmup: number,
  log: (s: string) => void = () => {},
): Promise<SoakResult> {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG && (data as HttpMessage).uri === "/") c.reply(200, "ok");
  }, { events: [MG_EV_HTTP_MSG] });
  const port = Number(lsn.localAddr.split(":").pop());
  try {
    // The response's size, then a warm-up (JIT, buffers, the heap's first growth)
    const respLen = await new Promise<number>((res, rej) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => s.write(REQ_CLOSE));
      let n = 0;
      s.on("data", (d: Buffer) => n += d.length);
      s.on("error", rej);
      s.on("close", () => res(n - "Connection: close\r\n".length));
    });
    await keepAlive(port, Math.ceil(requests * warmup), 32, 16, respLen);
    await newConns(port, Math.ceil(connections * warmup), 64);
    await settle(mgr);
    const before = await sample(mgr);
    log(`before: ${JSON.stringify(before)}`);
    const t0 = performance.now();
    await keepAlive(port, requests, 32, 16, respLen);
    log(`${requests} keep-alive requests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const t1 = performance.now();
    await newConns(port, connections, 64);
    log(`${connections} connections in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    await settle(mgr);
    // The runtime may close client sockets a moment after their 'close'
    const fdWait = Date.now() + 3000;
    while (fdCount() > before.fds && Date.now() < fdWait) await sleep(20);
    const after = await sample(mgr);
    log(`after: ${JSON.stringify(after)}`);
    return {
      requests,
      connections,
      seconds: (performance.now() - t0) / 1000,
      before,
      after,
      leftover: mgr.connections.length - 1,
    };
  } finally {
    mgr.close();
  }
}

async function settle(mgr: Manager): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (mgr.connections.length > 1 && Date.now() < deadline) await sleep(10);
}

/** Whether this module is the entry point (Deno or Node). */
function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (main !== undefined) return main;
  const argv = (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
  return argv[1] !== undefined && import.meta.url.endsWith(argv[1].split("/").pop()!);
}

if (isMain()) {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process
    ?.env ?? {};
  const json = env.SOAK_JSON === "1"; // one machine-readable line (tests/soak_test.ts)
  const r = await runSoak(
    Number(env.SOAK_REQUESTS ?? 2_000_000),
    Number(env.SOAK_CONNS ?? 200_000),
    Number(env.SOAK_WARMUP ?? 0.1),
    json ? () => {} : (s) => console.log(s),
  );
  if (json) console.log(`SOAK_RESULT ${JSON.stringify(r)}`);
  const mib = (n: number) => (n / 1048576).toFixed(1);
  console.log(
    `soak: ${r.requests} requests + ${r.connections} connections in ${r.seconds.toFixed(1)} s; ` +
      `RSS ${mib(r.before.rss)} -> ${mib(r.after.rss)} MiB, ` +
      `C heap top ${mib(r.before.heapTop)} -> ${mib(r.after.heapTop)} MiB, ` +
      `WASM memory ${mib(r.before.memoryBytes)} -> ${mib(r.after.memoryBytes)} MiB, ` +
      `fds ${r.before.fds} -> ${r.after.fds}, connections left ${r.leftover}`,
  );
}
