// The examples of raw TCP, UDP, SNTP and worker wakeup, run as child
// processes the way a user runs them (`deno run --allow-net`, plus
// --allow-read for the worker's module) on free ports, against node:net,
// node:dgram, a node:dgram NTP responder and fetch. Servers must exit 0 on
// SIGTERM. Deno only: the examples are TypeScript, and Node 20 cannot run .ts
// files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const TIMEOUT_MS = 15_000;
const NTP_UNIX = 2208988800;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (deno.json) not found");
    dir = up;
  }
  return dir;
}

function skipReason(): string | undefined {
  if ((globalThis as { Deno?: unknown }).Deno === undefined) {
    return "the examples are TypeScript: run on Deno only (Node 20 cannot strip types)";
  }
  return undefined;
}

interface Run {
  /** The first match of `want` in the output. */
  match: RegExpExecArray;
  exit: Promise<{ code: number | null; signal: string | null }>;
  signal(sig: NodeJS.Signals): void;
  output(): string;
}

/** Runs `deno run <flags> examples/<name>.ts <args>`; resolves once `want` matches. */
async function runExample(
  name: string,
  flags: string[],
  args: string[],
  want: RegExp,
): Promise<Run> {
  const root = repoRoot();
  const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
  const proc = spawn(deno, ["run", ...flags, "--no-prompt", `examples/${name}.ts`, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  // process.kill, not ChildProcess.kill (see tests/examples_test.ts)
  const signal = (sig: NodeJS.Signals) => {
    if (!exited && proc.pid !== undefined) process.kill(proc.pid, sig);
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal("SIGKILL");
      reject(new Error(`${name}: ${want} not printed within ${TIMEOUT_MS} ms\n${out}`));
    }, TIMEOUT_MS);
    const onData = (s: string) => {
      out += s;
      const m = want.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    proc.stdout?.setEncoding("utf8");
    proc.stderr?.setEncoding("utf8");
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      const m = want.exec(out);
      if (m !== null) resolve(m);
      else reject(new Error(`${name} exited (code ${code}, signal ${signal})\n${out}`));
    });
  });
  return { match, exit, signal, output: () => out };
}

async function stop(run: Run, name: string): Promise<void> {
  run.signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), TIMEOUT_MS)));
  const r = await Promise.race([run.exit, late]);
  clearTimeout(timer);
  if (r === "late") {
    run.signal("SIGKILL");
    await run.exit;
    assert.fail(`${name} did not exit within ${TIMEOUT_MS} ms of SIGTERM\n${run.output()}`);
  }
  assert.deepEqual(r, { code: 0, signal: null }, `${name} exit status\n${run.output()}`);
}

test("examples/tcp_echo.ts echoes node:net clients; SIGTERM exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample(
    "tcp_echo",
    ["--allow-net"],
    ["--listen", "tcp://127.0.0.1:0"],
    /tcp:\/\/127\.0\.0\.1:(\d+)/,
  );
  try {
    const port = Number(run.match[1]);
    const data = Buffer.alloc(200000, 0).map((_, i) => (i * 13) & 255);
    const back = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const s = net.connect({ host: "127.0.0.1", port }, () => s.write(data));
      s.on("data", (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (n >= data.length) s.end();
      });
      s.on("error", reject);
      s.on("close", () => resolve(Buffer.concat(chunks)));
    });
    assert.ok(back.equals(data));
  } finally {
    await stop(run, "tcp_echo");
  }
});

test("examples/udp_echo.ts echoes node:dgram datagrams one by one; SIGTERM exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample(
    "udp_echo",
    ["--allow-net"],
    ["--listen", "udp://127.0.0.1:0"],
    /udp:\/\/127\.0\.0\.1:(\d+)/,
  );
  const sock = dgram.createSocket("udp4");
  try {
    const port = Number(run.match[1]);
    const got: string[] = [];
    sock.on("message", (m: Buffer) => got.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
    for (const s of ["one", "two two", "three three three"]) sock.send(s, port, "127.0.0.1");
    const end = Date.now() + TIMEOUT_MS;
    while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got.sort(), ["one", "three three three", "two two"]);
  } finally {
    sock.close();
    await stop(run, "udp_echo");
  }
});

test("examples/sntp_client.ts prints the time of an NTP server and exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  // A node:dgram NTP server whose clock is 2001-09-09T01:46:40Z
  const server = dgram.createSocket("udp4");
  const fixed = 1_000_000_000_000;
  server.on("message", (req: Buffer, r: dgram.RemoteInfo) => {
    const out = Buffer.alloc(48);
    out[0] = 0x24;
    out[1] = 1;
    req.copy(out, 24, 40, 48);
    out.writeUInt32BE(fixed / 1000 + NTP_UNIX, 32);
    out.writeUInt32BE(fixed / 1000 + NTP_UNIX, 40);
    server.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
  try {
    const url = `udp://127.0.0.1:${server.address().port}`;
    const run = await runExample(
      "sntp_client",
      ["--allow-net"],
      [url],
      /SNTP time from \S+: (\S+)/,
    );
    const r = await run.exit;
    assert.deepEqual(r, { code: 0, signal: null }, run.output());
    // T2 = T3 = the fixed time: the round trip adds at most a few ms
    const ms = Date.parse(run.match[1]);
    assert.ok(ms >= fixed && ms < fixed + 2000, run.match[1]);
  } finally {
    server.close();
  }
});

test("examples/worker_wakeup.ts answers /fib through a Worker; SIGTERM exits 0", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample(
    "worker_wakeup",
    ["--allow-net", "--allow-read"],
    ["--listen", "http://127.0.0.1:0"],
    /http:\/\/(127\.0\.0\.1:\d+)\//,
  );
  try {
    const base = `http://${run.match[1]}`;
    const res = await Promise.all([25, 10, 30].map((n) => fetch(`${base}/fib?n=${n}`)));
    const bodies = await Promise.all(res.map((r) => r.json()));
    assert.deepEqual(bodies, [{ n: 25, fib: 75025 }, { n: 10, fib: 55 }, { n: 30, fib: 832040 }]);
    const nf = await fetch(`${base}/other`);
    assert.equal(nf.status, 404);
    await nf.body?.cancel();
  } finally {
    await stop(run, "worker_wakeup");
  }
});
