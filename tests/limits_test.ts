// Limits against slow clients and floods, over raw node:net sockets with
// short timeouts (a few hundred ms): header, body and idle timeouts, a busy
// connection that is left alone, the connection cap under a flood of
// connections, graceful shutdown (in process, and by SIGTERM to a child),
// and a trap that stops its Manager loudly. Runs on Deno and Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Raw } from "./raw_client.ts";
import {
  type EventHandler,
  type HttpMessage,
  type LimitOptions,
  Manager,
  MG_EV_HTTP_MSG,
  MG_LL_NONE,
} from "../mod.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
/** This process's soft limit of open files, or Infinity if unknown. */
function fdLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "latin1"));
    return m ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}
/** Connections of the flood test (LIMITS_FLOOD overrides): 10,000, or as many
 * as the descriptor limit allows (each client holds one; 500 spare). */
const FLOOD_WANTED = Number(
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .LIMITS_FLOOD ?? 10_000,
);
const FLOOD = Math.min(FLOOD_WANTED, fdLimit() - 500);
if (FLOOD < FLOOD_WANTED) {
  console.log(`limits_test: open-file limit ${fdLimit()}: flood of ${FLOOD}, not ${FLOOD_WANTED}`);
}

/** "ok" on `/`, `/slow` after 1 s, else the body length. */
const handler: EventHandler = (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  if (hm.uri === "/slow") setTimeout(() => c.isAlive && c.reply(200, "slow"), 1000);
  else if (hm.uri === "/") c.reply(200, "ok");
  else c.reply(200, `len ${hm.body.length}`);
};

function serve(opts: LimitOptions): { mgr: Manager; port: number } {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", handler, opts);
  return { mgr, port: Number(lsn.localAddr.split(":").pop()) };
}

async function settled(mgr: Manager, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (mgr.connections.length > 1 && Date.now() < deadline) await sleep(10);
  assert.equal(mgr.connections.length, 1, "only the listener is left");
}

async function get200(port: number): Promise<void> {
  const raw = new Raw(port);
  try {
    raw.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await raw.waitClose();
    assert.deepEqual(raw.responses().map((r) => [r.status, r.body]), [[200, "ok"]]);
  } finally {
    raw.destroy();
  }
}

test("limits: a head sent one byte per 100 ms gets 408 and is closed", async () => {
  const { mgr, port } = serve({ headerTimeout: 300, idleTimeout: 10_000 });
  const raw = new Raw(port);
  try {
    await raw.until(() => raw.connected, "connect");
    const head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100) + "\r\n\r\n";
    let sent = 0;
    while (sent < head.length && !raw.closed) {
      raw.write(head[sent++]);
      await sleep(100);
    }
    await raw.waitClose();
    assert.ok(sent < head.length, `closed before the head was complete (${sent} bytes sent)`);
    const rs = raw.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].status, 408);
    assert.equal(rs[0].headers.get("connection"), "close");
    await settled(mgr);
    await get200(port);
  } finally {
    raw.destroy();
    mgr.close();
  }
});

test("limits: a connection that sends nothing is closed after the header timeout", async () => {
  const { mgr, port } = serve({ headerTimeout: 300, idleTimeout: 10_000 });
  const raw = new Raw(port);
  try {
    await raw.waitClose();
    assert.equal(raw.buf, "", "nothing is sent to it");
    await settled(mgr);
  } finally {
    raw.destroy();
    mgr.close();
  }
});

