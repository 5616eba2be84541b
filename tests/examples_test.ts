// The examples, run as child processes the way a user runs them (Deno,
// `run --allow-net`) on a free port, against the `ws` client: the echo comes
// back, two broadcast ticks arrive, and SIGTERM ends them with exit code 0.
// Deno only: the examples are TypeScript, and Node 20 cannot run .ts files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import WS from "ws";

const TIMEOUT_MS = 10_000;

/** The repository root: the nearest directory above this file with deno.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (deno.json) not found");
    dir = up;
  }
  return dir;
}

/** Why the examples cannot run here, or undefined. */
function skipReason(): string | undefined {
  if ((globalThis as { Deno?: unknown }).Deno === undefined) {
    return "the examples are TypeScript: run on Deno only (Node 20 cannot strip types)";
  }
  return undefined;
}

interface Example {
  /**
   * Sends `sig` to the example's process (ours only), unless it has exited.
   * process.kill, not ChildProcess.kill: after ChildProcess.kill, Deno's
   * node:child_process reports the signal as the cause of exit even when the
   * process exited with a code, and ignores a second kill.
   */
  signal(sig: NodeJS.Signals): void;
  /** The first URL the example printed. */
  url: string;
  exit: Promise<{ code: number | null; signal: string | null }>;
  output(): string;
}

/** Starts `examples/<name>.ts` on port 0; resolves once it printed its URL. */
async function startExample(name: string): Promise<Example> {
  const root = repoRoot();
  const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
  const proc = spawn(deno, [
    "run",
    "--allow-net",
    "--no-prompt",
    `examples/${name}.ts`,
    "--listen",
    "http://127.0.0.1:0",
  ], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (!exited && proc.pid !== undefined) process.kill(proc.pid, sig);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal("SIGKILL");
      reject(new Error(`${name}: no URL printed within ${TIMEOUT_MS} ms\n${out}`));
    }, TIMEOUT_MS);
    const onData = (s: string) => {
      out += s;
      const m = /\b(?:ws|http):\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    proc.stdout?.setEncoding("utf8");
    proc.stderr?.setEncoding("utf8");
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (s: string) => {
      out += s;
    });
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`${name} exited (code ${code}, signal ${signal}) before printing a URL\n${out}`),
      );
    });
  });
  return { url, exit, signal, output: () => out };
}

/** SIGTERM, then the exit code must be 0; SIGKILL if it does not exit in time. */
async function stopExample(ex: Example, name: string): Promise<void> {
  ex.signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), TIMEOUT_MS);
  });
  const r = await Promise.race([ex.exit, late]);
  clearTimeout(timer);
  if (r === "late") {
    ex.signal("SIGKILL");
    await ex.exit;
    assert.fail(`${name} did not exit within ${TIMEOUT_MS} ms of SIGTERM\n${ex.output()}`);
  }
  assert.deepEqual(r, { code: 0, signal: null }, `${name} exit status\n${ex.output()}`);
}

/** Opens a `ws` client; collects its messages. */
async function connect(url: string): Promise<{ ws: WS; next: () => Promise<WS.RawData> }> {
  const ws = new WS(url);
  const queue: WS.RawData[] = [];
  const waiters: Array<(d: WS.RawData) => void> = [];
  ws.on("message", (d) => {
    const w = waiters.shift();
    if (w !== undefined) w(d);
    else queue.push(d);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = () => {
    const d = queue.shift();
    if (d !== undefined) return Promise.resolve(d);
    return new Promise<WS.RawData>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timeout waiting for a message")), TIMEOUT_MS);
      waiters.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
    });
  };
  return { ws, next };
}

async function closeWs(ws: WS): Promise<void> {
  if (ws.readyState === WS.CLOSED) return;
  const closed = new Promise<void>((r) => ws.once("close", () => r()));
  ws.close(1000);
  await closed;
}

function asBuffer(d: WS.RawData): Buffer {
  return Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as ArrayBuffer);
}

test("examples/ws_echo.ts echoes text and binary; SIGTERM exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const ex = await startExample("ws_echo");
  try {
    assert.match(ex.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const { ws, next } = await connect(ex.url);
    ws.send("héllo €");
    assert.equal(asBuffer(await next()).toString("utf8"), "héllo €");
    const bin = new Uint8Array(70000).map((_, i) => (i * 7) & 255);
    ws.send(bin);
    assert.deepEqual(new Uint8Array(asBuffer(await next())), bin);
    await closeWs(ws);
  } finally {
    await stopExample(ex, "ws_echo");
  }
});

test("examples/ws_broadcast.ts serves its page and pushes ticks; SIGTERM exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const ex = await startExample("ws_broadcast");
  try {
    assert.match(ex.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(ex.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /new WebSocket/);
    const { ws, next } = await connect(ex.url.replace(/^http/, "ws") + "ws");
    const ticks: number[] = [];
    for (let i = 0; i < 2; i++) {
      const s = asBuffer(await next()).toString("utf8");
      const ms = Date.parse(s);
      assert.ok(Number.isFinite(ms), `a timestamp: ${JSON.stringify(s)}`);
      ticks.push(ms);
    }
    assert.ok(ticks[1] > ticks[0], `ticks increase: ${ticks}`);
    await closeWs(ws);
  } finally {
    await stopExample(ex, "ws_broadcast");
  }
});