test("limits: a body that stalls gets 408", async () => {
  const { mgr, port } = serve({ bodyTimeout: 300, headerTimeout: 10_000 });
  const raw = new Raw(port);
  try {
    raw.write("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
    await raw.waitClose();
    assert.deepEqual(raw.responses().map((r) => r.status), [408]);
    await settled(mgr);
  } finally {
    raw.destroy();
    mgr.close();
  }
});

test("limits: a slow but moving body is not cut", async () => {
  const { mgr, port } = serve({ bodyTimeout: 1000, headerTimeout: 10_000 });
  const raw = new Raw(port);
  try {
    raw.write("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
    for (let i = 0; i < 10; i++) {
      await sleep(150); // 1.5 s in all, each pause well under the timeout
      raw.write("x");
    }
    const rs = await raw.waitResponses(1);
    assert.deepEqual(rs.map((r) => [r.status, r.body]), [[200, "len 10"]]);
    assert.equal(raw.closed, false);
  } finally {
    raw.destroy();
    mgr.close();
  }
});

test("limits: an idle keep-alive connection is closed, an active one is not", async () => {
  const { mgr, port } = serve({ idleTimeout: 800, headerTimeout: 10_000 });
  const idle = new Raw(port);
  const active = new Raw(port);
  try {
    idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await idle.waitResponses(1);
    // The active client asks every 100 ms for 2.5 s (well past the timeout)
    for (let i = 0; i < 25; i++) {
      active.write(`GET /n${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await active.waitResponses(i + 1);
      await sleep(100);
    }
    assert.equal(active.closed, false, "the active connection is still open");
    assert.equal(active.responses().length, 25);
    await idle.waitClose();
    assert.deepEqual(idle.responses().map((r) => r.status), [200]);
    // A request still in the handler (1 s) is not an idle connection
    active.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    const rs = await active.waitResponses(26);
    assert.equal(rs[25].body, "slow");
    await active.waitClose(); // and then it idles out too
  } finally {
    idle.destroy();
    active.destroy();
    mgr.close();
  }
});

test("limits: timeouts 0 turn them off; bad values throw", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    assert.throws(() => mgr.listen("http://127.0.0.1:0", handler, { idleTimeout: -1 }), RangeError);
    assert.throws(
      () => mgr.listen("http://127.0.0.1:0", handler, { maxConnections: NaN }),
      RangeError,
    );
    assert.equal(mgr.connections.length, 0, "no listener was opened");
    const lsn = mgr.listen("http://127.0.0.1:0", handler, {
      headerTimeout: 0,
      idleTimeout: 0,
      bodyTimeout: 0,
    });
    const raw = new Raw(Number(lsn.localAddr.split(":").pop()));
    await raw.until(() => raw.connected, "connect");
    await sleep(700);
    assert.equal(raw.closed, false);
    assert.equal(mgr.stats().timers, 0, "no sweep timer without timeouts");
    raw.destroy();
  } finally {
    mgr.close();
  }
});

test(`limits: maxConnections under a flood of ${FLOOD} connections`, async () => {
  const CAP = 100, BURST = 250;
  const { mgr, port } = serve({ maxConnections: CAP });
  const raws: Raw[] = [];
  let peak = 0;
  const sample = setInterval(() => peak = Math.max(peak, mgr.connections.length - 1), 5);
  try {
    while (raws.length < FLOOD) {
      const burst = Array.from(
        { length: Math.min(BURST, FLOOD - raws.length) },
        () => new Raw(port),
      );
      raws.push(...burst);
      await Promise.all(
        burst.map((r) => r.until(() => r.connected || r.closed, "connect", 20_000)),
      );
      // Every connection was accepted: kept (at most CAP) or closed at once
      const deadline = Date.now() + 20_000;
      while (raws.filter((r) => !r.closed).length > CAP && Date.now() < deadline) await sleep(10);
      peak = Math.max(peak, mgr.connections.length - 1);
    }
    const kept = raws.filter((r) => !r.closed);
    assert.equal(kept.length, CAP, "exactly the cap is kept open");
    assert.ok(peak <= CAP, `never more than ${CAP} connections (peak ${peak})`);
    assert.ok(raws.every((r) => r.buf === ""), "refused connections get no bytes");
    // The kept connections are served
    for (const r of kept) r.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await Promise.all(
      kept.map((r) => r.until(() => r.responses().length > 0 || r.closed, "a response", 20_000)),
    );
    for (const r of kept) assert.equal(r.responses()[0]?.status, 200);
    // Once they go, new clients are served again
    for (const r of kept) r.destroy();
    await settled(mgr, 10_000);
    await get200(port);
  } finally {
    clearInterval(sample);
    for (const r of raws) r.destroy();
    mgr.close();
  }
});

test("shutdown: in-flight responses finish, idle connections and the listener close", async () => {
  const { mgr, port } = serve({});
  const busy = new Raw(port);
  const idle = new Raw(port);
  try {
    idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await idle.waitResponses(1);
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    while (mgr.connections.length < 3) await sleep(5);
    await sleep(50); // the request is in the handler
    const done = mgr.shutdown({ timeout: 5000 });
    await idle.waitClose();
    const late = new Raw(port); // the listener is gone
    await late.until(() => late.closed, "refused connection");
    late.destroy();
    assert.equal(busy.closed, false, "the busy connection waits for its response");
    await busy.waitClose();
    const rs = busy.responses();
    assert.deepEqual(rs.map((r) => [r.status, r.body]), [[200, "slow"]]);
    assert.equal(rs[0].headers.get("connection"), "close");
    await done;
    assert.equal(mgr.closed, true);
  } finally {
    busy.destroy();
    idle.destroy();
    mgr.close();
  }
});

test("shutdown: the timeout closes what is still busy", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", () => {}); // never answers
  const raw = new Raw(Number(lsn.localAddr.split(":").pop()));
  try {
    raw.write("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    while (mgr.connections.length < 2) await sleep(5);
    await sleep(30);
    await mgr.shutdown({ timeout: 200 });
    assert.equal(mgr.closed, true);
    await raw.waitClose();
    assert.equal(raw.buf, "");
  } finally {
    raw.destroy();
    mgr.close();
  }
});

test("shutdown: SIGTERM to a server process lets the response in flight finish", async () => {
  const proc = (globalThis as unknown as { process: { execPath: string } }).process;
  const args = isDeno
    ? ["run", "-A", new URL("./limits_child.ts", import.meta.url).pathname]
    : [new URL("./limits_child.js", import.meta.url).pathname];
  const child = spawn(proc.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  child.stdout!.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
  const until = async (re: RegExp, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!re.test(out)) {
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}: ${out}`);
      await sleep(10);
    }
  };
  let raw: Raw | undefined;
  try {
    await until(/port (\d+)/, "the child to listen");
    const port = Number(/port (\d+)/.exec(out)![1]);
    raw = new Raw(port);
    raw.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(/got \/slow/, "the request to arrive");
    child.kill("SIGTERM");
    await raw.waitClose();
    assert.deepEqual(raw.responses().map((r) => [r.status, r.body]), [[200, "slow done"]]);
    await until(/stopped/, "run() to resolve");
    await exited;
  } finally {
    raw?.destroy();
    child.kill("SIGKILL");
  }
});

test("a trap inside a handler's call stops its Manager loudly, with the cause", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", () => {
    // What a trap in an export looks like to the host
    throw new WebAssembly.RuntimeError("memory access out of bounds (injected)");
  }, { events: [MG_EV_HTTP_MSG] });
  const port = Number(lsn.localAddr.split(":").pop());
  const logged: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => logged.push(a.map(String).join(" "));
  try {
    const running = mgr.run();
    const raw = new Raw(port);
    raw.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await assert.rejects(running, /memory access out of bounds \(injected\)/);
    await raw.waitClose();
    raw.destroy();
    assert.equal(mgr.closed, true);
    assert.ok(logged.some((l) => l.includes("FATAL") && l.includes("out of bounds")), "logged");
    assert.throws(() => mgr.listen("http://127.0.0.1:0"), /Manager is dead/);
  } finally {
    console.error = orig;
    mgr.close();
  }
});
